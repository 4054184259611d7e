"""cc.embed: kiosk URLs, the sign-in URL of each generation, and the framing check."""

from __future__ import annotations

import pytest
import requests

from cocalc_magic.client import CoCalc
from cocalc_magic.server import LocalServer


@pytest.mark.parametrize("cocalc_server", ["v1", "conat"], indirect=True)
def test_embed_urls_sign_in(cocalc_server):
    cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key)
    p = cc.create_project("embed target")
    p.write("nb/demo.txt", "hello embed\n")
    e = cc.embed(p, "nb/demo.txt")
    assert e.api == cocalc_server.api and e.origin == cocalc_server.url
    assert e.kiosk_url == f"{cocalc_server.url}/projects/{p.project_id}/files/nb/demo.txt?fullscreen=kiosk&session="
    assert e.framing.allowed, e.framing.reason
    assert e.token_error is None and e.signin_url
    token = e.signin_url.split("auth_token=")[1]
    assert token not in repr(e) and "auth_token=…" in repr(e)
    if cc.api == "v1":
        assert e.signin_url == f"{e.kiosk_url}&auth_token={token}"
        assert e.new_tab_url == e.signin_url
    else:
        assert e.signin_url == f"{cocalc_server.url}/auth/impersonate?auth_token={token}"
    # the sign-in URL really signs a browser in: a remember_me cookie comes back
    with requests.Session() as browser:
        browser.get(e.signin_url, timeout=10)
        assert "remember_me" in browser.cookies.get_dict()


@pytest.mark.parametrize("cocalc_server", ["v1", "conat"], indirect=True)
def test_embed_without_token_says_why(cocalc_server):
    cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key)
    store = cocalc_server.ctx.store
    email = f"nonadmin-embed-{cocalc_server.api}@example.com"
    acct = store.account_by_email(email) or None
    account_id = acct["account_id"] if acct else store.create_account(email, "a-Strong-passw0rd!", "No", "Admin")
    _, key = store.create_api_key(account_id, name="embed")
    user = CoCalc(host=cocalc_server.url, api_key=key)
    p = user.create_project("mine")
    e = user.embed(p, "a.ipynb", password="a-Strong-passw0rd!")
    assert e.signin_url and e.token_error is None and e.can_sign_in
    e = user.embed(p, "a.ipynb", token=False)
    assert e.signin_url is None and e.token_error is None
    # a non-admin without its password gets no token (and the server then bans retries briefly)
    e = user.embed(p, "a.ipynb")
    assert e.signin_url is None and e.token_error and "password" in e.token_error
    assert "\n" not in e.token_error and e.new_tab_url.startswith(cocalc_server.url)
    assert e.can_sign_in is False and e.new_tab_url == f"{cocalc_server.url}/projects/{p.project_id}/files/a.ipynb"
    # remembered: asking again (within the ban) repeats the reason instead of the ban text
    again = user.embed(p, "b.ipynb")
    assert again.can_sign_in is False and again.token_error == e.token_error
    assert user.embed(p, "a.ipynb", token=False).can_sign_in is True  # nothing was asked
    del cc


def test_framing_forbidden_is_reported():
    with LocalServer(api="conat", start_delay=0.05, frame_ancestors="'none'") as srv:
        cc = CoCalc(host=srv.url, api_key=srv.api_key)
        e = cc.embed(cc.create_project("x"), "a.txt", token=False)
        assert not e.framing.allowed
        assert "forbids framing" in e.framing.reason


@pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)
def test_a_backend_without_sign_in_tokens_is_asked_nothing(cocalc_server, monkeypatch):
    """Where keys make no sign-in tokens (cocalc.ai's backend says so), embed asks the server
    nothing about tokens (not even whoami) and says why, once per client."""
    from cocalc_magic.errors import NotSupported

    cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key)
    calls = []

    def refuse(account_id, password):
        calls.append(account_id)
        raise NotSupported("cocalc.ai does not allow API keys to make sign-in tokens")

    monkeypatch.setattr(cc._b, "makes_signin_tokens", False)
    monkeypatch.setattr(cc._b, "auth_token", refuse)
    monkeypatch.setattr(cc, "whoami", lambda: pytest.fail("whoami was called"))
    first = cc.embed("00000000-0000-4000-8000-000000000001", "a.ipynb")
    second = cc.embed("00000000-0000-4000-8000-000000000001", "b.ipynb")
    assert first.can_sign_in is False and first.signin_url is None
    assert first.token_error == second.token_error == "cocalc.ai does not allow API keys to make sign-in tokens"
    assert calls == [""]


@pytest.mark.parametrize("cocalc_server", ["ai"], indirect=True)
def test_embed_on_cocalc_ai_says_no_key_signs_a_browser_in(cocalc_server):
    cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key)
    p = cc.project(cocalc_server.project_id)
    before = cc._transport.calls
    e = cc.embed(p, "nb/a.ipynb")
    assert cc._transport.calls == before  # no token asked for (the framing check is a GET without the key)
    assert e.api == "ai" and e.signin_url is None and e.can_sign_in is False
    assert "cocalc.ai does not let API keys make sign-in tokens" in e.token_error and "\n" not in e.token_error
    assert e.new_tab_url == f"{cocalc_server.url}/projects/{p.project_id}/files/nb/a.ipynb"
    assert e.kiosk_url == f"{e.new_tab_url}?fullscreen=kiosk&session="
