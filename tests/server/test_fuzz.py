"""A bounded fuzz run per generation (a few thousand requests on loopback, seconds): no answer of
500, no traceback in a body, no request left hanging, and credentials that are not valid change
nothing in the database. benchmarks/fuzz.py runs the same generator at 20,000 a generation."""

from __future__ import annotations

import logging

import pytest

import fuzz
from cocalc_magic.server import LocalServer


@pytest.fixture(params=["v1", "conat", "ai"])
def server(request, tmp_path):
    with LocalServer(data_dir=tmp_path, api=request.param, start_delay=0) as srv:
        yield srv


def _check(report: fuzz.Report, expected: int) -> None:
    assert report.sent == expected, report.summary()
    assert not report.server_errors, fuzz.causes(report)
    assert not report.tracebacks, report.tracebacks[:3]
    assert not report.hangs and not report.broken, (report.hangs[:3], report.broken[:3])


def test_fuzzed_requests_get_no_500_no_traceback_and_change_nothing(server, caplog):
    bad, good = fuzz.credentials(server)
    before = fuzz.snapshot(server.ctx.store)
    with caplog.at_level(logging.ERROR):
        report = fuzz.run(server.url, fuzz.plan(server, 1200, seed=1, creds=bad), timeout=20)
        _check(report, 1200)
        assert fuzz.snapshot(server.ctx.store) == before  # nobody got in, nothing was made
        report = fuzz.run(server.url, fuzz.plan(server, 800, seed=2, creds=good), timeout=20)
        _check(report, 800)
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert not tracebacks, [r.getMessage() for r in tracebacks[:3]]
