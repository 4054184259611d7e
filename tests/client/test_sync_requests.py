"""A sync with nothing to do is cheap: the project side is listed and hashed by one command, so
1,000 unchanged files cost a handful of HTTP requests (the transport's own call counter)."""

from __future__ import annotations

import pytest

from cocalc_magic.client import CoCalc

from .sync_helpers import GENERATIONS, Side

pytestmark = pytest.mark.parametrize("cocalc_server", GENERATIONS, indirect=True)


def test_1000_unchanged_files_take_at_most_5_requests(side: Side, cocalc_server):
    for i in range(1000):
        side.put(f"d{i % 10}/f{i:04}.txt", f"file {i}\n")
    first = side.sync(workers=8)
    assert len(first.uploaded) == 1000 and not first.errors
    # a fresh client, as in a new notebook session: generation detection and project lookup included
    cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key, timeout=30)
    p = cc.project(side.p.project_id)
    r = p.sync(side.local, side.remote, progress=False)
    assert not r.changed and not r.skipped
    assert cc._transport.calls <= 5, cc._transport.calls
    cc.close()
