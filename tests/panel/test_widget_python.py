"""The panel's Python side with a fake comm: traits and custom messages for each action, replies
from the IFrame handled, and no secret in any synced trait or in get_state()."""

from __future__ import annotations

import json
import sys
import types

import pytest

from cocalc_magic.panel import CoCalcPanel, open_view
from cocalc_magic.panel import texts
from tests.panel.fakes import API_KEY, FakeClient, FramingCheck, NotFound, Recorder, from_browser, set_from_browser

PID0 = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(params=["conat", "v1"])
def cc(request):
    return FakeClient(api=request.param)


@pytest.fixture
def panel(cc, monkeypatch):
    w = CoCalcPanel(client=cc)
    w.rec = Recorder(w, monkeypatch)
    from_browser(w, {"kind": "hello", "view": "a"})  # the browser drew it
    return w


def state_text(w) -> str:
    return json.dumps(w.get_state(), default=str)


def assert_no_secrets(w, cc):
    """Neither the key nor any token minted so far is in the state or in any trait update sent."""
    blobs = [state_text(w), json.dumps(w.rec.updates(), default=str), repr(w), w._describe()]
    for secret in [API_KEY, *cc.tokens]:
        for blob in blobs:
            assert secret not in blob


def test_projects_newest_first_with_status_line(panel, cc):
    assert [p["title"] for p in panel.projects] == ["Project 0", "Project 1", "Project 2"]
    first = panel.projects[0]
    assert first == {
        "project_id": PID0, "title": "Project 0", "description": "desc 0", "state": "opened",
        "last_edited": "2026-11-26T12:00:00Z",
    }
    assert panel.status_line == "3 recent projects on http://127.0.0.1:5999."
    assert panel.host == "http://127.0.0.1:5999" and panel.api == cc.api
    assert ("projects", False) in cc.calls


def test_show_all_switch_from_browser_refetches(panel, cc):
    set_from_browser(panel, show_all=True)
    assert ("projects", True) in cc.calls
    assert len(panel.projects) == 5
    assert panel.status_line == "5 projects on http://127.0.0.1:5999."
    assert [u for u in panel.rec.updates() if "projects" in u][-1]["projects"][-1]["title"] == "Project 4"


def test_refresh_message_refetches(panel, cc):
    n = cc.calls.count(("projects", False))
    from_browser(panel, {"kind": "refresh", "view": "a"})
    assert cc.calls.count(("projects", False)) == n + 1


def test_select_project_lists_notebooks_first_and_navigates(panel):
    from_browser(panel, {"kind": "select", "project_id": PID0, "path": "", "view": "a"})
    assert panel.project_id == PID0 and panel.project_title == "Project 0" and panel.cwd == ""
    assert [(f["name"], f["isdir"], f["notebook"]) for f in panel.files] == [
        ("Alpha.ipynb", False, True), ("analysis.ipynb", False, True), ("data", True, False), ("zeta.txt", False, False),
    ]
    assert panel.status_line == "Project 0: 4 item(s)."
    from_browser(panel, {"kind": "select", "project_id": PID0, "path": "data", "view": "a"})
    assert panel.cwd == "data" and [f["name"] for f in panel.files] == ["inner.ipynb"]
    assert panel.status_line == "Project 0/data: 1 item(s)."


def test_listing_error_goes_to_status_line(panel):
    from_browser(panel, {"kind": "select", "project_id": PID0, "path": "nope", "view": "a"})
    assert panel.status_line == "no such folder 'nope' in project Project 0: check the path"


def test_open_from_browser_sends_token_only_in_custom_message(panel, cc):
    from_browser(panel, {"kind": "open", "project_id": PID0, "path": "analysis.ipynb", "view": "a"})
    (msg,) = panel.rec.custom("embed")
    kiosk = f"http://127.0.0.1:5999/projects/{PID0}/files/analysis.ipynb?fullscreen=kiosk&session="
    token = cc.tokens[-1]
    assert msg["kiosk_url"] == kiosk and msg["origin"] == "http://127.0.0.1:5999" and msg["api"] == cc.api
    if cc.api == "v1":
        assert msg["signin_url"] == kiosk + f"&auth_token={token}"
    else:
        assert msg["signin_url"] == f"http://127.0.0.1:5999/auth/impersonate?auth_token={token}"
    assert panel.opened == {
        "project_id": PID0, "path": "analysis.ipynb", "title": "Project 0", "view": "live", "kiosk_url": kiosk,
        "new_tab_url": "", "origin": "http://127.0.0.1:5999", "api": cc.api,  # that new-tab URL holds a token
    }
    assert panel.status_line == "Loading analysis.ipynb in CoCalc's kiosk mode …"
    assert ("project", PID0) not in cc.calls  # a click needs no lookup (the row came from the listing)
    assert_no_secrets(panel, cc)


