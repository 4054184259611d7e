"""The kiosk page's postMessage bridge in a real Chromium: a parent page on a loopback origin
embeds the kiosk page in an IFrame and talks CoCalc's protocol (facts §6, real-iframe-protocol.md).
"""

from __future__ import annotations

import json
import time

import pytest

from cocalc_magic.server import LocalServer

PARENT_HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>parent</title></head><body>
<iframe id="kiosk" style="width:900px;height:600px"></iframe>
<script>
window.__log = [];
var frame = document.getElementById("kiosk");
window.addEventListener("message", function (e) {
  window.__log.push({origin: e.origin, fromFrame: e.source === frame.contentWindow, data: e.data});
});
window.loadKiosk = function (src) { window.kioskOrigin = new URL(src).origin; frame.src = src; };
window.send = function (data) { frame.contentWindow.postMessage(data, window.kioskOrigin); };
var src = new URLSearchParams(location.search).get("src");
if (src) window.loadKiosk(src);
</script></body></html>"""

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# Embedded\n\nrendered *markdown*"},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": "print('hello from the iframe test')",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "hello from the iframe test\n"}]},
    ],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}


@pytest.fixture
def parent_dir(tmp_path):
    d = tmp_path / "parent"
    d.mkdir()
    (d / "index.html").write_text(PARENT_HTML)
    return d


def make_site(srv):
    store = srv.ctx.store
    n = time.time_ns()
    account_id = store.create_account(f"kiosk-{n}@example.com", "pw-kiosk-1", "Kiosk", "User")
    project_id = store.create_project(account_id, f"Kiosk {n}")
    home = store.home(project_id)
    (home / "hello").mkdir()
    (home / "hello" / "demo.ipynb").write_text(json.dumps(NOTEBOOK))
    (home / "hello" / "notes.md").write_text("# Notes\nsome notes\n")
    other = store.create_project(srv.account_id, f"Not theirs {n}")  # the user is not on it
    token = store.create_auth_token(account_id, srv.account_id, 3600)
    return {"account_id": account_id, "project_id": project_id, "other_project": other, "token": token,
            "kiosk_url": f"{srv.url}/projects/{project_id}/files/hello/demo.ipynb?fullscreen=kiosk&session="}


def messages(page, include_log=False):
    """Everything the parent received from the iframe, in order."""
    log = page.evaluate("window.__log")
    out = [m for m in log if m["fromFrame"]]
    if not include_log:
        out = [m for m in out if not (isinstance(m["data"], dict) and m["data"].get("source") == "cocalc-project-log")]
    return [m["data"] for m in out]


def wait_count(page, n, timeout=10.0):
    """Wait until at least ``n`` protocol replies arrived; returns them."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = messages(page)
        if len(got) >= n:
            return got
        page.wait_for_timeout(50)
    raise AssertionError(f"expected {n} replies within {timeout}s, got {messages(page)}")


def send(page, data, expect=1, timeout=10.0):
    """Send one message and return the replies it caused (``expect`` of them)."""
    before = len(messages(page))
    page.evaluate("d => window.send(d)", data)
    return wait_count(page, before + expect, timeout)[before:]


def handshake(page, timeout=15.0):
    """Poll ``status`` every 0.3 s until the first reply, as the panel does."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        page.evaluate("window.send({action: 'status'})")
        page.wait_for_timeout(300)
        got = [m for m in messages(page) if isinstance(m, dict) and "status" in m]
        if got:
            return got[0]
    raise AssertionError("no status reply")


def kiosk_frame(page):
    return page.main_frame.child_frames[0]


def assert_silent(page, frame, seconds=2.0, sent=1):
    """No reply at all, although the messages did reach the iframe's listener."""
    page.wait_for_timeout(int(seconds * 1000))
    assert messages(page, include_log=True) == []
    state = frame.evaluate("window.__cocalcKiosk")
    assert state["ready"] is True and state["received"] >= sent and state["replies"] == 0


@pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)
def test_current_protocol_end_to_end(cocalc_server, page, parent_dir, serve_static):
    site = make_site(cocalc_server)
    pid = site["project_id"]
    parent = serve_static(parent_dir)
    # sign in inside the iframe the way current CoCalc needs: /auth/impersonate, then the kiosk URL
    page.goto(f"{parent}/index.html?src={cocalc_server.url}/auth/impersonate?auth_token={site['token']}")
    frame_url_deadline = time.time() + 10
    while not kiosk_frame(page).url.endswith("/app") and time.time() < frame_url_deadline:
        page.wait_for_timeout(50)
    assert kiosk_frame(page).url == f"{cocalc_server.url}/app"
    page.evaluate("src => window.loadKiosk(src)", site["kiosk_url"])
    page.wait_for_timeout(100)
    first = handshake(page)
    assert first["status"] == "done" and first["open_files"] == {}
    assert first["connection"]["quality"] == "good" and first["connection"]["status"] in ("connecting", "connected")
    assert set(first["connection"]) == {"quality", "status", "status_time", "ping"}

    frame = kiosk_frame(page)
    # the startup race: the URL's file did not open by itself
    assert frame.locator("#cocalc-kiosk-banner").is_visible()
    assert frame.locator(".cocalc-cell").count() == 0
    frame.evaluate("window.__sameDocument = 'yes'")

    page.evaluate("window.__log = []")
    replies = send(page, {"action": "open", "project_id": pid, "path": "hello/demo.ipynb"}, expect=2)
    assert replies == [
        {"status": "ack", "action": "open", "path": "hello/demo.ipynb", "project_id": pid},
        {"status": "done", "action": "open", "path": "hello/demo.ipynb", "project_id": pid},
    ]
    frame.locator(".cocalc-cell").first.wait_for()
    assert frame.locator(".cocalc-cell").count() == 2 and frame.locator(".cocalc-output").count() == 1
    assert "hello from the iframe test" in frame.locator(".cocalc-output").inner_text()
    assert not frame.locator("#cocalc-kiosk-banner").is_visible()
    # the project-log broadcast ("*"), between ack and done, plus its follow-up
    page.wait_for_timeout(200)
    everything = messages(page, include_log=True)
    log = [m for m in everything if isinstance(m, dict) and m.get("source") == "cocalc-project-log"]
    assert everything.index(log[0]) == 1
    entry = log[0]["payload"]["project_log"]
    assert entry["event"] == {"event": "open", "action": "open", "filename": "hello/demo.ipynb",
                              "deleted": None, "compute_server_id": 0}
    assert entry["project_id"] == pid and len(entry["id"]) == 36 and hasattr(entry["time"], "year")
    assert log[1]["payload"]["project_log"]["id"] == entry["id"] and "time" in log[1]["payload"]["project_log"]["event"]

    status = send(page, {"action": "status"})[0]
    assert status["open_files"] == {pid: ["hello/demo.ipynb"]}
    assert status["connection"]["status"] == "connected"

    replies = send(page, {"action": "open", "project_id": pid, "path": "hello/notes.md"}, expect=2)
    assert [r["status"] for r in replies] == ["ack", "done"]
    frame.locator("pre.cocalc-text").wait_for()
    assert "some notes" in frame.locator("#cocalc-file").inner_text()
    assert frame.evaluate("window.__sameDocument") == "yes"  # switched without a reload
    assert send(page, {"action": "status"})[0]["open_files"] == {pid: ["hello/demo.ipynb", "hello/notes.md"]}

    assert send(page, {"action": "closeall"}) == [{"status": "done", "mesg": "all files are closed"}]
    assert frame.locator("#cocalc-kiosk-banner").is_visible()
    assert send(page, {"action": "status"})[0]["open_files"] == {}

    # errors, with CoCalc's exact texts
    assert send(page, {"action": "foo"}) == [{"status": "error", "mesg": "Unknown action 'foo'"}]
    assert send(page, {}) == [{"status": "error", "mesg": "Unknown action 'undefined'"}]
    assert send(page, None) == [{"status": "error", "mesg": 'There is no payload "data"'}]
    assert send(page, "hello") == [{"status": "error", "mesg": 'The payload "data" must be an object'}]
    assert send(page, {"action": "open", "project_id": "not-a-uuid", "path": "x.md"}) == [
        {"status": "error", "mesg": "invalid project_id='not-a-uuid'"}]
    assert send(page, {"action": "open", "project_id": pid}) == [
        {"status": "error", "mesg": "invalid path, it must be a string"}]

    # a project the user is not on: no reply at all (CoCalc hangs in open_project)
    page.evaluate("window.__log = []")
    page.evaluate("d => window.send(d)", {"action": "open", "project_id": site["other_project"], "path": "a.md"})
    page.wait_for_timeout(1500)
    assert messages(page, include_log=True) == []


@pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)
def test_signed_out_kiosk_answers_status_but_never_open(cocalc_server, page, parent_dir, serve_static):
    site = make_site(cocalc_server)
    parent = serve_static(parent_dir)
    # ?auth_token= on the kiosk URL is ignored by the current generation
    page.goto(f"{parent}/index.html?src=" + site["kiosk_url"].replace("&", "%26") + "%26auth_token=" + site["token"])
    first = handshake(page)
    assert first["status"] == "done" and first["open_files"] == {}
    frame = kiosk_frame(page)
    assert frame.locator("form#sign-in").is_visible()
    page.evaluate("window.__log = []")
    page.evaluate("d => window.send(d)", {"action": "open", "project_id": site["project_id"], "path": "hello/demo.ipynb"})
    page.wait_for_timeout(1500)
    assert messages(page, include_log=True) == []
    assert frame.locator(".cocalc-cell").count() == 0


@pytest.mark.parametrize("cocalc_server", ["v1"], indirect=True)
def test_v1_token_on_the_kiosk_url_opens_the_file_directly(cocalc_server, page, parent_dir, serve_static):
    site = make_site(cocalc_server)
    pid = site["project_id"]
    parent = serve_static(parent_dir)
    page.goto(f"{parent}/index.html?src=" + site["kiosk_url"].replace("&", "%26") + "%26auth_token=" + site["token"])
    first = handshake(page)
    assert first["open_files"] == {pid: ["hello/demo.ipynb"]}
    frame = kiosk_frame(page)
    assert frame.locator(".cocalc-cell").count() == 2
    # era 1 removes auth_token from the address and keeps the rest
    assert frame.evaluate("location.search") == "?fullscreen=kiosk&session="
    log = [m for m in messages(page, include_log=True) if isinstance(m, dict) and m.get("source") == "cocalc-project-log"]
    assert log and log[0]["payload"]["project_log"]["event"]["filename"] == "hello/demo.ipynb"
    replies = send(page, {"action": "open", "project_id": pid, "path": "hello/notes.md"}, expect=2)
    assert [r["status"] for r in replies] == ["ack", "done"]
    assert send(page, {"action": "closeall"}) == [{"status": "done", "mesg": "all files are closed"}]


@pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)
def test_parent_on_a_disallowed_origin_gets_no_reply(cocalc_server, page, parent_dir, serve_static):
    """127.0.0.2 is loopback but not an allowed development host, and not in iframe_comm_hosts."""
    site = make_site(cocalc_server)
    try:
        parent = serve_static(parent_dir, host="127.0.0.2")
    except OSError as exc:  # pragma: no cover - every Linux routes 127/8 to lo
        pytest.skip(f"cannot bind 127.0.0.2: {exc}")
    page.goto(f"{parent}/index.html?src={site['kiosk_url'].replace('&', '%26')}")
    kiosk_frame(page).wait_for_load_state()
    for data in ({"action": "status"}, None, {"action": "foo"}, {"action": "closeall"}):
        page.evaluate("d => window.send(d)", data)
    assert_silent(page, kiosk_frame(page), seconds=2.0, sent=4)


def test_http_parent_without_the_development_option_gets_no_reply(tmp_path, page, parent_dir, serve_static):
    """CoCalc refuses every http:// parent; only allow_http_parents lets loopback ones through."""
    with LocalServer(data_dir=tmp_path / "srv", api="conat", iframe_comm_hosts="127.0.0.1 localhost") as srv:
        site = make_site(srv)
        parent = serve_static(parent_dir)
        page.goto(f"{parent}/index.html?src={site['kiosk_url'].replace('&', '%26')}")
        kiosk_frame(page).wait_for_load_state()
        for data in ({"action": "status"}, None, {"action": "foo"}):
            page.evaluate("d => window.send(d)", data)
        assert_silent(page, kiosk_frame(page), seconds=2.0, sent=3)
