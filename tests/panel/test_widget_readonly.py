"""The panel where the kiosk cannot be signed in (fake client, fake comm): the file read through
the client and sent as one safe page in a message buffer, the one-line reason, Refresh, Close all,
and the reply views that protocol calls return (issue 12: replies where the user looks)."""

from __future__ import annotations

import html
import json

import pytest

from cocalc_magic.panel import CoCalcPanel
from cocalc_magic.panel.replies import Reply
from tests.panel.fakes import API_KEY, FakeClient, Recorder, from_browser

PID0 = "00000000-0000-4000-8000-000000000000"
NB = json.dumps({"cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "source": "print(6*7)",
                            "outputs": [{"output_type": "stream", "name": "stdout", "text": "answer-8d1f: 42\n"}]}],
                 "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture
def cc():
    c = FakeClient(api="conat")
    c.can_sign_in = False
    c.projects_obj[PID0].contents["analysis.ipynb"] = NB
    return c


@pytest.fixture
def panel(cc, monkeypatch):
    w = CoCalcPanel(client=cc)
    w.rec = Recorder(w, monkeypatch)
    from_browser(w, {"kind": "hello", "view": "a", "origin": "http://127.0.0.1:8888"})
    return w


def rendered(w) -> list[tuple[dict, str]]:
    """(message, page) for each read-only view sent to the browser."""
    out = []
    for m in w.rec.sent:
        if m and m.get("method") == "custom" and m["content"].get("kind") == "rendered":
            out.append((m["content"], bytes(m["buffers"][0]).decode("utf-8")))
    return out


def test_no_sign_in_shows_the_file_read_only(panel, cc):
    call = panel.open(PID0, "analysis.ipynb")
    ((msg, page),) = rendered(panel)
    assert panel.rec.custom("embed") == [] and cc.tokens == []
    assert "answer-8d1f: 42" in page and "Content-Security-Policy" in page
    assert msg["new_tab_url"] == f"{cc.host}/projects/{PID0}/files/analysis.ipynb"
    assert panel.status_line == (
        "Read-only view of analysis.ipynb: the embedded CoCalc cannot be signed in here (cocalc.ai does not allow "
        "API keys to make sign-in tokens). Refresh re-reads the file; “Open in CoCalc” opens it in a new tab, "
        "where you sign in.")
    assert msg["notice"] == panel.status_line
    assert panel.opened["view"] == "rendered" and "kiosk_url" not in panel.opened
    assert f"Open: analysis.ipynb  (read-only view; in CoCalc: {msg['new_tab_url']})" in panel._describe()
    assert isinstance(call, Reply) and call.done and call.text == panel.status_line
    # the page is not part of the saved widget state
    assert "answer-8d1f" not in json.dumps(panel.get_state(), default=str)
    assert API_KEY not in json.dumps(panel.get_state(), default=str)


def test_refresh_rereads_the_file(panel, cc):
    panel.open(PID0, "analysis.ipynb")
    cc.projects_obj[PID0].contents["analysis.ipynb"] = NB.replace("answer-8d1f: 42", "answer-8d1f: 43")
    from_browser(panel, {"kind": "reload", "view": "a"})
    assert [p for _, p in rendered(panel)][-1].count("answer-8d1f: 43") == 1
    assert cc.projects_obj[PID0].reads == ["analysis.ipynb", "analysis.ipynb"]


def test_read_error_is_shown_in_the_frame_and_the_status_line(panel, cc):
    panel.open(PID0, "zeta.txt")  # listed, but no content in the fake: read() raises NotFound
    ((msg, page),) = rendered(panel)
    assert panel.status_line == f"Could not read zeta.txt: no file 'zeta.txt' in project Project 0"
    assert html.escape(panel.status_line) in page


def test_close_all_closes_the_read_only_view_and_the_labels_follow(panel):
    panel.open(PID0, "analysis.ipynb")
    call = panel.closeall()
    assert panel.rec.custom("closed") == [{"kind": "closed"}]
    assert panel.opened == {} and call.done
    assert call.text == panel.status_line == "Closed analysis.ipynb (the read-only view)."
    assert "open: analysis.ipynb" not in repr(panel)
    from_browser(panel, {"kind": "hello", "view": "b"})  # a new view shows nothing
    assert len(rendered(panel)) == 1


def test_status_in_the_read_only_view_says_why_nothing_is_asked(panel):
    panel.open(PID0, "analysis.ipynb")
    call = panel.status()
    assert call.done and call.text.startswith("Not sent: analysis.ipynb is shown read-only")
    assert panel.rec.custom("post") == []


def test_a_new_view_gets_the_page_without_reading_again(panel, cc):
    panel.open(PID0, "analysis.ipynb")
    from_browser(panel, {"kind": "hello", "view": "b"})
    assert [m.get("for_view") for m, _ in rendered(panel)] == [None, "b"]
    assert cc.projects_obj[PID0].reads == ["analysis.ipynb"]


