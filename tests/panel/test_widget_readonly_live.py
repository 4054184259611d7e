"""The read-only view against a real LocalServer through the real client (fake comm, no browser):
a key that cannot sign the kiosk in (conat with a non-admin key; ai) gets the file, read through
the API and rendered safely, and the one-line reason; an admin key still gets the live kiosk."""

from __future__ import annotations

import base64
import json
import secrets

import pytest

from cocalc_magic import CoCalc
from cocalc_magic.panel import CoCalcPanel
from tests.panel.fakes import Recorder, from_browser

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PLOT = json.dumps({
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# Sales plot"},
        {"cell_type": "code", "execution_count": 3, "metadata": {}, "source": "plt.plot(xs)",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "points-5e2a: 12\n"},
                     {"output_type": "display_data", "metadata": {},
                      "data": {"image/png": base64.b64encode(PNG).decode(), "text/plain": "<Figure>"}},
                     {"output_type": "display_data", "metadata": {},
                      "data": {"text/html": "<script>parent.document.title='owned-31c'</script><b>ok</b>"}}]},
    ],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
})


def non_admin(srv) -> tuple[str, str, str]:
    """A fresh non-admin account with a key and a project holding plot.ipynb: (account, key, project)."""
    store = srv.ctx.store
    account = store.create_account(f"u-{secrets.token_hex(4)}@example.com", "pw-" + secrets.token_hex(6), "Ann", "User")
    _, key = store.create_api_key(account, name="user key")
    pid = store.create_project(account, "Read-only view test", "")
    home = store.home(pid)
    home.joinpath("plot.ipynb").write_text(PLOT)
    home.joinpath("notes.md").write_text("# Notes\n\n*points-5e2a*")
    home.joinpath("fig.png").write_bytes(PNG)
    return account, key, pid


def rendered(rec) -> list[tuple[dict, str]]:
    return [(m["content"], bytes(m["buffers"][0]).decode()) for m in rec.sent
            if m and m.get("method") == "custom" and m["content"].get("kind") == "rendered"]


@pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)
def test_non_admin_key_on_conat_gets_the_file_read_only(cocalc_server, monkeypatch):
    srv = cocalc_server
    account, key, pid = non_admin(srv)
    w = CoCalcPanel(client=CoCalc(host=srv.url, api_key=key))
    rec = Recorder(w, monkeypatch)
    from_browser(w, {"kind": "hello", "view": "v", "origin": "http://127.0.0.1:8888"})
    call = w.open(pid, "plot.ipynb")
    ((msg, page),) = rendered(rec)
    assert rec.custom("embed") == []
    assert f"data:image/png;base64,{base64.b64encode(PNG).decode()}" in page and "points-5e2a: 12" in page
    assert "owned-31c" not in page and "<b>ok</b>" in page
    reason = f"the server refused a sign-in token for {account}: Error: incorrect password"  # as recorded
    assert w.status_line == (
        f"Read-only view of plot.ipynb: the embedded CoCalc cannot be signed in here ({reason}). "
        "Refresh re-reads the file; “Open in CoCalc” opens it in a new tab, where you sign in.")
    assert call.done and call.text == w.status_line == msg["notice"]
    assert msg["new_tab_url"] == f"{srv.url}/projects/{pid}/files/plot.ipynb"
    # a second file at once: the same reason, not the hub's 30 s ban for asking again
    w.open(pid, "notes.md")
    assert reason in w.status_line and "banned" not in w.status_line
    assert "<em>points-5e2a</em>" in rendered(rec)[-1][1]
    w.open(pid, "fig.png")
    assert base64.b64encode(PNG).decode() in rendered(rec)[-1][1]
    # Refresh reads the file again
    srv.ctx.store.home(pid).joinpath("fig.png").write_text("now text-77b")
    from_browser(w, {"kind": "reload", "view": "v"})
    assert "Could not read" not in w.status_line
    srv.ctx.store.home(pid).joinpath("notes.md").write_text("# Changed\n\nchanged-77b")
    w.open(pid, "notes.md")
    from_browser(w, {"kind": "reload", "view": "v"})
    assert "changed-77b" in rendered(rec)[-1][1]
    assert key not in json.dumps(w.get_state(), default=str)


@pytest.mark.parametrize("cocalc_server", ["conat", "v1"], indirect=True)
def test_admin_key_keeps_the_live_kiosk(cocalc_server, monkeypatch):
    srv = cocalc_server
    pid = srv.ctx.store.create_project(srv.account_id, "Live kiosk test", "")
    srv.ctx.store.home(pid).joinpath("a.ipynb").write_text(PLOT)
    w = CoCalcPanel(client=CoCalc(host=srv.url, api_key=srv.api_key), fetch=False)
    rec = Recorder(w, monkeypatch)
    from_browser(w, {"kind": "hello", "view": "v", "origin": "http://127.0.0.1:8888"})
    call = w.open(pid, "a.ipynb")
    (msg,) = rec.custom("embed")
    assert msg["signin_url"] and msg["signin_first"] is (srv.api == "conat")
    assert rendered(rec) == [] and w.opened["view"] == "live" and not call.done


@pytest.mark.parametrize("cocalc_server", ["ai"], indirect=True)
def test_ai_lists_selects_and_shows_the_file_read_only(cocalc_server, monkeypatch):
    """On cocalc.ai no key makes a sign-in token: the panel lists, selects and shows files read-only."""
    srv = cocalc_server
    # an account of its own: the session's shared admin account has more projects than the
    # list shows once other tests have made theirs
    account, key, pid = non_admin(srv)
    key = srv.create_key(projects=[pid], account_id=account)
    cc = CoCalc(host=srv.url, api_key=key)
    w = CoCalcPanel(client=cc)
    rec = Recorder(w, monkeypatch)
    from_browser(w, {"kind": "hello", "view": "v", "origin": "http://127.0.0.1:8888"})
    assert w.api == "ai" and [p["project_id"] for p in w.projects] == [pid]
    from_browser(w, {"kind": "select", "project_id": pid, "path": "", "view": "v"})
    assert "plot.ipynb" in [f["name"] for f in w.files]
    from_browser(w, {"kind": "open", "project_id": pid, "path": "plot.ipynb", "view": "v"})
    ((msg, page),) = rendered(rec)
    assert rec.custom("embed") == []
    assert f"data:image/png;base64,{base64.b64encode(PNG).decode()}" in page and "points-5e2a: 12" in page
    assert "owned-31c" not in page
    assert w.status_line.startswith("Read-only view of plot.ipynb: the embedded CoCalc cannot be signed in here (")
    assert "cocalc.ai" in w.status_line and "try again" not in w.status_line.lower()
    assert msg["new_tab_url"] == f"{srv.url}/projects/{pid}/files/plot.ipynb"
    w.open(pid, "fig.png")
    assert base64.b64encode(PNG).decode() in rendered(rec)[-1][1]
    call = w.status()
    assert call.done and call.text.startswith("Not sent: fig.png is shown read-only")
    assert key not in json.dumps(w.get_state(), default=str) and key not in repr(w)
