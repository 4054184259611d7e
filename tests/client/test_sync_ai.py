"""On cocalc.ai a sync needs the key's ``project:exec`` capability on the project (the project
bridge refuses every call without it): a key that lacks it is told so, in one line."""

from __future__ import annotations

import pytest

from cocalc_magic import errors as E
from cocalc_magic.client import CoCalc

pytestmark = pytest.mark.parametrize("cocalc_server", ["ai"], indirect=True)


def test_a_key_without_exec_is_told_which_capability_it_lacks(cocalc_server, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    key = cocalc_server.create_key(["account:read", "project:read", "project:list", "file:read", "file:write"])
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("a\n")
    cc = CoCalc(host=cocalc_server.url, api_key=key)
    p = cc.project(cocalc_server.project_id)
    with pytest.raises(E.PermissionDenied) as info:
        p.sync(tmp_path / "data", "data", progress=False)
    err = info.value
    assert err.capability == "project:exec" and err.project_id == cocalc_server.project_id
    text = str(err)
    assert text.startswith("sync needs 'project:exec'")
    assert "\n" not in text and "try again" not in text.lower() and key not in text
    assert not list((tmp_path / "cache").rglob("*.json"))  # nothing recorded


def test_a_capability_refused_halfway_stops_the_run_and_names_it(cocalc_server, tmp_path, monkeypatch):
    """cocalc.ai may check file capabilities on writes too (the local server checks project:exec
    only): a refusal of one write names the capability and stops the run, keeping what finished."""
    from cocalc_magic.client import Project

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("a\n")
    cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key)
    p = cc.project(cocalc_server.project_id)
    refused = E.PermissionDenied("API key lacks required capability 'file:write' for project x",
                                 capability="file:write", project_id=cocalc_server.project_id)

    def write(self, path, content):
        raise refused

    monkeypatch.setattr(Project, "write", write)
    with pytest.raises(E.PermissionDenied) as info:
        p.sync(data, "refused", progress=False)
    assert str(info.value).startswith("sync needs 'file:write' (0 of 1 transfers done)")
    assert info.value.capability == "file:write" and "\n" not in str(info.value)
