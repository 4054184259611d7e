"""Where settings come from, the credentials file, and masking."""

from __future__ import annotations

import os
import stat

import pytest

from cocalc_magic import settings as S


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in (S.ENV_API_KEY, S.ENV_HOST, S.ENV_PROJECT):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(S.ENV_CREDENTIALS, str(tmp_path / "cfg" / "credentials.json"))
    yield


def test_defaults():
    s = S.resolve()
    assert s.host == "https://cocalc.ai" and s.api_key is None and s.project is None
    assert s.timeout == S.DEFAULT_TIMEOUT
    assert s.sources == {"host": "default", "api_key": "not set", "project": "not set", "timeout": "default"}


def test_precedence(monkeypatch):
    S.save_credentials("http://127.0.0.1:5000", "sk-fromFILE000000000001")
    s = S.resolve()
    assert s.host == "http://127.0.0.1:5000" and s.api_key == "sk-fromFILE000000000001"
    assert s.sources["host"].startswith("credentials file (") and s.sources["api_key"].startswith("credentials file")
    monkeypatch.setenv(S.ENV_HOST, "http://127.0.0.1:5000")
    monkeypatch.setenv(S.ENV_API_KEY, "sk-fromENV0000000000001")
    monkeypatch.setenv(S.ENV_PROJECT, "p-env")
    s = S.resolve()
    assert (s.api_key, s.project) == ("sk-fromENV0000000000001", "p-env")
    assert s.sources == {"host": "environment (COCALC_HOST)", "api_key": "environment (COCALC_API_KEY)",
                         "project": "environment (COCALC_PROJECT_ID)", "timeout": "default"}
    s = S.resolve(config={"host": "cfg.example.org", "project": "p-cfg", "timeout": 7})
    assert (s.host, s.project, s.timeout) == ("https://cfg.example.org", "p-cfg", 7.0)
    assert s.sources["host"] == "%config"
    s = S.resolve(host="http://localhost:9", api_key="sk-ARG", project="p-arg", timeout=3,
                  config={"host": "cfg.example.org"})
    assert (s.host, s.api_key, s.project, s.timeout) == ("http://localhost:9", "sk-ARG", "p-arg", 3.0)
    assert set(s.sources.values()) == {"argument"}


def test_a_saved_key_is_only_used_for_its_host(monkeypatch):
    S.save_credentials("https://a.example.org", "sk-forA000000000000001")
    monkeypatch.setenv(S.ENV_HOST, "https://b.example.org")
    assert S.resolve().api_key is None
    monkeypatch.setenv(S.ENV_HOST, "https://a.example.org/")
    assert S.resolve().api_key == "sk-forA000000000000001"


def test_credentials_file_mode_and_clear():
    path = S.save_credentials("https://a.example.org", "sk-forA000000000000001")
    assert path == S.credentials_path()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    S.save_credentials("https://b.example.org", "sk-forB000000000000001")
    assert S.clear_credentials("https://a.example.org") is True
    assert S.resolve(host="https://a.example.org").api_key is None
    assert S.resolve(host="https://b.example.org").api_key == "sk-forB000000000000001"
    assert S.clear_credentials() is True and not path.exists()
    assert S.clear_credentials() is False


def test_mask_and_repr():
    assert S.mask("sk_abcdefghijklmnop1234") == "sk_…1234"
    assert S.mask("sk-abcdefghijklmnop1234") == "sk-…1234"
    assert S.mask("0123456789abcdefghijklmn") == "…klmn"
    assert S.mask("short") == "…"
    assert S.mask(None) == "(none)"
    s = S.resolve(api_key="sk-secretVALUE00000042")
    assert "sk-secretVALUE00000042" not in repr(s) and "sk-…0042" in repr(s)
    token = S.SecretStr("T" * 20 + "wxyz")
    assert str(token) == "T" * 20 + "wxyz" and repr(token) == "'…wxyz'"
    assert S.redact(f"url?auth_token={token}&x=1") == "url?auth_token=…&x=1"


def test_bad_timeout():
    with pytest.raises(ValueError, match="timeout must be"):
        S.resolve(timeout="soon")
    with pytest.raises(ValueError, match="positive"):
        S.resolve(timeout=0)
