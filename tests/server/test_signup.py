"""/api/v2/auth/sign-up as recorded ("auth/sign-up" in real-hub-transcripts.md); without a key it
is open only on a server started with allow_sign_up (CoCalc's email_signup setting)."""

import pytest
import requests

from cocalc_magic.server import LocalServer

GENERATIONS = pytest.mark.parametrize("cocalc_server", ["v1", "conat"], indirect=True)


def post(srv, body, key=None, session=None):
    http = session or requests
    auth = (key, "") if key else None
    return http.post(f"{srv.url}/api/v2/auth/sign-up", json=body, auth=auth, timeout=10)


@GENERATIONS
def test_admin_key_creates_an_account_without_signing_in(cocalc_server):
    r = post(cocalc_server, {"email": "bob3@x.test", "password": "pw-strong-1", "firstName": "Bob",
                             "lastName": "Third", "terms": True}, key=cocalc_server.api_key)
    assert r.status_code == 200 and set(r.json()) == {"account_id"}
    assert "remember_me" not in r.cookies
    acct = cocalc_server.ctx.store.account(r.json()["account_id"])
    assert (acct["first_name"], acct["last_name"], acct["email_address"]) == ("Bob", "Third", "bob3@x.test")
    again = post(cocalc_server, {"email": "bob3@x.test", "password": "pw-strong-1", "terms": True}, key=cocalc_server.api_key)
    assert again.json() == {"issues": {"email": 'Email address "bob3@x.test" already in use.'}}


@GENERATIONS
def test_non_admin_key_is_refused(cocalc_server):
    store = cocalc_server.ctx.store
    user = store.create_account("plain@x.test", "pw-strong-2")
    _, key = store.create_api_key(user)
    r = post(cocalc_server, {"email": "carol@x.test", "password": "pw-strong-3", "terms": True}, key=key)
    assert r.json() == {"issues": {"api": "Error: Only users in the group 'admin' are allowed to create new users."}}
    assert store.account_by_email("carol@x.test") is None


@GENERATIONS
def test_every_obvious_problem_is_listed_at_once(cocalc_server):
    r = post(cocalc_server, {"email": "not-an-email", "password": "123"})
    assert r.status_code == 200
    assert r.json() == {"issues": {
        "terms": "You must agree to the terms of usage.",
        "email": "You must provide a valid email address -- 'not-an-email' is not valid.",
        "password": "Your password must not be very easy to guess.",
    }}


@pytest.fixture(params=["v1", "conat"])
def open_server(request, tmp_path):
    with LocalServer(data_dir=tmp_path, api=request.param, allow_sign_up=True, start_delay=0) as srv:
        yield srv


def test_sign_up_without_a_key_signs_the_browser_in_when_the_server_allows_it(open_server):
    http = requests.Session()
    r = post(open_server, {"email": "dora@x.test", "password": "pw-strong-4", "terms": True}, session=http)
    account_id = r.json()["account_id"]
    assert open_server.ctx.store.session_account(http.cookies["remember_me"]) == account_id
    assert open_server.ctx.store.check_password(account_id, "pw-strong-4")
    assert requests.post(f"{open_server.url}/api/v2/customize", json={}, timeout=10).json()["emailSignup"] is True


@GENERATIONS
def test_sign_up_without_a_key_is_off_by_default(cocalc_server):
    http = requests.Session()
    r = post(cocalc_server, {"email": "mallory@x.test", "password": "pw-strong-5", "terms": True}, session=http)
    assert r.status_code == 200 and r.json() == {"issues": {"email": "Email account creation is disabled."}}
    assert cocalc_server.ctx.store.account_by_email("mallory@x.test") is None
    assert "remember_me" not in http.cookies
    assert requests.post(f"{cocalc_server.url}/api/v2/customize", json={}, timeout=10).json()["emailSignup"] is False


@GENERATIONS
def test_nobody_gets_from_the_open_port_to_running_commands(cocalc_server):
    """The issue's chain: sign up, mint a key with the cookie, exec as the server's user."""
    http = requests.Session()
    post(cocalc_server, {"email": "eve@x.test", "password": "pw-strong-6", "terms": True}, session=http)
    minted = http.post(f"{cocalc_server.url}/api/v2/api-keys", json={"action": "create", "name": "x"}, timeout=10)
    assert minted.json() == {"error": "must be signed in"}
