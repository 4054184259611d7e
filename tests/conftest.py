"""Shared test set-up. The ``cocalc_server`` fixture comes from ``cocalc_magic.testing``
(registered as a pytest11 entry point when installed; listed here for a checkout run)."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("COCALC_MAGIC_NO_AUTOLOAD", "1")  # tests load the extension themselves

pytest_plugins = ["cocalc_magic.testing"]

# tests/browser/conftest.py marks the browser tests and runs them last (its collection hook).


@pytest.fixture
def isolated_env(tmp_path):
    """An environment for a subprocess (kernel, CLI): this checkout importable, and none of the
    developer's COCALC_* settings, IPython profile or saved login (a real key must never be used)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCALC_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        IPYTHONDIR=str(tmp_path / "ipython"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),  # e.g. the sync state of the tour
        COCALC_MAGIC_NO_AUTOLOAD="1",
    )
    return env
