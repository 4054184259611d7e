"""The panel's Python side against a real LocalServer through the real client, all three generations
(fake comm, no browser): what it lists, what it sends, that the token it sends signs in, and that
a server forbidding framing gets the one-line explanation instead of an embed."""

from __future__ import annotations

import json
import re

import pytest
import requests

from cocalc_magic import CoCalc
from cocalc_magic.panel import CoCalcPanel, open_view
from cocalc_magic.server import LocalServer
from tests.panel.fakes import Recorder, from_browser

GENERATIONS = pytest.mark.parametrize("cocalc_server", ["v1", "conat"], indirect=True)


def _panel(srv, monkeypatch, **kw):
    cc = CoCalc(host=srv.url, api_key=srv.api_key)
    w = CoCalcPanel(client=cc, **kw)
    w.rec = Recorder(w, monkeypatch)
    from_browser(w, {"kind": "hello", "view": "v"})
    return cc, w


@GENERATIONS
def test_lists_selects_and_embeds_with_a_working_token(cocalc_server, monkeypatch):
    srv = cocalc_server
    store = srv.ctx.store
    pid = store.create_project(srv.account_id, "Panel live test", "")
    store.home(pid).joinpath("sub").mkdir(parents=True, exist_ok=True)
    store.home(pid).joinpath("nb.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    store.home(pid).joinpath("a.txt").write_text("x")
    cc, w = _panel(srv, monkeypatch)
    assert w.api == srv.api and w.host == srv.url
    assert w.projects[0]["project_id"] == pid and w.projects[0]["title"] == "Panel live test"  # newest first

    from_browser(w, {"kind": "select", "project_id": pid, "path": "", "view": "v"})
    assert [(f["name"], f["isdir"]) for f in w.files] == [("nb.ipynb", False), ("sub", True), ("a.txt", False)]

    from_browser(w, {"kind": "open", "project_id": pid, "path": "nb.ipynb", "view": "v"})
    (msg,) = w.rec.custom("embed")
    kiosk = f"{srv.url}/projects/{pid}/files/nb.ipynb?fullscreen=kiosk&session="
    assert msg["kiosk_url"] == kiosk and msg["origin"] == srv.url and msg["api"] == srv.api
    token = re.search(r"auth_token=([A-Za-z0-9]+)", msg["signin_url"]).group(1)
    if srv.api == "v1":
        assert msg["signin_url"] == f"{kiosk}&auth_token={token}"
    else:
        assert msg["signin_url"] == f"{srv.url}/auth/impersonate?auth_token={token}"
    # the token signs a fresh browser in: the page sets the remember_me cookie
    r = requests.get(msg["signin_url"], allow_redirects=False, timeout=10)
    assert r.status_code == 200 and "remember_me" in r.cookies
    state = json.dumps(w.get_state(), default=str)
    assert token not in state and srv.api_key not in state and token not in repr(w)
    assert w.opened["kiosk_url"] == kiosk


@pytest.mark.parametrize("cocalc_server", ["v1", "conat", "ai"], indirect=True)
def test_open_checks_the_path_first(cocalc_server, monkeypatch):
    srv = cocalc_server
    if srv.api == "ai":  # a key there may use only its allowed projects: the server's first one
        pid, title = srv.project_id, srv.ctx.store.project(srv.project_id)["title"]
    else:
        pid, title = srv.ctx.store.create_project(srv.account_id, "Panel path check", ""), "Panel path check"
    cc, w = _panel(srv, monkeypatch, fetch=False)
    call = w.open(pid, "missing.ipynb")
    assert w.status_line == f"There is no missing.ipynb in project {title}: check the path (CoCalc would create an empty file)."
    assert w.rec.custom("embed") == [] and w.rec.custom("rendered") == []
    assert call.done and call.text == w.status_line


@pytest.mark.parametrize("api", ["v1", "conat"])
def test_framing_forbidden_is_said_before_trying(api, tmp_path, monkeypatch):
    with LocalServer(data_dir=tmp_path, api=api, demo=True, start_delay=0.05, frame_ancestors="'none'") as srv:
        pid = srv.ctx.store.projects_of(srv.account_id)[0]["project_id"]
        cc = CoCalc(host=srv.url, api_key=srv.api_key)
        v = open_view(cc, pid, "analysis.ipynb", token=False)
        rec = Recorder(v, monkeypatch)
        from_browser(v, {"kind": "hello", "view": "v"})
        assert rec.custom("embed") == []
        (msg,) = rec.custom("blocked")
        assert v.status_line == msg["reason"]
        assert v.status_line.startswith("CoCalc does not allow embedding here (the server forbids framing")
        assert v.status_line.endswith("Use “Open in new tab”.")
        assert v.opened == {}


def test_unreachable_server_is_one_line(monkeypatch):
    cc = CoCalc(host="http://127.0.0.1:9", api_key="sk-nothing-here-000000", api="conat", timeout=2)
    w = CoCalcPanel(client=cc)
    assert w.projects == [] and w.status_line and "\n" not in w.status_line
    assert "Traceback" not in w.status_line and "sk-nothing-here-000000" not in w.status_line


def test_ai_read_only_view_needs_no_framing(tmp_path, monkeypatch):
    """A server that forbids framing blocks the kiosk, not the read-only view (it frames nothing)."""
    with LocalServer(data_dir=tmp_path, api="ai", start_delay=0.05, frame_ancestors="'none'") as srv:
        srv.ctx.store.home(srv.project_id).joinpath("x.md").write_text("# framed-nowhere-4c1")
        v = open_view(CoCalc(host=srv.url, api_key=srv.api_key), srv.project_id, "x.md")
        rec = Recorder(v, monkeypatch)
        from_browser(v, {"kind": "hello", "view": "v"})
        assert rec.custom("blocked") == [] and rec.custom("embed") == []
        (msg,) = rec.custom("rendered")
        page = next(bytes(m["buffers"][0]).decode() for m in rec.sent
                    if m and m.get("method") == "custom" and m["content"].get("kind") == "rendered")
        assert "framed-nowhere-4c1" in page and msg["path"] == "x.md"
