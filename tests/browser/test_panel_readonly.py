"""The panel's read-only view for real: LocalServer + JupyterLab on loopback, driven by Chromium.

A key that cannot sign the kiosk in (ai; conat with a non-admin key) gets the file rendered in a
sandboxed frame: a notebook with its stored image output, the one-line reason, Refresh, Open in
CoCalc, Close all. An admin key on conat still gets the live kiosk, and protocol calls from Python
show their replies in the cell's output; closeall() visibly closes the file and the labels follow.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import struct
import zlib
from contextlib import nullcontext

import pytest

from cocalc_magic.server import LocalServer
from tests.browser.jupyter_fixtures import REPO, jupyter_server, kernel_json, notebook_json, open_notebook, run_cell

pytestmark = [pytest.mark.browser, pytest.mark.slow]

expect = pytest.importorskip("playwright.sync_api").expect

SCREENSHOT = REPO / "docs" / "panel-readonly.png"
def _chart_png(width: int = 480, height: int = 240) -> bytes:
    """A small bar chart as a PNG, drawn here (no plotting library needed): the image output."""
    bars = [0.35, 0.6, 0.45, 0.8, 0.7, 0.95]
    colors = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]
    slot = width // len(bars)
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            i, inside = x // slot, slot * 0.15 < x % slot < slot * 0.85
            rgb = colors[i] if inside and i < len(bars) and y > height * (1 - bars[i]) - 1 else (255, 255, 255)
            if y == height - 1:
                rgb = (60, 60, 60)  # the axis
            row += bytes(rgb)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")


PNG = base64.b64encode(_chart_png()).decode()
PLOT = json.dumps({
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# Sales\n\nThe plot below is a *stored output*."},
        {"cell_type": "code", "execution_count": 3, "metadata": {}, "source": "show(sales)",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "points-5e2a: 12\n"},
                     {"output_type": "display_data", "metadata": {},
                      "data": {"image/png": PNG, "text/plain": "<Figure size 640x480>"}},
                     {"output_type": "display_data", "metadata": {},
                      "data": {"text/html": "<svg onload=\"parent.document.body.dataset.owned='1'\"></svg>"
                                            "<script>parent.document.body.dataset.owned='2'</script>"
                                            "<b onmouseover=\"parent.document.body.dataset.owned='3'\">bold-ok</b>"}}]},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
})

CELLS = [
    # 0: a panel with a key that cannot sign the kiosk in
    "import os\nfrom cocalc_magic import CoCalc\nfrom cocalc_magic.panel import CoCalcPanel\n"
    "user = CoCalcPanel(client=CoCalc(host=os.environ['USER_HOST'], api_key=os.environ['USER_KEY']))\nuser",
    # 1: open a notebook with an image output: the reply view says why it is read-only
    "user.open(os.environ['USER_PID'], 'plot.ipynb')",
    # 2: an admin key: the live kiosk
    "admin = CoCalcPanel()\nadmin",
    # 3, 4: protocol calls; their replies show below each cell
    "admin.open(os.environ['ADMIN_PID'], 'analysis.ipynb')",
    "admin.closeall()",
    # 5: the user's panel shown a second time: the new view gets the page from memory
    "user",
]


def _user(srv: LocalServer) -> tuple[str, str, str]:
    """A non-admin account with a key and a project holding plot.ipynb: (account, key, project)."""
    store = srv.ctx.store
    account = store.create_account(f"u-{secrets.token_hex(4)}@example.com", "pw-" + secrets.token_hex(6), "Ann", "User")
    _, key = store.create_api_key(account, name="panel test")
    pid = store.create_project(account, "Read-only view", "")
    store.home(pid).joinpath("plot.ipynb").write_text(PLOT)
    return account, key, pid


CASES = [("lab", "ai"), ("lab", "conat"), ("notebook", "ai")]


@pytest.fixture(scope="module", params=CASES, ids=[f"{a}-{g}" for a, g in CASES])
def run(request, browser, tmp_path_factory):
    """The user's panel on ``param`` (ai: its first key and project; conat: a non-admin key), the
    admin's panel always on conat (the live kiosk)."""
    app, api = request.param
    with LocalServer(data_dir=tmp_path_factory.mktemp("srv-readonly"), api="conat", demo=True,
                     allow_http_parents=True, start_delay=0.05) as srv, \
         (LocalServer(data_dir=tmp_path_factory.mktemp("srv-ai"), api="ai", allow_http_parents=True,
                      start_delay=0.05) if api == "ai" else nullcontext(srv)) as usrv:
        if api == "ai":
            key, pid = usrv.api_key, usrv.project_id
            usrv.ctx.store.home(pid).joinpath("plot.ipynb").write_text(PLOT)
        else:
            _, key, pid = _user(srv)
        admin_pid = {p["title"]: p["project_id"] for p in srv.ctx.store.projects_of(srv.account_id)}["Demo: Data analysis"]
        env = {**srv.env(), "USER_HOST": usrv.url, "USER_KEY": key, "USER_PID": pid, "ADMIN_PID": admin_pid}
        with jupyter_server(app, {"readonly.ipynb": notebook_json(*CELLS)}, env=env) as jup:
            ctx = browser.new_context(viewport={"width": 1300, "height": 1100})
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            try:
                open_notebook(page, jup, "readonly.ipynb")
                yield {"app": app, "api": api, "srv": usrv, "pid": pid, "page": page, "errors": errors,
                       "tmp": tmp_path_factory.mktemp("shots-readonly")}
            finally:
                ctx.close()