def test_fresh_token_for_each_open(panel, cc):
    panel.open(PID0, "analysis.ipynb")
    panel.open(PID0, "data/inner.ipynb")
    a, b = panel.rec.custom("embed")
    assert len(cc.tokens) == 2 and cc.tokens[0] != cc.tokens[1]
    assert cc.tokens[0] in a["signin_url"] and cc.tokens[1] in b["signin_url"]
    assert_no_secrets(panel, cc)


def test_open_by_title_checks_the_path(panel, cc):
    panel.open("Project 1", "missing.ipynb")
    assert panel.rec.custom("embed") == []
    assert panel.status_line == "There is no missing.ipynb in project Project 1: check the path (CoCalc would create an empty file)."
    panel.open("Project 1", "/data/inner.ipynb")
    (msg,) = panel.rec.custom("embed")
    assert msg["path"] == "data/inner.ipynb" and msg["project_id"].endswith("000000000001")


def test_open_without_token(panel, cc):
    panel.open(PID0, "analysis.ipynb", token=False)
    (msg,) = panel.rec.custom("embed")
    assert msg["signin_url"] is None and msg["new_tab_url"] == msg["kiosk_url"]
    assert cc.tokens == []


def test_token_error_is_explained(panel, cc):
    cc.token_error = "an auth token for another account needs its password"
    panel.open(PID0, "analysis.ipynb")
    (msg,) = panel.rec.custom("embed")
    assert msg["signin_url"] is None
    assert panel.status_line.endswith("Not signing in: an auth token for another account needs its password")


def test_bad_inputs_say_what_to_do(panel):
    panel.open(PID0, "")
    assert panel.status_line.startswith("Give a file path inside the project")
    panel.open("No such project", "a.ipynb")
    assert panel.status_line == "no project 'No such project': use a project id, its exact title or a unique prefix"
    panel.open(None, "a.ipynb")
    assert panel.status_line == "no default project: set COCALC_PROJECT_ID or run %cocalc use PROJECT"
    assert panel.rec.custom("embed") == []


def test_framing_forbidden_offers_new_tab_instead(panel, cc):
    cc.framing = FramingCheck(False, "Content-Security-Policy frame-ancestors 'self'")
    panel.open(PID0, "analysis.ipynb")
    assert panel.rec.custom("embed") == []
    (msg,) = panel.rec.custom("blocked")
    assert panel.status_line == (
        "CoCalc does not allow embedding here (Content-Security-Policy frame-ancestors 'self'). Use “Open in new tab”."
    )
    assert msg["reason"] == panel.status_line and cc.tokens[-1] in msg["new_tab_url"]
    assert panel.opened == {}
    assert_no_secrets(panel, cc)


def test_client_error_is_one_line_not_a_traceback(panel, cc):
    cc.embed_error = NotFound("project is gone\n  (really)", hint="")
    from_browser(panel, {"kind": "open", "project_id": PID0, "path": "a.ipynb", "view": "a"})
    assert panel.status_line == "project is gone (really)"
    cc.embed_error = KeyError("boom")
    panel.open(PID0, "analysis.ipynb")
    assert panel.status_line == "KeyError: 'boom'"


def test_client_from_settings_failure_shows_in_status_line(monkeypatch):
    mod = types.ModuleType("cocalc_magic.client")

    class CoCalc:
        def __init__(self):
            raise RuntimeError("no API key: run %cocalc login or set COCALC_API_KEY")

    mod.CoCalc = CoCalc
    monkeypatch.setitem(sys.modules, "cocalc_magic.client", mod)
    w = CoCalcPanel()
    assert w.status_line == "RuntimeError: no API key: run %cocalc login or set COCALC_API_KEY"
    assert w.projects == []
    w.open(PID0, "a.ipynb")  # still no exception
    assert w.status_line.startswith("RuntimeError: no API key")


