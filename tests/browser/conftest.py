"""Shared browser fixtures: Debian's Chromium driven by Playwright's sync API.

``browser`` (session) is one launched Chromium; ``context`` and ``page`` are fresh per test, so
cookies never leak between tests. Without Chromium (or Playwright) the tests skip, unless the
environment variable ``CI`` is set: then they fail, so CI cannot pass without running them.

These names override pytest-playwright's fixtures of the same names (that plugin is installed
too); ``playwright`` is overridden as well so only one Playwright driver runs per session.
``serve_static`` starts a tiny HTTP server on loopback for parent pages that embed the kiosk.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("COCALC_MAGIC_CHROMIUM", "/usr/bin/chromium")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so browser tests must run: apt-get install chromium)", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items) -> None:
    """Mark the tests here ``browser`` and run them after all others: while the session's sync
    Playwright driver lives, the main thread has a running asyncio loop, and code under test that
    calls ``asyncio.run`` (the server core's tests, nbclient) would fail."""
    here = Path(__file__).parent
    browser_items, other = [], []
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            browser_items.append(item)
        else:
            other.append(item)
    items[:] = other + browser_items


@pytest.fixture(scope="session")
def playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        _unavailable("playwright is not installed")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _unavailable(f"Chromium not found at {CHROMIUM}")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright):
    """One headless Chromium for the session (``executable_path`` = Debian's Chromium)."""
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    yield b
    b.close()


@pytest.fixture
def context(browser):
    """A fresh browser context (no cookies, no storage) for one test."""
    ctx = browser.new_context(viewport={"width": 1200, "height": 800})
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    p = context.new_page()
    yield p
    p.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def serve_static():
    """``serve_static(directory, host="127.0.0.1") -> base URL``: a static server on a free port,
    stopped after the test. Use another loopback address (e.g. 127.0.0.2) for a second origin."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(directory: str | os.PathLike, host: str = "127.0.0.1") -> str:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        srv = http.server.ThreadingHTTPServer((host, 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://{host}:{srv.server_address[1]}"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()