def _root(page, cell: int):
    """The panel shown in the output of ``cell``."""
    return page.locator(".jp-Cell").nth(cell).locator(".ccp-root")


def _click(button) -> None:
    """Click a panel button after scrolling it to the middle: Lab's tab bar covers the top rows."""
    button.evaluate("b => b.scrollIntoView({block: 'center'})")
    button.click()


def _output(page, cell: int):
    return page.locator(".jp-Cell").nth(cell).locator(".jp-OutputArea-output")


def test_rendered_view_shows_the_notebook_with_its_image(run):
    page, srv, pid = run["page"], run["srv"], run["pid"]
    run_cell(page, 0)
    run_cell(page, 1)
    root = _root(page, 0)
    view = root.locator("iframe.ccp-view")
    expect(view).to_be_visible(timeout=60_000)
    frame = root.frame_locator("iframe.ccp-view")
    img = frame.locator("img[src^='data:image/png']")
    expect(img).to_be_visible(timeout=30_000)
    assert img.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [480, 240]  # decoded, not a broken icon
    expect(frame.locator("text=points-5e2a: 12")).to_be_visible()
    expect(frame.locator("h1")).to_have_text("Sales¶")
    expect(frame.locator("b", has_text="bold-ok")).to_be_visible()
    frame.locator("b", has_text="bold-ok").hover()
    # nothing from the file ran: not in the frame (sandbox without scripts), not in the notebook page
    assert view.get_attribute("sandbox") == "allow-popups allow-popups-to-escape-sandbox"
    assert page.evaluate("() => document.body.dataset.owned") is None
    # the one-line reason, in the panel and in the cell's output
    notice = root.locator(".ccp-notice")
    expect(notice).to_contain_text("Read-only view of plot.ipynb: the embedded CoCalc cannot be signed in here")
    expect(_output(page, 1).locator(".ccp-reply")).to_contain_text("Read-only view of plot.ipynb")
    link = root.locator(".ccp-newtab")
    expect(link).to_have_text("Open in CoCalc ↗")
    assert link.get_attribute("href") == f"{srv.url}/projects/{pid}/files/plot.ipynb"
    assert link.get_attribute("target") == "_blank"
    expect(root.locator(".ccp-btn-reload")).to_be_visible()
    expect(root.locator(".ccp-btn-status")).to_be_hidden()
    expect(root.locator(".ccp-openfile")).to_have_text("plot.ipynb")
    if run["api"] == "ai":
        expect(notice).to_contain_text("cocalc.ai")
    shot = root.screenshot(path=str(run["tmp"] / "panel-readonly.png"))
    # docs/panel-readonly.png (the ai run) is rewritten only on request or when missing, like docs/panel.png
    if (run["app"], run["api"]) == ("lab", "ai") and (os.environ.get("COCALC_MAGIC_SCREENSHOTS") or not SCREENSHOT.exists()):
        SCREENSHOT.write_bytes(shot)


