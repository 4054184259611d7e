"""The magics keep their resolved settings between calls (``magics.settings_cache.SettingsCache``): each
test shows the cache is used while nothing changes, and that each thing the settings depend on
(environment, %config, `use`, the credentials file, its location) takes effect on the next call."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest

from cocalc_magic.magics import settings_cache as _magic_settings
from cocalc_magic.magics.display import clock_text
from magic_helpers import run

KEY_A = "sk_" + "a" * 21 + "AAAA"
KEY_B = "sk_" + "b" * 21 + "BBBB"  # same length as KEY_A: the file's size does not change


def resolved(magics) -> int:
    return magics._settings_cache.resolved


def write_creds(path, host: str, key: str, mtime_s: float | None = None) -> None:
    """Rewrite the file in place (same inode), as an editor or another tool might."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"keys": {host: key}, "default_host": host}, fh)
    if mtime_s is not None:
        os.utime(path, (mtime_s, mtime_s))


@pytest.fixture
def no_racy_window(monkeypatch):
    """Trust a just-written file at once (the window is tested on its own below)."""
    monkeypatch.setattr(_magic_settings, "_RACY_NS", 0)


def test_unchanged_settings_are_resolved_once(magics, monkeypatch):
    monkeypatch.setenv("COCALC_HOST", "http://127.0.0.1:7")
    first = magics.settings()
    n = resolved(magics)
    for _ in range(5):
        assert magics.settings() is first
    assert resolved(magics) == n


def test_environment_changes_take_effect(magics, monkeypatch):
    monkeypatch.setenv("COCALC_HOST", "http://127.0.0.1:7")
    assert magics.settings().host == "http://127.0.0.1:7"
    monkeypatch.setenv("COCALC_HOST", "127.0.0.1:8")
    s = magics.settings()
    assert (s.host, s.sources["host"]) == ("http://127.0.0.1:8", "environment (COCALC_HOST)")
    monkeypatch.setenv("COCALC_API_KEY", KEY_A)
    assert magics.settings().api_key == KEY_A
    monkeypatch.setenv("COCALC_API_KEY", KEY_B)
    assert magics.settings().api_key == KEY_B
    monkeypatch.setenv("COCALC_PROJECT_ID", "proj-1")
    assert magics.settings().project == "proj-1"
    monkeypatch.delenv("COCALC_PROJECT_ID")
    assert magics.settings().project is None
    monkeypatch.delenv("COCALC_HOST")
    assert magics.settings().host == "https://cocalc.ai"
    # os.environ as a whole (not only through os.environ[...]): a plain update
    os.environ.update(COCALC_HOST="http://127.0.0.1:9")
    assert magics.settings().host == "http://127.0.0.1:9"


def test_config_changes_take_effect(ip, magics, monkeypatch):
    monkeypatch.setenv("COCALC_HOST", "http://127.0.0.1:7")
    assert magics.settings().timeout == 30.0
    run(ip, "%config CoCalcMagics.timeout = 2.5")
    assert magics.settings().timeout == 2.5
    run(ip, "%config CoCalcMagics.host = 'http://127.0.0.1:9'")
    s = magics.settings()
    assert (s.host, s.sources["host"]) == ("http://127.0.0.1:9", "%config")
    run(ip, "%config CoCalcMagics.project = 'my project'")
    assert magics.settings().project == "my project"
    run(ip, "%config CoCalcMagics.host = ''")
    assert magics.settings().host == "http://127.0.0.1:7"


def test_a_bad_setting_is_not_cached(ip, magics):
    run(ip, "%config CoCalcMagics.timeout = -1.0")
    for _ in range(2):
        r = run(ip, "%cocalc whoami")
        assert not r.ok and "Bad setting: timeout must be positive, not -1.0." in r.stdout + r.stderr
    run(ip, "%config CoCalcMagics.timeout = 3.0")
    assert magics.settings().timeout == 3.0


def test_use_takes_effect(magics):
    # `%cocalc use` (which needs a server; see test_magics_server) sets this after resolving the project
    assert magics.settings().project is None
    magics._used_project = "11111111-2222-4333-8444-555555555555"
    s = magics.settings()
    assert (s.project, s.sources["project"]) == ("11111111-2222-4333-8444-555555555555", "argument")


def test_credentials_file_edited_in_place(magics, clean_env, no_racy_window):
    from cocalc_magic import settings

    path = settings.credentials_path()
    write_creds(path, "http://127.0.0.1:7", KEY_A, mtime_s=1_700_000_000)
    assert magics.settings().api_key == KEY_A
    n = resolved(magics)
    assert magics.settings().api_key == KEY_A and resolved(magics) == n  # cached
    write_creds(path, "http://127.0.0.1:7", KEY_B, mtime_s=1_700_000_100)  # same inode, same size
    s = magics.settings()
    assert (s.host, s.api_key) == ("http://127.0.0.1:7", KEY_B)
    path.unlink()
    s = magics.settings()
    assert (s.host, s.api_key) == ("https://cocalc.ai", None)


