"""notebooks/02-embedding.ipynb run cell by cell in JupyterLab (Chromium), as a user would, against a
local conat CoCalc with an admin key: the panel shows, and each protocol cell shows its reply below
it (issue 12); closeall() visibly closes the file and the panel's labels follow."""

from __future__ import annotations

import json

import pytest

from cocalc_magic.server import LocalServer
from tests.browser.jupyter_fixtures import REPO, WAIT_KERNEL_IDLE, jupyter_server, kernel_json, open_notebook, run_cell

pytestmark = [pytest.mark.browser, pytest.mark.slow]

expect = pytest.importorskip("playwright.sync_api").expect

NOTEBOOK = REPO / "notebooks" / "02-embedding.ipynb"


def _index(cells: list[dict], start: str) -> int:
    """The index of the first code cell whose source starts with ``start``."""
    return next(i for i, c in enumerate(cells) if c["cell_type"] == "code" and "".join(c["source"]).startswith(start))


def test_protocol_cells_show_their_replies_and_closeall_closes_the_file(browser, tmp_path):
    text = NOTEBOOK.read_text()
    cells = json.loads(text)["cells"]
    at = {name: _index(cells, start) for name, start in [
        ("panel", "from cocalc_magic.panel import CoCalcPanel"), ("open", "panel.open("),
        ("status", "panel.status()"), ("closeall", "panel.closeall()")]}
    with LocalServer(data_dir=tmp_path / "srv", api="conat", allow_http_parents=True, start_delay=0.05) as srv, \
         jupyter_server("lab", {"02-embedding.ipynb": text}, env=srv.env()) as jup:
        ctx = browser.new_context(viewport={"width": 1300, "height": 1000})
        page = ctx.new_page()
        try:
            open_notebook(page, jup, "02-embedding.ipynb")
            for i in range(at["closeall"] + 1):
                run_cell(page, i)
                page.wait_for_function(WAIT_KERNEL_IDLE, timeout=60_000)
                if i in (at["open"], at["status"]):  # a user reads each reply before the next cell
                    cell = page.locator(".jp-Cell").nth(i)
                    expect(cell.locator(".ccp-reply")).not_to_contain_text("…", timeout=30_000)
            root = page.locator(".jp-Cell").nth(at["panel"]).locator(".ccp-root")
            out = {k: page.locator(".jp-Cell").nth(v).locator(".ccp-reply") for k, v in at.items() if k != "panel"}
            expect(out["open"]).to_have_text("Opened demo.ipynb.")
            expect(out["status"]).to_have_text("CoCalc status: 1 open file(s): demo.ipynb (connection: connected).")
            expect(out["closeall"]).to_have_text("CoCalc: all files are closed.", timeout=30_000)
            expect(root.locator(".ccp-openfile")).to_have_text("No file open")
            expect(root.locator(".ccp-newtab")).to_be_hidden()
            expect(root.locator(".ccp-hint")).to_have_text("")
            expect(page.frame_locator(".ccp-frame").first.locator(".cocalc-cell")).to_have_count(0)
            assert kernel_json(page, "panel.opened") == {}
        finally:
            ctx.close()
