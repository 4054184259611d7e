"""Client overhead, side by side in one process, on loopback against the local server.

For ping, read, write and exec (on conat the official client runs too; ai, cocalc.ai's generation,
uses the same bridges with an sk-cc-v2 key):

* ``raw``       a bare ``requests.Session`` POST of the same JSON body (the floor),
* ``cocalc_magic`` this client (``cc.ping()``, ``p.read()``, ``p.write()``, ``p.exec()``),
* ``cocalc_api``  the official client (``Hub``/``Project`` over httpx), when installed,

interleaved round by round so that drift hits all of them alike; median per-call time and the
ratio to raw. Then a bulk run: 1,000 writes with 8 workers through ``cc.map`` against a raw
thread pool sharing one ``requests.Session``. First, what detecting the generation costs: the
requests of a first ``cc.ping()`` with ``api="auto"`` against an explicit ``api=`` (goal: none
more for an sk-cc-v2 key, one more for the others).

Run:  python benchmarks/client.py [--rounds 300] [--bulk 1000] [--workers 8] [--api conat|v1|ai]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402

from cocalc_magic.client import CoCalc  # noqa: E402
from cocalc_magic.server import LocalServer  # noqa: E402


def raw_session(key: str, pool: int = 16) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    s.headers["Content-Type"] = "application/json"
    adapter = HTTPAdapter(pool_maxsize=pool)
    s.mount("http://", adapter)
    return s


def raw_call(s: requests.Session, url: str, body: dict) -> object:
    r = s.post(url, data=json.dumps(body))
    r.raise_for_status()
    data = r.json()
    if isinstance(data, dict) and data.get("error"):
        raise RuntimeError(data["error"])
    return data


def v1_raw_call(s: requests.Session, url: str, body: dict) -> object:
    r = s.post(url, data=json.dumps(body))
    data = r.json()
    if r.status_code != 200 or data.get("event") == "error":
        raise RuntimeError(data.get("error"))
    return data


def measure(ops: dict[str, dict[str, callable]], rounds: int) -> dict[str, dict[str, list[float]]]:
    times: dict[str, dict[str, list[float]]] = {op: {impl: [] for impl in impls} for op, impls in ops.items()}
    for impls in ops.values():  # warm up every path (connections, caches)
        for fn in impls.values():
            for _ in range(5):
                fn()
    rng = random.Random(42)
    for _ in range(rounds):
        for op, impls in ops.items():
            order = list(impls.items())
            rng.shuffle(order)  # no implementation always goes first
            for impl, fn in order:
                t0 = time.perf_counter()
                fn()
                times[op][impl].append(time.perf_counter() - t0)
    return times


def detection_cost(host: str, key: str, api: str) -> str:
    """Extra requests of a first call with api="auto" against the generation given, for a first
    ping (conat's probe answer carries the server time, so it can stand for the ping) and a first
    projects() (the probe is then one request more)."""
    out = []
    for name, first in (("ping", lambda c: c.ping()), ("projects", lambda c: c.projects())):
        calls = {}
        for which in ("auto", api):
            c = CoCalc(host=host, api_key=key, api=which)
            first(c)
            calls[which] = c._transport.calls
            c.close()
        out.append(f"first {name}: {calls['auto'] - calls[api]}")
    return ", ".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--bulk", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--bulk-repeats", type=int, default=4)
    ap.add_argument("--api", choices=["conat", "v1", "ai"], default="conat")
    args = ap.parse_args()

    with LocalServer(api=args.api, start_delay=0.05) as srv:
        key, host = srv.api_key, srv.url
        print(f"detection on first use ({args.api}), extra requests: {detection_cost(host, key, args.api)}")
        cc = CoCalc(host=host, api_key=key, api=args.api)
        if args.api == "ai":  # a project the key creates is not in its allowed list: the key's own project
            p = cc.project(srv.project_id)
            p.start()
        else:
            p = cc.create_project("benchmark", start=True)
        pid = p.project_id
        p.write("bench/read.txt", "hello world\n" * 10)
        content = "x" * 1000
        s = raw_session(key)

        if args.api in ("conat", "ai"):
            hub, proj = f"{host}/api/conat/hub", f"{host}/api/conat/project"
            raw = {
                # the same bodies this client sends (bridge timeout, exec timeout, err_on_exit)
                "ping": lambda: raw_call(s, hub, {"name": "system.ping", "args": [], "timeout": 30000}),
                "read": lambda: raw_call(s, proj, {"name": "system.readTextFileFromProject", "project_id": pid,
                                                  "args": [{"path": "bench/read.txt"}], "timeout": 30000}),
                "write": lambda: raw_call(s, proj, {"name": "system.writeTextFileToProject", "project_id": pid,
                                                   "args": [{"path": "bench/w.txt", "content": content}],
                                                   "timeout": 30000}),
                "exec": lambda: raw_call(s, proj, {"name": "system.exec", "project_id": pid, "timeout": 70000,
                                                  "args": [{"command": "echo", "args": ["hi"], "timeout": 60,
                                                            "err_on_exit": False}]}),
            }
        else:
            v1 = f"{host}/api/v1/"
            raw = {
                "ping": lambda: v1_raw_call(s, v1 + "ping", {}),
                "read": lambda: v1_raw_call(s, v1 + "read_text_file_from_project",
                                            {"project_id": pid, "path": "bench/read.txt"}),
                "write": lambda: v1_raw_call(s, v1 + "write_text_file_to_project",
                                             {"project_id": pid, "path": "bench/w.txt", "content": content}),
                "exec": lambda: v1_raw_call(s, v1 + "project_exec", {"project_id": pid, "command": "echo",
                                                                    "args": ["hi"], "timeout": 60,
                                                                    "err_on_exit": False}),
            }
        ours = {
            "ping": cc.ping,
            "read": lambda: p.read("bench/read.txt"),
            "write": lambda: p.write("bench/w.txt", content),
            "exec": lambda: p.exec("echo", "hi"),
        }
        ops: dict[str, dict[str, callable]] = {op: {"raw": raw[op], "cocalc_magic": ours[op]} for op in raw}
        official = None
        if args.api == "conat":
            try:
                import cocalc_api

                h = cocalc_api.Hub(api_key=key, host=host)
                op_ = cocalc_api.Project(api_key=key, host=host, project_id=pid)
                official = {
                    "ping": lambda: h.system.ping(),
                    "read": lambda: op_.call("system.readTextFileFromProject", [{"path": "bench/read.txt"}]),
                    "write": lambda: op_.call("system.writeTextFileToProject",
                                              [{"path": "bench/w.txt", "content": content}]),
                    "exec": lambda: op_.system.exec("echo", args=["hi"]),
                }
                for op in ops:
                    ops[op]["cocalc_api"] = official[op]
            except ImportError:
                print("cocalc_api not installed: skipping the official client")

        print(f"per-call times, {args.rounds} interleaved rounds, {args.api} generation, loopback ({host})")
        times = measure(ops, args.rounds)
        impls = list(next(iter(ops.values())).keys())
        header = f"{'op':<6}" + "".join(f"{i + ' ms':>18}" for i in impls) + "".join(
            f"{i + '/raw':>18}" for i in impls if i != "raw")
        print(header)
        for op, by_impl in times.items():
            med = {i: statistics.median(v) * 1000 for i, v in by_impl.items()}
            line = f"{op:<6}" + "".join(f"{med[i]:>18.3f}" for i in impls)
            line += "".join(f"{med[i] / med['raw']:>18.3f}" for i in impls if i != "raw")
            print(line)

        # ---------------------------------------------------------------- bulk
        n, w = args.bulk, args.workers
        bulk_session = raw_session(key, pool=w + 2)
        if args.api in ("conat", "ai"):
            def raw_write(i: int) -> None:
                raw_call(bulk_session, f"{host}/api/conat/project",
                         {"name": "system.writeTextFileToProject", "project_id": pid,
                          "args": [{"path": f"bulk/raw-{i}.txt", "content": f"{i}\n"}]})
        else:
            def raw_write(i: int) -> None:
                v1_raw_call(bulk_session, f"{host}/api/v1/write_text_file_to_project",
                            {"project_id": pid, "path": f"bulk/raw-{i}.txt", "content": f"{i}\n"})

        def ours_write(i: int) -> None:
            p.write(f"bulk/ours-{i}.txt", f"{i}\n")

        results: dict[str, list[float]] = {"raw": [], "cocalc_magic": []}
        for rep in range(args.bulk_repeats):  # alternate, so drift hits both alike
            for label in (("raw", "cocalc_magic") if rep % 2 == 0 else ("cocalc_magic", "raw")):
                t0 = time.perf_counter()
                if label == "raw":
                    with ThreadPoolExecutor(max_workers=w) as pool:
                        list(pool.map(raw_write, range(n)))
                else:
                    res = cc.map(ours_write, range(n), workers=w, progress=False)
                    assert not res.errors, res.summary()
                results[label].append(time.perf_counter() - t0)
        raw_med, ours_med = statistics.median(results["raw"]), statistics.median(results["cocalc_magic"])
        print(f"\nbulk: {n} writes, {w} workers, {args.bulk_repeats} alternating runs each (median; best)")
        print(f"  raw thread pool  {raw_med:7.2f} s  {n / raw_med:8.1f} writes/s;  best {n / min(results['raw']):8.1f}")
        print(f"  cc.map           {ours_med:7.2f} s  {n / ours_med:8.1f} writes/s;  best "
              f"{n / min(results['cocalc_magic']):8.1f}")
        print(f"  throughput ratio (cc.map / raw): median {raw_med / ours_med:.3f}, "
              f"best {min(results['raw']) / min(results['cocalc_magic']):.3f}")
        ok = p.exec("ls bulk | wc -l", bash=True).stdout.strip()
        print(f"  files written: {ok} (expected {2 * n})")  # both write the same names each run
        cc.close()


if __name__ == "__main__":
    main()
