"""Shared test set-up. The ``cocalc_server`` fixture comes from ``cocalc_magic.testing``
(registered as a pytest11 entry point when installed; listed here for a checkout run)."""

import os

os.environ.setdefault("COCALC_MAGIC_NO_AUTOLOAD", "1")  # tests load the extension themselves

pytest_plugins = ["cocalc_magic.testing"]


def pytest_collection_modifyitems(config, items):
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    while its session fixture lives, and a later test calling asyncio.run() would then fail."""
    browser = [i for i in items if "/tests/browser/" in str(i.fspath).replace(os.sep, "/")]
    if browser:
        moved = {id(i) for i in browser}
        items[:] = [i for i in items if id(i) not in moved] + browser
