"""Shared test set-up. The ``cocalc_server`` fixture comes from ``cocalc_magic.testing``
(registered as a pytest11 entry point when installed; listed here for a checkout run)."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("COCALC_MAGIC_NO_AUTOLOAD", "1")  # tests load the extension themselves

pytest_plugins = ["cocalc_magic.testing"]

# tests/browser/conftest.py marks the browser tests and runs them last (its collection hook).


def pytest_configure(config: pytest.Config) -> None:
    """Each run gets a temp dir of its own (TMPDIR, for this process and every subprocess), so
    no test can rely on /tmp, and whatever a test leaves there is found when the run ends."""
    if os.environ.get("COCALC_MAGIC_TEST_TMPDIR"):  # a pytest started by a test: the outer run checks
        return
    base = tempfile.mkdtemp(prefix="cocalc-magic-tests-")
    os.environ["TMPDIR"] = os.environ["COCALC_MAGIC_TEST_TMPDIR"] = base
    tempfile.tempdir = base
    config.stash[_TMP] = base


_TMP = pytest.StashKey[str]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if tests left anything in the temp dir (pytest's own tmp_path dirs aside)."""
    base = session.config.stash.get(_TMP, None)
    if base is None:
        return
    left = sorted(n for n in os.listdir(base) if not n.startswith("pytest-of-"))
    if left:
        session.config.stash[_LEFT] = left
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif exitstatus == 0:
        shutil.rmtree(base, ignore_errors=True)


_LEFT = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    left = config.stash.get(_LEFT, None)
    if left:
        base = config.stash[_TMP]
        terminalreporter.write_line(f"FAILED: tests left {len(left)} entries in the temp dir {base}: "
                                    f"{', '.join(left[:10])}{' ...' if len(left) > 10 else ''}", red=True)


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
