"""``%%cocalc_run`` of ``1+1``, side by side in one process, on loopback against the local server:

* ``raw``         a bare ``requests.Session`` POST of exactly the body the magic sends (the floor:
                  the project's ``system.jupyterExecute`` on conat, ``/api/v2/jupyter/execute`` on v1),
* ``magic``       ``%%cocalc_run --fresh`` in a real InteractiveShell (outputs re-published),
* ``cocalc_api``  the official client's ``Project.system.jupyter_execute`` (conat only), when installed,
                  as it is (its cell runs in the kernel's temp dir: one kernel call) and with
                  ``path=""`` (``api_in_home``: the home, as the magic's cells; CoCalc then makes a
                  chdir call first, as the magic's set-up cell does),

interleaved round by round in a shuffled order. Each call takes a fresh kernel from the server's
pool (CoCalc's stateless API), so the rounds are paced (``--pause``) to let the pool warm its next
kernels, as between a user's cells; otherwise every implementation would wait for kernel starts.
Median per-call time and the ratio to raw (goal: magic within 10%; on conat, not slower than
cocalc_api).

Run:  python benchmarks/run.py [--rounds 12] [--pause 4] [--api conat|v1]
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

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import requests  # noqa: E402

from cocalc_magic.client import CoCalc  # noqa: E402
from cocalc_magic.client.jupyter.runner import request  # noqa: E402
from cocalc_magic.server import LocalServer  # noqa: E402


def shell_with_magics(url: str, key: str, project_id: str):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    os.environ.update(COCALC_HOST=url, COCALC_API_KEY=key, COCALC_PROJECT_ID=project_id, COCALC_MAGIC_NO_AUTOLOAD="1")
    cfg = Config()
    cfg.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=cfg)
    ip.extension_manager.load_extension("cocalc_magic")
    return ip


def magic_call(ip):
    from IPython.utils.capture import capture_output

    def call():
        with capture_output() as cap:
            res = ip.run_cell("%%cocalc_run --fresh\n1+1")
        assert res.success and cap.outputs[0].data["text/plain"] == "2", (res, cap.stdout)
    return call


def raw_call(url: str, key: str, project_id: str, api: str, backend):
    s = requests.Session()
    s.headers["Authorization"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    s.headers["Content-Type"] = "application/json"

    def call():
        opts, _token, _limit, wait = request(backend.jupyter_limits, "1+1")
        if api == "v1":
            body = {**{k: opts[k] for k in ("input", "kernel", "history", "path") if k in opts},
                    "project_id": project_id, "noCache": True}
            out = s.post(url + "/api/v2/jupyter/execute", data=json.dumps(body), timeout=wait).json()["output"]
        else:
            body = {"name": "system.jupyterExecute", "args": [opts], "project_id": project_id,
                    "timeout": int(wait * 1000)}
            out = s.post(url + "/api/conat/project", data=json.dumps(body), timeout=wait + 5).json()
        assert out == [{"data": {"text/plain": "2"}}], out
    return call


def official_call(url: str, key: str, project_id: str):
    try:
        from cocalc_api import Project
    except ImportError:
        return None
    project = Project(api_key=key, host=url, project_id=project_id)

    def call():
        assert project.system.jupyter_execute(input="1+1", kernel="python3") == [{"data": {"text/plain": "2"}}]

    def in_home():  # the same working directory as the magic's (CoCalc's own chdir call for `path`)
        assert project.system.jupyter_execute(input="1+1", kernel="python3", path="") == [
            {"data": {"text/plain": "2"}}]
    return call, in_home


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--pause", type=float, default=4.0, help="seconds between calls (the pool warms a kernel)")
    ap.add_argument("--api", default="conat", choices=["conat", "v1"])
    args = ap.parse_args()
    with LocalServer(api=args.api) as srv:
        cc = CoCalc(host=srv.url, api_key=srv.api_key, api=args.api)
        p = cc.create_project("bench run", start=True)
        impls = {"raw": raw_call(srv.url, srv.api_key, p.project_id, args.api, cc._b),
                 "magic": magic_call(shell_with_magics(srv.url, srv.api_key, p.project_id))}
        if args.api == "conat" and (official := official_call(srv.url, srv.api_key, p.project_id)):
            impls["cocalc_api"], impls["api_in_home"] = official
        for fn in impls.values():  # warm up every path (connections, imports, the pool)
            for _ in range(2):
                fn()
                time.sleep(args.pause)
        times: dict[str, list[float]] = {k: [] for k in impls}
        rng = random.Random(42)
        for _ in range(args.rounds):
            order = list(impls.items())
            rng.shuffle(order)
            for name, fn in order:
                time.sleep(args.pause)
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    base = statistics.median(times["raw"])
    print(f"%%cocalc_run of 1+1 on the local server ({args.api}), {args.rounds} rounds, "
          f"{args.pause:g} s apart, median per call:")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:<11} {med * 1000:8.1f} ms   x{med / base:.2f} of raw")
    if "cocalc_api" in times:
        for other in ("cocalc_api", "api_in_home"):
            print(f"  magic / {other}: x{statistics.median(times['magic']) / statistics.median(times[other]):.2f}")


if __name__ == "__main__":
    main()
