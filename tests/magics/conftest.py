"""Fixtures for the magics: a real InteractiveShell with the extension loaded, in a clean environment
(no COCALC_* variables, HOME and the config dir under tmp_path, so no real credentials are read)."""

from __future__ import annotations

import pytest

from magic_helpers import dispose_shell, make_shell


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    for name in ("COCALC_API_KEY", "COCALC_HOST", "COCALC_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


@pytest.fixture
def ip(clean_env):
    shell = make_shell()
    yield shell
    dispose_shell(shell)


@pytest.fixture
def magics(ip):
    return ip.magics_manager.registry["CoCalcMagics"]


@pytest.fixture
def srv(cocalc_server, clean_env, monkeypatch):
    """The session's local CoCalc (the test's generation) in COCALC_HOST and COCALC_API_KEY."""
    monkeypatch.setenv("COCALC_HOST", cocalc_server.url)
    monkeypatch.setenv("COCALC_API_KEY", cocalc_server.api_key)
    return cocalc_server
