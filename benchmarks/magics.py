"""What the magics cost, measured side by side against a baseline, reported as ratios.

1. Loading: the time ``%load_ext cocalc_magic`` adds to a fresh ``ipython -c`` start, next to the
   time ``import requests`` adds to the same start (goal: loading adds less than requests does).
   Wall-clock medians of interleaved runs, plus the in-process cost of each measured inside one
   fresh interpreter (less noisy).
2. Per call: ``%cocalc ping`` against ``CoCalc.ping()`` on a local server, interleaved, for each API
   generation (goal: under 10% overhead per call).

Run: ``python benchmarks/magics.py [--rounds N] [--calls N] [--per-call-only]`` from the repository
root. The machine may be shared: run it several times and compare medians, not single runs.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _env(ipydir: str) -> dict[str, str]:
    # Byte-code is written and reused, as after `pip install` (which compiles): otherwise every
    # start would compile the sources again and time the compiler.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCALC_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(COCALC_MAGIC_NO_AUTOLOAD="1", IPYTHONDIR=ipydir,
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    return env


def startup(rounds: int) -> dict[str, float]:
    codes = {"baseline": "pass", "load_ext": "%load_ext cocalc_magic", "requests": "import requests"}
    times: dict[str, list[float]] = {k: [] for k in codes}
    with tempfile.TemporaryDirectory() as ipydir:
        env = _env(ipydir)
        cmd = [sys.executable, "-m", "IPython", "--no-banner", "--HistoryManager.enabled=False", "-c"]
        for code in codes.values():  # warm the OS caches and write the byte-code once
            subprocess.run(cmd + [code], env=env, cwd=ROOT, check=True, capture_output=True)
        for _ in range(rounds):
            for name, code in codes.items():
                t0 = time.perf_counter()
                subprocess.run(cmd + [code], env=env, cwd=ROOT, check=True, capture_output=True)
                times[name].append(time.perf_counter() - t0)
        inproc = subprocess.run([sys.executable, "-c", _INPROC], env=env, cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout.split()
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "ipython_start_s": med["baseline"],
        "load_ext_adds_s": med["load_ext"] - med["baseline"],
        "requests_adds_s": med["requests"] - med["baseline"],
        "inproc_load_ext_s": float(inproc[0]),
        "inproc_import_requests_s": float(inproc[1]),
    }


# One fresh interpreter: time load_extension on a ready shell, then (cold) import requests.
_INPROC = """
import time
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
t0 = time.perf_counter(); ip.extension_manager.load_extension("cocalc_magic"); t1 = time.perf_counter()
import sys; assert "requests" not in sys.modules
t2 = time.perf_counter(); import requests; t3 = time.perf_counter()
print(t1 - t0, t3 - t2)
"""


class ServerProcess:
    """``cocalc-magic serve`` in its own process, as a real server would be (no shared GIL)."""

    def __init__(self, api: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "cocalc_magic.cli", "serve", "--api", api],
                                     cwd=ROOT, stdout=subprocess.PIPE, text=True, env=_env(tempfile.gettempdir()))
        vals = {}
        while len(vals) < 2:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the server did not start")
            if "=" in line and not line.startswith("#"):
                k, v = line.strip().split("=", 1)
                vals[k] = v
        self.url, self.api_key = vals["COCALC_HOST"], vals["COCALC_API_KEY"]

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def per_call(api: str, calls: int) -> dict[str, float]:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from cocalc_magic import CoCalc

    with tempfile.TemporaryDirectory() as home, ServerProcess(api) as srv:
        os.environ.update(COCALC_HOST=srv.url, COCALC_API_KEY=srv.api_key, XDG_CONFIG_HOME=home)
        cfg = Config()
        cfg.HistoryManager.hist_file = ":memory:"
        ip = InteractiveShell.instance(config=cfg)
        ip.extension_manager.load_extension("cocalc_magic")
        run_magic = ip.run_line_magic
        cc = CoCalc(host=srv.url, api_key=srv.api_key, api=api)
        sink = io.StringIO()

        def magic() -> None:  # a small caller, like a notebook cell
            run_magic("cocalc", "ping")

        def client() -> None:
            cc.ping()

        ip.register_magic_function(lambda line: None, "line", "bench_noop")

        def noop() -> None:  # what IPython itself costs to call any line magic
            run_magic("bench_noop", "ping")

        with redirect_stdout(sink):
            for _ in range(20):  # warm up both (connections, detection, imports)
                cc.ping()
                magic()
            times: dict = {client: [], magic: [], noop: []}
            for i in range(calls):
                order = (client, magic, noop) if i % 2 else (noop, magic, client)  # alternate the order
                for f in order:
                    t0 = time.perf_counter()
                    f()
                    times[f].append(time.perf_counter() - t0)
                sink.seek(0)
                sink.truncate()
        ip.extension_manager.unload_extension("cocalc_magic")
        InteractiveShell.clear_instance()
        cc.close()
    c, m, n = (statistics.median(times[f]) for f in (client, magic, noop))
    return {"client_ping_s": c, "magic_ping_s": m, "overhead": m / c - 1, "ipython_dispatch_s": n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15, help="fresh ipython starts per variant")
    ap.add_argument("--calls", type=int, default=300, help="pings per variant and API generation")
    ap.add_argument("--per-call-only", action="store_true", help="skip the loading measurements")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    if not args.per_call_only:
        print_startup(args.rounds)
    print_per_call(args.calls)


def print_startup(rounds: int) -> None:
    s = startup(rounds)
    print(f"Loading ({rounds} interleaved fresh `ipython -c` starts each; medians)")
    print(f"  ipython -c start                 {s['ipython_start_s'] * 1000:8.1f} ms")
    print(f"  + %load_ext cocalc_magic adds    {s['load_ext_adds_s'] * 1000:8.1f} ms")
    print(f"  + import requests adds           {s['requests_adds_s'] * 1000:8.1f} ms")
    if s["requests_adds_s"] > 0:
        print(f"  ratio load_ext / requests        {s['load_ext_adds_s'] / s['requests_adds_s']:8.2f}")
    print("  in one fresh interpreter:")
    print(f"    load_extension                 {s['inproc_load_ext_s'] * 1000:8.2f} ms")
    print(f"    import requests (cold)         {s['inproc_import_requests_s'] * 1000:8.2f} ms")
    print(f"    ratio                          {s['inproc_load_ext_s'] / s['inproc_import_requests_s']:8.3f}")
    print()


def print_per_call(calls: int) -> None:
    print(f"Per call ({calls} interleaved pings each; medians)")
    extras = []
    for api in ("v1", "conat"):
        r = per_call(api, calls)
        extra = r["magic_ping_s"] - r["client_ping_s"]
        extras.append(extra)
        print(f"  {api:<8} CoCalc.ping() {r['client_ping_s'] * 1000:7.2f} ms   %cocalc ping "
              f"{r['magic_ping_s'] * 1000:7.2f} ms   overhead {r['overhead'] * 100:+6.1f}% "
              f"({extra * 1e6:.0f} us, of which IPython's dispatch of any line magic "
              f"{r['ipython_dispatch_s'] * 1e6:.0f} us)")
    print(f"  (loopback is the worst case: against a server 50 ms away the same overhead is "
          f"~{max(extras) / 0.050 * 100:.2f}%)")


if __name__ == "__main__":
    main()
