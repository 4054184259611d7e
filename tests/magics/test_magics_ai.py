"""The magics on cocalc.ai with a key that lacks each capability in turn: every refusal is one line
naming the capability and the fix (Account → API keys), never "try again"; the key doctor of
``%cocalc whoami`` shows the same."""

from __future__ import annotations

import re

import pytest

from magic_helpers import run

pytestmark = pytest.mark.parametrize("cocalc_server", ["ai"], indirect=True)

ALL = ["account:read", "project:create", "project:list", "project:read", "project:write", "file:read", "file:write",
       "project:exec", "codex:run"]

# the capability each magic needs ({pid}: the key's project)
NEEDS = [
    ("project:list", "%cocalc projects"),
    ("project:create", "%cocalc create made-without-the-capability"),
    ("project:read", "%cocalc state -p {pid}"),
    ("project:exec", "%cocalc exec -p {pid} echo hi"),
    ("project:exec", "%cocalc ls -p {pid}"),
    ("project:exec", "%cocalc start {pid}"),
    ("file:read", "%cocalc copy -p {pid} a.txt b.txt --to {pid}"),
    ("file:write", "%cocalc copy -p {pid} a.txt b.txt --to {pid}"),
]


@pytest.fixture
def srv(cocalc_server, clean_env, monkeypatch):
    monkeypatch.setenv("COCALC_HOST", cocalc_server.url)
    return cocalc_server


def use_key(monkeypatch, srv, lacking: str) -> str:
    key = srv.create_key(capabilities=[c for c in ALL if c != lacking])
    monkeypatch.setenv("COCALC_API_KEY", key)
    return key


@pytest.mark.parametrize("cap,line", NEEDS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(NEEDS)])
def test_each_missing_capability_is_one_line(ip, srv, monkeypatch, cap, line):
    key = use_key(monkeypatch, srv, cap)
    r = run(ip, line.format(pid=srv.project_id))
    out = r.stdout + r.stderr
    assert not r.ok and "Traceback" not in out and re.fullmatch(r"[^\n]+\n?", out), out
    assert out.startswith("PermissionDenied: ") and f"'{cap}'" in out and "Account → API keys" in out
    assert "try again" not in out.lower() and key not in out


def test_whoami_lists_what_the_key_lacks(ip, srv, monkeypatch):
    use_key(monkeypatch, srv, "project:exec")
    monkeypatch.setenv("COCALC_PROJECT_ID", srv.project_id)
    r = run(ip, "%cocalc whoami")
    assert r.ok, r
    text = r.outputs[0]["text/plain"]
    assert re.search(r"^  server +cocalc\.ai", text, re.M)
    assert re.search(r"^  project:exec +MISSING: .*fix: in Account → API keys, add 'project:exec'", text, re.M)
    assert re.search(r"^  project:list +yes: ", text, re.M)
    r = run(ip, "me = %cocalc whoami")
    assert [c.capability for c in ip.user_ns["me"].missing] == ["project:exec"]
