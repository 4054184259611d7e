"""``p.sync`` against its baseline, side by side in one process, on loopback against the local server.

* first sync of N small files (default 1,000 in 10 folders) into an empty project folder, against
  the baseline: the same files pushed one by one with ``p.write`` through ``cc.map`` (same workers,
  same connection pool). Goal: the sync is not slower (ratio <= 1).
* the no-change run: the same folder synced again (listing and hashing both sides, one exec),
  with the HTTP requests it made.

The two first-time variants alternate round by round (each into a fresh folder) so drift hits
both alike; medians are reported.

Run:  python benchmarks/sync.py [--files 1000] [--rounds 5] [--workers 8] [--api conat|v1|ai]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cocalc_magic.client import CoCalc  # noqa: E402
from cocalc_magic.server import LocalServer  # noqa: E402


def make_files(root: Path, n: int) -> list[tuple[str, str]]:
    files = [(f"d{i % 10}/f{i:05}.txt", f"small file {i}\n" * 3) for i in range(n)]
    for rel, text in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--api", default="conat")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")  # the benchmark's own sync state
        local = Path(tmp) / "data"
        files = make_files(local, a.files)
        with LocalServer(api=a.api, data_dir=os.path.join(tmp, "server")) as srv:
            cc = CoCalc(host=srv.url, api_key=srv.api_key, api=a.api, timeout=60)
            pid = getattr(srv, "project_id", None)
            p = cc.project(pid) if pid else cc.create_project("sync benchmark")
            p.exec("true")  # started, and the client's pool warm
            sync_times: list[float] = []
            push_times: list[float] = []
            for i in range(a.rounds):
                order = ("sync", "push") if i % 2 == 0 else ("push", "sync")
                for what in order:
                    folder = f"bench-{what}-{uuid.uuid4().hex[:6]}"
                    started = time.perf_counter()
                    if what == "sync":
                        report = p.sync(local, folder, workers=a.workers, progress=False)
                        assert len(report.uploaded) == a.files and not report.errors, report
                        sync_times.append(time.perf_counter() - started)
                    else:
                        done = cc.map(lambda f, d=folder: p.write(f"{d}/{f[0]}", f[1]), files,
                                      workers=a.workers, progress=False)
                        done.raise_first()
                        push_times.append(time.perf_counter() - started)
            folder = f"bench-again-{uuid.uuid4().hex[:6]}"
            p.sync(local, folder, workers=a.workers, progress=False)
            again: list[float] = []
            calls: list[int] = []
            for _ in range(a.rounds):
                before = cc._transport.calls
                started = time.perf_counter()
                report = p.sync(local, folder, progress=False)
                again.append(time.perf_counter() - started)
                calls.append(cc._transport.calls - before)
                assert not report.changed, report
    s, b = statistics.median(sync_times), statistics.median(push_times)
    print(f"api={a.api} files={a.files} workers={a.workers} rounds={a.rounds}")
    print(f"first sync        median {s:7.3f} s   ({a.files / s:6.0f} files/s)")
    print(f"p.write + cc.map  median {b:7.3f} s   ({a.files / b:6.0f} files/s)")
    print(f"ratio sync / push        {s / b:7.2f}   (goal: <= 1)")
    print(f"no-change sync    median {statistics.median(again) * 1000:7.1f} ms, {max(calls)} HTTP requests")


if __name__ == "__main__":
    main()