def test_a_just_written_file_is_read_on_every_call(magics, clean_env):
    # Two writes within the file system's timestamp granularity can leave the stat unchanged, so a
    # file changed less than RACY_SECONDS ago is never served from the cache.
    from cocalc_magic import settings

    path = settings.credentials_path()
    write_creds(path, "http://127.0.0.1:7", KEY_A)
    assert magics.settings().api_key == KEY_A
    n = resolved(magics)
    magics.settings()
    assert resolved(magics) == n + 1
    st = os.stat(path)
    write_creds(path, "http://127.0.0.1:7", KEY_B)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # the mtime a coarse clock would have kept
    assert magics.settings().api_key == KEY_B


def test_credentials_location_changes_take_effect(magics, clean_env, monkeypatch, no_racy_window):
    one, two = clean_env / "one" / "creds.json", clean_env / "two" / "creds.json"
    write_creds(one, "http://127.0.0.1:7", KEY_A)
    write_creds(two, "http://127.0.0.1:8", KEY_B)
    monkeypatch.setenv("COCALC_MAGIC_CREDENTIALS", str(one))
    assert (magics.settings().host, magics.settings().api_key) == ("http://127.0.0.1:7", KEY_A)
    monkeypatch.setenv("COCALC_MAGIC_CREDENTIALS", str(two))
    assert (magics.settings().host, magics.settings().api_key) == ("http://127.0.0.1:8", KEY_B)
    write_creds(two, "http://127.0.0.1:8", KEY_A, mtime_s=1_700_000_000)  # the new file is the one watched
    assert magics.settings().api_key == KEY_A
    monkeypatch.delenv("COCALC_MAGIC_CREDENTIALS")
    assert magics.settings().api_key is None  # $XDG_CONFIG_HOME/cocalc-magic/credentials.json: none yet
    monkeypatch.setenv("XDG_CONFIG_HOME", str(clean_env / "xdg"))
    write_creds(clean_env / "xdg" / "cocalc-magic" / "credentials.json", "http://127.0.0.1:7", KEY_B)
    assert magics.settings().api_key == KEY_B
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(clean_env / "home2"))
    write_creds(clean_env / "home2" / ".config" / "cocalc-magic" / "credentials.json", "http://127.0.0.1:8", KEY_A)
    assert (magics.settings().host, magics.settings().api_key) == ("http://127.0.0.1:8", KEY_A)


def test_login_and_logout_take_effect(ip, magics, clean_env, monkeypatch, no_racy_window):
    # Without a server: logout of a file that another tool wrote, then the next call has no key.
    from cocalc_magic import settings

    path = settings.credentials_path()
    write_creds(path, "http://127.0.0.1:7", KEY_A, mtime_s=1_700_000_000)
    assert magics.settings().api_key == KEY_A
    r = run(ip, "%cocalc logout")
    assert r.stdout == f"Removed the saved credentials ({path}).\n"
    assert magics.settings().api_key is None
    r = run(ip, "%cocalc ping")
    assert not r.ok and "No CoCalc API key for https://cocalc.ai: run %cocalc login" in r.stdout + r.stderr


@pytest.mark.parametrize("t", [
    datetime(2026, 11, 26, 23, 42, 36, 123456, tzinfo=timezone.utc),
    datetime(2026, 1, 2, 3, 4, 5),  # naive: no zone name
    datetime(2026, 7, 1, 12, 0, 0, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 7, 1, 12, 0, 0, tzinfo=timezone(timedelta(hours=-5), "EST")),
])
def test_clock_text_is_strftime(t):
    assert clock_text(t) == t.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def test_file_not_consulted_while_config_or_environment_give_host_and_key(ip, magics, clean_env, monkeypatch,
                                                                         no_racy_window):
    from cocalc_magic import settings

    path = settings.credentials_path()
    write_creds(path, "http://127.0.0.1:7", KEY_A, mtime_s=1_700_000_000)
    monkeypatch.setenv("COCALC_HOST", "http://127.0.0.1:7")
    monkeypatch.setenv("COCALC_API_KEY", KEY_B)
    assert magics.settings().api_key == KEY_B
    n = resolved(magics)
    write_creds(path, "http://127.0.0.1:7", KEY_A, mtime_s=1_700_000_100)  # cannot matter: not resolved again
    assert magics.settings().api_key == KEY_B and resolved(magics) == n
    assert repr(magics.settings()) == repr(settings.resolve())
    monkeypatch.delenv("COCALC_API_KEY")  # now the file gives the key
    s = magics.settings()
    assert (s.api_key, s.sources["api_key"]) == (KEY_A, f"credentials file ({path})")
    write_creds(path, "http://127.0.0.1:7", KEY_B, mtime_s=1_700_000_200)
    assert magics.settings().api_key == KEY_B
    monkeypatch.setenv("COCALC_API_KEY", KEY_A)
    monkeypatch.delenv("COCALC_HOST")  # the file gives the host (default_host)
    run(ip, "%config CoCalcMagics.host = 'http://127.0.0.1:8'")
    assert (magics.settings().host, magics.settings().api_key) == ("http://127.0.0.1:8", KEY_A)
    run(ip, "%config CoCalcMagics.host = ''")
    s = magics.settings()
    assert (s.host, s.sources["host"]) == ("http://127.0.0.1:7", f"credentials file ({path})")
    write_creds(path, "http://127.0.0.1:9", KEY_B, mtime_s=1_700_000_300)
    assert magics.settings().host == "http://127.0.0.1:9"