def test_same_site_page_tries_the_live_kiosk_then_falls_back(cc, monkeypatch):
    cc.host = "https://cocalc.example.org"
    w = CoCalcPanel(client=cc)
    w.rec = Recorder(w, monkeypatch)
    from_browser(w, {"kind": "hello", "view": "a", "origin": "https://jupyter.example.org"})
    w.open(PID0, "analysis.ipynb")
    (msg,) = w.rec.custom("embed")
    assert msg["signin_url"] is None  # the browser's own CoCalc session, if it has one
    from_browser(w, {"kind": "event", "event": "no_ack", "path": "analysis.ipynb", "seconds": 10, "view": "a"})
    ((_, page),) = rendered(w)  # signed out after all: the file, read-only
    assert "answer-8d1f: 42" in page and w.opened["view"] == "rendered"
    assert "(no sign-in token for this key, and this browser is not signed in to CoCalc)" in w.status_line


def test_live_false_forces_the_read_only_view_even_with_a_token(panel, cc):
    cc.can_sign_in = True
    panel.open(PID0, "analysis.ipynb", live=False)
    assert len(rendered(panel)) == 1 and panel.rec.custom("embed") == []


# ---------------------------------------------------------------------- live kiosk: the reply views
@pytest.fixture
def live(monkeypatch):
    cc = FakeClient(api="conat")
    w = CoCalcPanel(client=cc)
    w.rec = Recorder(w, monkeypatch)
    from_browser(w, {"kind": "hello", "view": "a", "origin": "http://127.0.0.1:8888"})
    return w


def reply(w, data, **kw):
    from_browser(w, {"kind": "reply", "data": data, "view": "a", **kw})


def test_calls_return_views_that_fill_in_when_cocalc_answers(live):
    opened = live.open(PID0, "analysis.ipynb")
    status = live.status()
    assert not opened.done and not status.done
    assert repr(status) == ("status: Sent status to the embedded CoCalc; its reply appears here. "
                            "(the reply arrives in panel.replies)")
    reply(live, {"status": "done", "connection": {}, "open_files": {}}, poll=True)  # the handshake: nobody's
    assert not status.done
    reply(live, {"status": "ack", "action": "open", "path": "analysis.ipynb", "project_id": PID0})
    assert opened.text == "CoCalc is opening analysis.ipynb …" and not opened.done
    reply(live, {"status": "done", "connection": {"status": "connected"}, "open_files": {PID0: []}})
    assert status.done and status.text == "CoCalc status: no open files (connection: connected)."
    reply(live, {"status": "done", "action": "open", "path": "analysis.ipynb", "project_id": PID0})
    assert opened.done and opened.text == "Opened analysis.ipynb."
    assert "Opened analysis.ipynb." in opened.value and opened.reply["status"] == "done"
    bad = live.post({"action": "foo"})
    reply(live, {"status": "error", "mesg": "Unknown action 'foo'"})
    assert bad.done and bad.text == "CoCalc error: Unknown action 'foo'"
    assert len(live.replies) == 5


def test_closeall_done_clears_the_open_file(live):
    live.open(PID0, "analysis.ipynb")
    call = live.closeall()
    reply(live, {"status": "done", "mesg": "all files are closed"})
    assert call.done and call.text == "CoCalc: all files are closed."
    from_browser(live, {"kind": "event", "event": "closed", "view": "a"})  # what the browser says next
    assert live.opened == {} and "analysis.ipynb" not in repr(live)


def test_no_answer_is_explained_in_the_waiting_views(live):
    status = live.status()
    from_browser(live, {"kind": "event", "event": "no_frame", "view": "a"})
    assert status.done and status.text == texts_no_frame()


def texts_no_frame() -> str:
    from cocalc_magic.panel import texts

    return texts.event_text("no_frame", {})


def test_a_panel_nobody_displays_says_so_instead_of_waiting(monkeypatch):
    w = CoCalcPanel(client=FakeClient(api="conat"))
    Recorder(w, monkeypatch)
    call = w.status()
    assert call.done and call.text.startswith("No browser shows this panel")


def test_the_browser_hears_reading_before_the_page(panel):
    """The first rendering loads nbconvert (seconds): the status line says so before it starts."""
    panel.open(PID0, "analysis.ipynb")
    kinds = [("status", m["state"].get("status_line")) if m.get("method") == "update"
             else ("custom", m["content"].get("kind")) for m in panel.rec.sent if m and m.get("method") in ("update", "custom")]
    reading = kinds.index(("status", "Reading analysis.ipynb for a read-only view …"))
    assert reading < kinds.index(("custom", "rendered"))
