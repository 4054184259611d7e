"""The larger fuzz run of issue 13: N requests per generation against a fresh local server, first
with credentials that must change nothing (the database is compared before and after), then with
real keys and a cookie. Prints the counts of answers >= 500, tracebacks, hangs and their causes.

The request generator is tests/server/fuzz.py (the suite runs a few thousand of the same kind).

Run:  python benchmarks/fuzz.py [--requests 20000] [--api v1 conat ai] [--seed 13] [--workers 8]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "server")]

import fuzz  # noqa: E402

from cocalc_magic.server import LocalServer  # noqa: E402


class _Count(logging.Handler):
    """Counts the server's logged errors (tracebacks in its log) instead of printing them."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.n = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.n += 1


LOGGED = _Count()
for _name in ("tornado.application", "tornado.general", "cocalc_magic"):
    logging.getLogger(_name).addHandler(LOGGED)
    logging.getLogger(_name).propagate = False


def one(api: str, count: int, seed: int, workers: int) -> None:
    with tempfile.TemporaryDirectory() as data, LocalServer(data_dir=data, api=api, start_delay=0) as srv:
        bad, good = fuzz.credentials(srv)
        before = fuzz.snapshot(srv.ctx.store)
        for n, (label, creds) in enumerate((("bad credentials", bad), ("real credentials", good))):
            LOGGED.n = 0
            report = fuzz.run(srv.url, fuzz.plan(srv, count // 2, seed + n, creds), workers=workers)
            changed = ""
            if creds is bad:
                after = fuzz.snapshot(srv.ctx.store)
                diff = [t for t in set(before) | set(after) if before.get(t) != after.get(t)]
                changed = f"; database {'changed: ' + ', '.join(sorted(diff)) if diff else 'unchanged'}"
            print(f"{api:5} {label:16} {report.summary()}; {LOGGED.n} errors logged{changed}", flush=True)
            for n, cause in fuzz.causes(report, 12):
                print(f"      {n:5} {cause}")
            for method, path in report.hangs[:5]:
                print(f"      hang: {method} {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=20_000, help="per generation (half bad, half real credentials)")
    ap.add_argument("--api", nargs="+", default=["v1", "conat", "ai"])
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args()
    for api in args.api:
        one(api, args.requests, args.seed, args.workers)


if __name__ == "__main__":
    main()
