"""A project-scoped API key (current generation only: legacy servers treat a project key as an
account whose id is the project id, so there is no separate scope to test there)."""

from __future__ import annotations

import pytest

from cocalc_magic import errors as E
from cocalc_magic.client import CoCalc


@pytest.fixture
def proj(cocalc_server):
    cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key)
    return cc.create_project("scoped-key target")


@pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)
def test_project_scoped_key(cocalc_server, proj):
    _, key = cocalc_server.ctx.store.create_api_key(cocalc_server.account_id, project_id=proj.project_id, name="pk")
    pk = CoCalc(host=cocalc_server.url, api_key=key)
    me = pk.whoami()
    assert (me.scope, me.project_id, me.account_id) == ("project", proj.project_id, None)
    p = pk.project(proj.project_id)
    assert p.exec("echo", "scoped").stdout == "scoped\n"
    with pytest.raises(E.AuthenticationError) as info:
        pk.projects()
    assert "account key" in str(info.value)


@pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)
def test_ping_works_with_a_project_scoped_key(cocalc_server, proj):
    """The hub bridge refuses project keys with the "must be signed in" text of a wrong key; ping
    goes to the key's project then, so any valid key pings (a real hub answered "listing projects
    needs an account key")."""
    _, key = cocalc_server.ctx.store.create_api_key(cocalc_server.account_id, project_id=proj.project_id, name="pk")
    pong = CoCalc(host=cocalc_server.url, api_key=key).ping()
    assert pong.api == "conat" and pong.now is not None
    pong = CoCalc(host=cocalc_server.url, api_key=key, api="conat").ping()  # no detection first
    assert pong.now is not None
    with pytest.raises(E.AuthenticationError):
        CoCalc(host=cocalc_server.url, api_key="sk-" + "x" * 24, api="conat").ping()  # a wrong key still fails