def test_protocol_methods_send_posts(panel):
    panel.status()
    panel.closeall()
    panel.post({"action": "foo"})
    assert panel.rec.custom("post") == [
        {"kind": "post", "data": {"action": "status"}},
        {"kind": "post", "data": {"action": "closeall"}},
        {"kind": "post", "data": {"action": "foo"}},
    ]


def test_replies_are_recorded_and_called_back(panel):
    seen = []

    @panel.on_reply
    def cb(reply):
        seen.append(reply)

    status0 = {"status": "done", "connection": {"quality": "good", "status": "connected", "status_time": None, "ping": None}, "open_files": {}}
    from_browser(panel, {"kind": "reply", "view": "a", "data": status0, "poll": True})
    assert panel.status_line == "CoCalc status: no open files (connection: connected)."  # nothing opened yet
    panel.open(PID0, "analysis.ipynb")
    from_browser(panel, {"kind": "reply", "view": "a", "data": status0, "poll": True})
    assert panel.status_line == "CoCalc is ready; opening analysis.ipynb …"
    ack = {"status": "ack", "action": "open", "path": "analysis.ipynb", "project_id": PID0}
    from_browser(panel, {"kind": "reply", "view": "a", "data": ack})
    assert panel.status_line == "CoCalc is opening analysis.ipynb …"
    done = dict(ack, status="done")
    from_browser(panel, {"kind": "reply", "view": "a", "data": done})
    assert panel.status_line == "Opened analysis.ipynb."
    snap = {"status": "done", "connection": {"quality": "good", "status": "connected"}, "open_files": {PID0: ["analysis.ipynb"]}}
    from_browser(panel, {"kind": "reply", "view": "a", "data": snap})
    assert panel.status_line == "CoCalc status: 1 open file(s): analysis.ipynb (connection: connected)."
    closed = {"status": "done", "mesg": "all files are closed"}
    from_browser(panel, {"kind": "reply", "view": "a", "data": closed})
    assert panel.status_line == "CoCalc: all files are closed."
    err = {"status": "error", "mesg": "Unknown action 'foo'"}
    from_browser(panel, {"kind": "reply", "view": "a", "data": err})
    assert panel.status_line == "CoCalc error: Unknown action 'foo'"
    assert panel.replies == [status0, status0, ack, done, snap, closed, err] == seen


def test_failing_callback_is_reported_not_raised(panel):
    panel.on_reply(lambda r: 1 / 0)
    from_browser(panel, {"kind": "reply", "view": "a", "data": {"status": "done", "mesg": "all files are closed"}})
    assert panel.status_line == "on_reply callback failed: ZeroDivisionError: division by zero"
    assert len(panel.replies) == 1


def test_only_the_newest_view_relays(panel):
    from_browser(panel, {"kind": "hello", "view": "old"})
    from_browser(panel, {"kind": "hello", "view": "new"})
    reply = {"status": "done", "mesg": "all files are closed"}
    from_browser(panel, {"kind": "reply", "view": "old", "data": reply})
    from_browser(panel, {"kind": "reply", "view": "new", "data": reply})
    assert panel.replies == [reply]
    from_browser(panel, {"kind": "bye", "view": "new"})
    from_browser(panel, {"kind": "reply", "view": "old", "data": reply})
    assert panel.replies == [reply, reply]


def test_browser_timeouts_explained(panel):
    from_browser(panel, {"kind": "event", "view": "a", "event": "no_status", "seconds": 18,
                         "parent_origin": "http://127.0.0.1:8888", "path": "a.ipynb"})
    assert panel.status_line == (
        "CoCalc's IFrame protocol did not answer after 18 s: it talks only to https pages without a port on hosts "
        "in its iframe_comm_hosts setting, and this page is http://127.0.0.1:8888. Use “Open in new tab”."
    )
    from_browser(panel, {"kind": "event", "view": "a", "event": "no_ack", "seconds": 10, "path": "a.ipynb"})
    assert panel.status_line == (
        "CoCalc answered but did not open a.ipynb after 10 s: the frame is signed out or this account cannot "
        "access the project. Use “Open in new tab” to sign in."
    )
    from_browser(panel, {"kind": "event", "view": "a", "event": "no_frame"})
    assert panel.status_line.startswith("Nothing is embedded yet")