def test_refresh_reads_the_file_again(run):
    page, srv, pid = run["page"], run["srv"], run["pid"]
    srv.ctx.store.home(pid).joinpath("plot.ipynb").write_text(PLOT.replace("points-5e2a: 12", "points-5e2a: 13"))
    _click(_root(page, 0).locator(".ccp-btn-reload"))
    expect(_root(page, 0).frame_locator("iframe.ccp-view").locator("text=points-5e2a: 13")).to_be_visible(timeout=30_000)
    run_cell(page, 5)  # shown again: the second view shows the same page at once
    expect(_root(page, 5).frame_locator("iframe.ccp-view").locator("text=points-5e2a: 13")).to_be_visible(timeout=30_000)
    expect(_root(page, 5).locator(".ccp-openfile")).to_have_text("plot.ipynb")


def test_close_all_closes_the_read_only_view(run):
    page = run["page"]
    root = _root(page, 0)
    _click(root.locator(".ccp-btn-closeall"))
    expect(root.locator(".ccp-openfile")).to_have_text("No file open", timeout=20_000)
    expect(root.locator(".ccp-newtab")).to_be_hidden()
    expect(root.locator("iframe.ccp-view")).to_be_hidden()
    expect(root.locator(".ccp-status")).to_have_text("Closed plot.ipynb (the read-only view).")
    expect(_root(page, 5).locator(".ccp-openfile")).to_have_text("No file open")  # every view of the panel
    assert kernel_json(page, "user.opened") == {}


def test_admin_key_keeps_the_live_kiosk_and_replies_show_below_the_cell(run):
    page = run["page"]
    run_cell(page, 2)
    run_cell(page, 3)
    root = _root(page, 2)
    frame = page.frame_locator(".ccp-frame").first
    expect(frame.locator(".cocalc-cell").first).to_be_visible(timeout=60_000)
    expect(root.locator("iframe.ccp-view")).to_have_count(0)
    expect(root.locator(".ccp-openfile")).to_have_text("analysis.ipynb")
    expect(root.locator(".ccp-hint")).to_have_text("CoCalc opened analysis.ipynb")  # its project-log broadcast
    # the open call's reply view fills in when CoCalc answers
    expect(_output(page, 3).locator(".ccp-reply")).to_have_text("Opened analysis.ipynb.", timeout=30_000)


def test_closeall_closes_the_file_and_the_labels_follow(run):
    page = run["page"]
    root = _root(page, 2)
    run_cell(page, 4)
    expect(_output(page, 4).locator(".ccp-reply")).to_have_text("CoCalc: all files are closed.", timeout=30_000)
    expect(page.frame_locator(".ccp-frame").first.locator(".cocalc-cell")).to_have_count(0)
    expect(root.locator(".ccp-openfile")).to_have_text("No file open")
    expect(root.locator(".ccp-newtab")).to_be_hidden()
    expect(root.locator(".ccp-hint")).to_have_text("")
    assert kernel_json(page, "admin.opened") == {}
    assert "open: analysis.ipynb" not in kernel_json(page, "repr(admin)")
    # Notebook 7 logs one known harmless page error of its own (jupyter-mechanics.md §3.5)
    known = "Cannot read properties of undefined (reading 'schema')"
    assert [e for e in run["errors"] if not (run["app"] == "notebook" and e == known)] == []
