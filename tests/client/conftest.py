"""Fixtures of the client tests: a local folder and a project folder for the sync tests."""

from __future__ import annotations

import uuid

import pytest

from cocalc_magic.client import CoCalc

from .sync_helpers import Side


@pytest.fixture
def side(cocalc_server, tmp_path, monkeypatch) -> Side:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key, timeout=30)
    pid = getattr(cocalc_server, "project_id", None)
    p = cc.project(pid) if pid else cc.create_project(f"sync-test-{uuid.uuid4().hex[:6]}")
    local = tmp_path / "here"
    local.mkdir()
    yield Side(p, local, f"sync-{uuid.uuid4().hex[:8]}", cache)
    cc.close()


# every capability a cocalc.ai key can have (api-key-scope.ts)
ALL_CAPABILITIES = ["account:read", "project:create", "project:list", "project:read", "project:write", "file:read",
                    "file:write", "project:exec", "codex:run"]


def usable(server, project):
    """``project``, made usable by the server's key: on cocalc.ai a project a key creates is not in
    its allowed list, and the user adds it in Account → API keys (``edit_key`` does the same)."""
    if server.api == "ai":
        server.edit_key(add_projects=[project.project_id])
    return project