def test_garbage_from_browser_is_ignored(panel):
    from_browser(panel, {"kind": "reply", "view": "a", "data": "hello"})
    assert panel.replies == [{"status": "error", "mesg": "unexpected reply 'hello'"}]
    panel._on_custom_msg(panel, "not a dict", [])
    from_browser(panel, {"kind": "nonsense"})


def test_text_fallback_without_widgets(panel):
    panel.open(PID0, "analysis.ipynb")
    data, _meta = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    text = data["text/plain"]
    assert text.splitlines()[0] == f"CoCalc panel for http://127.0.0.1:5999 ({panel.api})"
    assert "3 project(s), newest first:" in text and f"  Project 0  [opened]  2026-11-26T12:00:00Z  {PID0}" in text
    assert f"Open: analysis.ipynb  (http://127.0.0.1:5999/projects/{PID0}/files/analysis.ipynb?fullscreen=kiosk&session=)" in text
    assert repr(panel).startswith("CoCalcPanel(host=http://127.0.0.1:5999; 3 projects; open: analysis.ipynb")


def test_open_view_is_a_single_file_view(cc, monkeypatch):
    sent = []
    monkeypatch.setattr("comm.base_comm.BaseComm.send", lambda self, data=None, buffers=None, **kw: sent.append(data), raising=False)
    customs = lambda: [m["content"] for m in sent if m and m.get("method") == "custom"]  # noqa: E731
    v = open_view(cc, "Project 2", "analysis.ipynb", height=450)
    assert v.mode == "view" and v.height == 450 and v.projects == []
    assert not any(c[0] == "projects" for c in cc.calls)
    assert v.opened["path"] == "analysis.ipynb" and v.opened["project_id"].endswith("000000000002")
    assert customs() == []  # no view yet: the embed waits (in memory, not in a trait) for the first one
    assert cc.tokens[-1] not in state_text(v)
    from_browser(v, {"kind": "hello", "view": "v1"})
    (first,) = customs()
    assert first["kind"] == "embed" and first["for_view"] == "v1" and cc.tokens[0] in first["signin_url"]
    from_browser(v, {"kind": "hello", "view": "v2"})  # displayed again: that view gets a fresh token
    second = customs()[-1]
    assert second["for_view"] == "v2" and len(cc.tokens) == 2 and cc.tokens[1] in second["signin_url"]
    assert all(t not in state_text(v) for t in cc.tokens)


def test_open_view_without_token_and_blocked(cc, monkeypatch):
    v = open_view(cc, "Project 2", "analysis.ipynb", token=False)
    rec = Recorder(v, monkeypatch)
    from_browser(v, {"kind": "hello", "view": "v1"})
    (msg,) = rec.custom("embed")
    assert msg["signin_url"] is None and cc.tokens == []
    cc.framing = FramingCheck(False, "X-Frame-Options: DENY")
    b = open_view(cc, "Project 2", "analysis.ipynb")
    rec = Recorder(b, monkeypatch)
    from_browser(b, {"kind": "hello", "view": "v1"})
    (msg,) = rec.custom("blocked")
    assert msg["reason"] == "CoCalc does not allow embedding here (X-Frame-Options: DENY). Use “Open in new tab”."


def test_esm_and_css_ship_with_the_package(panel):
    state = panel.get_state()
    assert "export default" in state["_esm"] and "postMessage" in state["_esm"]
    assert ".ccp-root" in state["_css"]
    assert '"allow"' not in state["_esm"] and "allowfullscreen" not in state["_esm"].lower()


def test_reply_texts_for_odd_shapes():
    assert texts.reply_text({"status": "error"}) == "CoCalc error: no message"
    assert texts.reply_text({"status": "done", "action": "open", "path": "x"}) == "Opened x."
    assert texts.reply_text([1]) == "CoCalc replied: [1]"
