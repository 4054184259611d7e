"""The panel for real: LocalServer + JupyterLab (or Notebook 7) on loopback, driven by Chromium.

One JupyterLab run per server generation and one Notebook 7 run; within a run the tests share one
page and go in order (list → filter → open → protocol round trips → signed out → silent origin),
to keep browser time modest. The notebook builds the panel from the environment
(COCALC_HOST/COCALC_API_KEY in the kernel's env), as a user would.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from cocalc_magic.server import LocalServer
from tests.browser.jupyter_fixtures import (
    REPO, jupyter_server, kernel_exec, kernel_json, notebook_json, open_notebook, run_cell, wait_kernel,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

expect = pytest.importorskip("playwright.sync_api").expect


CASES = [("lab", "conat"), ("lab", "v1"), ("notebook", "conat")]
EXTRA_TITLES = ["Thesis 2026", "Homework 1", "Homework 2"]
SCREENSHOT = REPO / "docs" / "panel.png"

CELLS = [
    # 0: the panel, from the environment's settings (the Notebook 7 run makes it with `%cocalc panel`)
    "from cocalc_magic import CoCalc\nfrom cocalc_magic.panel import CoCalcPanel, open_view\n"
    "panel = CoCalcPanel()\ngot = []\npanel.on_reply(got.append)\npanel",
    # 1: a single-file view without a token, in a browser that is signed out
    "view = open_view(CoCalc(), PID, 'analysis.ipynb', token=False)\nview.ack_timeout = 4\nview",
    # 2: a server whose IFrame protocol refuses http parents (like real CoCalc)
    "import os\nstrict = CoCalc(host=os.environ['STRICT_HOST'], api_key=os.environ['STRICT_KEY'])\n"
    "silent = open_view(strict, STRICT_PID, 'welcome.ipynb')\nsilent.status_timeout = 4\nsilent",
]


def _seed(srv: LocalServer) -> dict[str, str]:
    """Demo projects plus a few more; returns {title: project_id}."""
    store = srv.ctx.store
    for title in EXTRA_TITLES:
        store.create_project(srv.account_id, title, "made by the panel test")
    return {p["title"]: p["project_id"] for p in store.projects_of(srv.account_id)}


@pytest.fixture(scope="module", params=CASES, ids=[f"{a}-{g}" for a, g in CASES])
def run(request, browser, tmp_path_factory):
    app, api = request.param
    with LocalServer(data_dir=tmp_path_factory.mktemp(f"srv-{api}"), api=api, demo=True,
                     allow_http_parents=True, start_delay=0.05) as srv, \
         LocalServer(data_dir=tmp_path_factory.mktemp(f"strict-{api}"), host="localhost", api=api, demo=True,
                     start_delay=0.05) as strict:  # "localhost": its cookies must not replace srv's on 127.0.0.1
        titles = _seed(srv)
        strict_pid = {p["title"]: p["project_id"] for p in strict.ctx.store.projects_of(strict.account_id)}
        env = {**srv.env(), "STRICT_HOST": strict.url, "STRICT_KEY": strict.api_key}
        cells = list(CELLS)
        if app == "notebook":
            cells[0] = cells[0].replace("panel = CoCalcPanel()", "%load_ext cocalc_magic\npanel = %cocalc panel")
        with jupyter_server(app, {"panel.ipynb": notebook_json(*cells)}, env=env) as jup:
            ctx = browser.new_context(viewport={"width": 1300, "height": 1000})
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            try:
                open_notebook(page, jup, "panel.ipynb")
                kernel_exec(page, f"PID = {titles['Demo: Data analysis']!r}; "
                                  f"STRICT_PID = {strict_pid['Demo: Getting started']!r}")
                yield {"app": app, "api": api, "srv": srv, "titles": titles, "page": page, "ctx": ctx,
                       "jup": jup, "errors": errors, "tmp": tmp_path_factory.mktemp(f"shots-{app}-{api}")}
            finally:
                ctx.close()


def _frame(page, index: int = 0):
    return page.frame_locator(".ccp-frame").nth(index)


def test_project_list_shows_the_servers_projects(run):
    page = run["page"]
    run_cell(page, 0)
    rows = page.locator(".ccp-root").first.locator(".ccp-project")
    expect(rows).to_have_count(len(run["titles"]), timeout=60_000)
    shown = {t.strip() for t in page.locator(".ccp-ptitle").all_text_contents()}
    assert shown == set(run["titles"])
    # newest first: the extra projects were created after the demo ones
    assert page.locator(".ccp-ptitle").first.text_content() in EXTRA_TITLES
    expect(page.locator(".ccp-count").first).to_have_text(f"{len(run['titles'])} projects")
    assert kernel_json(page, "panel.status_line") == f"{len(run['titles'])} recent projects on {run['srv'].url}."


def test_filter_narrows_the_list_as_the_user_types(run):
    page = run["page"]
    box = page.locator(".ccp-filter").first
    box.press_sequentially("homew")
    expect(page.locator(".ccp-ptitle")).to_have_text(["Homework 2", "Homework 1"])
    expect(page.locator(".ccp-count").first).to_have_text(f"2 of {len(run['titles'])} projects")
    box.fill("")
    box.press_sequentially("analysis")  # letters that are notebook shortcuts must reach the box
    expect(page.locator(".ccp-ptitle")).to_have_text(["Demo: Data analysis"])
    box.press("Enter")  # takes the first match
    expect(page.locator(".ccp-crumbs").first).to_have_text("Demo: Data analysis", timeout=30_000)
    expect(page.locator(".jp-Cell")).to_have_count(len(CELLS))  # no cell was inserted or cut meanwhile


def test_show_all_switch_fetches_all_projects(run):
    page, n = run["page"], len(run["titles"])
    page.locator(".ccp-showall").first.check()
    expect(page.locator(".ccp-status").first).to_have_text(f"{n} projects on {run['srv'].url}.", timeout=30_000)
    assert kernel_json(page, "panel.show_all") is True
    page.locator(".ccp-showall").first.uncheck()
    expect(page.locator(".ccp-status").first).to_have_text(f"{n} recent projects on {run['srv'].url}.", timeout=30_000)


def test_choosing_a_notebook_shows_it_in_the_kiosk_iframe(run):
    page, srv = run["page"], run["srv"]
    pid = run["titles"]["Demo: Data analysis"]
    page.locator(".ccp-project").first.click()
    expect(page.locator(".ccp-file").first).to_have_text("●analysis.ipynb", timeout=30_000)
    expect(page.locator(".ccp-crumbs").first).to_have_text("Demo: Data analysis")
    page.locator(".ccp-notebook").first.click()
    frame = _frame(page)
    expect(frame.locator(".cocalc-cell").first).to_be_visible(timeout=30_000)
    expect(frame.locator(".cocalc-output").first).to_contain_text("45")
    expect(page.locator(".ccp-status").first).to_have_text("Opened analysis.ipynb.", timeout=20_000)
    iframe = page.locator(".ccp-frame").first
    assert iframe.get_attribute("allow") is None and iframe.get_attribute("allowfullscreen") is None
    src = iframe.get_attribute("src")
    assert src.startswith(f"{srv.url}/projects/{pid}/files/analysis.ipynb?fullscreen=kiosk&session=")
    # the IFrame protocol's handshake reached Python: status snapshot (the poll), then ack and done
    wait_kernel(page, "len(panel.replies) >= 3")
    replies = kernel_json(page, "panel.replies")
    assert replies[0]["status"] == "done" and "open_files" in replies[0]
    assert replies[1:3] == [
        {"status": "ack", "action": "open", "path": "analysis.ipynb", "project_id": pid},
        {"status": "done", "action": "open", "path": "analysis.ipynb", "project_id": pid},
    ]
    assert kernel_json(page, "got == panel.replies")
    # no token (nor key) in the synced state
    state = kernel_exec(page, "import json; print(json.dumps(panel.get_state(), default=str))")
    assert not re.search(r"auth_token=[A-Za-z0-9]", state) and srv.api_key not in state
    assert json.loads(state)["opened"]["kiosk_url"] == f"{srv.url}/projects/{pid}/files/analysis.ipynb?fullscreen=kiosk&session="
    if run["app"] == "lab" and run["api"] == "conat":
        page.locator(".ccp-filter").first.fill("")  # the whole list next to the open notebook
        expect(page.locator(".ccp-project")).to_have_count(len(run["titles"]))
        shot = page.locator(".ccp-root").first.screenshot(path=str(run["tmp"] / "panel.png"))
        assert shot[:8] == b"\x89PNG\r\n\x1a\n"
        # docs/panel.png (committed, shown in the README) is rewritten only on request, so that a
        # test run does not leave a changed binary in everyone's checkout.
        if os.environ.get("COCALC_MAGIC_SCREENSHOTS") or not SCREENSHOT.exists():
            SCREENSHOT.parent.mkdir(exist_ok=True)
            SCREENSHOT.write_bytes(shot)


def test_status_closeall_open_and_unknown_action_round_trips(run):
    page = run["page"]
    pid = run["titles"]["Demo: Data analysis"]
    other = run["titles"]["Demo: Getting started"]
    n = kernel_json(page, "len(panel.replies)")

    page.locator(".ccp-btn-status").first.click()  # the button
    wait_kernel(page, f"len(panel.replies) > {n}")
    snap = kernel_json(page, "panel.replies[-1]")
    assert snap["status"] == "done" and snap["open_files"] == {pid: ["analysis.ipynb"]}
    assert set(snap["connection"]) == {"quality", "status", "status_time", "ping"}

    kernel_exec(page, "panel.status()")  # the Python method
    wait_kernel(page, f"len(panel.replies) > {n + 1}")
    assert kernel_json(page, "panel.replies[-1]['open_files']") == {pid: ["analysis.ipynb"]}

    kernel_exec(page, "panel.closeall()")
    wait_kernel(page, f"len(panel.replies) > {n + 2}")
    assert kernel_json(page, "panel.replies[-1]") == {"status": "done", "mesg": "all files are closed"}
    expect(page.locator(".ccp-status").first).to_have_text("CoCalc: all files are closed.")
    expect(_frame(page).locator(".cocalc-cell")).to_have_count(0)

    kernel_exec(page, "panel.open('Demo: Getting started', 'welcome.ipynb')")
    wait_kernel(page, f"len(panel.replies) > {n + 4}")
    assert kernel_json(page, f"panel.replies[{n + 3}:{n + 5}]") == [
        {"status": "ack", "action": "open", "path": "welcome.ipynb", "project_id": other},
        {"status": "done", "action": "open", "path": "welcome.ipynb", "project_id": other},
    ]
    expect(_frame(page).locator(".cocalc-output").first).to_contain_text("hello from CoCalc", timeout=20_000)

    kernel_exec(page, "panel.post({'action': 'foo'})")
    wait_kernel(page, f"len(panel.replies) > {n + 5}")
    assert kernel_json(page, "panel.replies[-1]") == {"status": "error", "mesg": "Unknown action 'foo'"}
    expect(page.locator(".ccp-status").first).to_have_text("CoCalc error: Unknown action 'foo'")
    assert kernel_json(page, "got == panel.replies")

    # a message that is not from the IFrame (here: the notebook page itself) is not a reply
    page.evaluate("() => window.postMessage({status: 'done', mesg: 'spoofed'}, '*')")
    kernel_exec(page, "panel.status()")
    wait_kernel(page, f"len(panel.replies) > {n + 6}")
    assert "open_files" in kernel_json(page, "panel.replies[-1]")
    assert "spoofed" not in kernel_exec(page, "print(panel.replies)")


def test_signed_out_frame_shows_the_sign_in_page(run):
    page = run["page"]
    run["ctx"].clear_cookies()
    run_cell(page, 1)
    frame = _frame(page, 1)
    expect(frame.locator("#sign-in")).to_be_visible(timeout=30_000)
    # CoCalc answers status but never opens the file when signed out: the panel says why
    status = page.locator(".ccp-status").nth(1)
    expect(status).to_have_text(
        "CoCalc answered but did not open analysis.ipynb after 4 s: the frame is signed out or this account "
        "cannot access the project. Use “Open in new tab” to sign in.", timeout=30_000)
    expect(page.locator(".ccp-notice").nth(1)).to_be_visible()


def test_parent_origin_refused_by_the_protocol_is_explained(run):
    page, jup = run["page"], run["jup"]
    run_cell(page, 2)
    status = page.locator(".ccp-status").nth(2)
    expect(status).to_contain_text("CoCalc's IFrame protocol did not answer after", timeout=30_000)
    expect(status).to_contain_text(f"and this page is {jup.origin}. Use “Open in new tab”.")
    link = page.locator(".ccp-root").nth(2).locator(".ccp-notice-link")
    expect(link).to_be_visible()
    assert link.get_attribute("href").startswith(kernel_json(page, "strict.host"))
    assert run["errors"] == [] or run["app"] == "notebook"  # NB7 logs one known harmless error
