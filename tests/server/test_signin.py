"""Getting a key without the web UI: v2 auth/sign-in, v2 api-keys, and the /app?get_api_key= page.

Shapes and texts from real-hub-transcripts.md ("auth/sign-in", "api-keys") and CoCalc's
sign-in.ts/throttle.ts. Both generations serve these routes.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import tornado.web

from cocalc_magic.server import LocalServer
from cocalc_magic.server.v2.signin import render_get_api_key_page

ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
GENERATIONS = pytest.mark.parametrize("cocalc_server", ["v1", "conat"], indirect=True)


def new_account(srv) -> tuple[str, str, str]:
    email = f"s-{uuid.uuid4().hex[:10]}@m.local"
    password = "pw-" + uuid.uuid4().hex[:10]
    acct = srv.ctx.store.create_account(email, password, "Alice", "Example")
    return acct, email, password


def v2(srv, path, body, **kw) -> requests.Response:
    return requests.post(f"{srv.url}/api/v2/{path}", json=body, timeout=30, **kw)


@GENERATIONS
def test_sign_in_sets_cookies_and_answers_account_id(cocalc_server):
    acct, email, password = new_account(cocalc_server)
    r = v2(cocalc_server, "auth/sign-in", {"email": email.upper(), "password": password})
    assert (r.status_code, r.json()) == (200, {"account_id": acct})
    cookies = r.headers.get("Set-Cookie", "")
    assert "remember_me=" in cookies and "HttpOnly" in cookies and "SameSite=Strict" in cookies
    assert r.cookies["account_id"] == acct
    assert cocalc_server.ctx.store.session_account(r.cookies["remember_me"]) == acct


@GENERATIONS
def test_sign_in_cookie_follows_the_samesite_site_setting(cocalc_server):
    """set-sign-in-cookies.ts takes SameSite from the site setting samesite_remember_me, for the
    v2 sign-in as for /auth/impersonate (an admin may relax it for cross-site embedding)."""
    store = cocalc_server.ctx.store
    before = store.setting("samesite_remember_me")  # the server is shared: put it back afterwards
    try:
        store.set_setting("samesite_remember_me", "lax")
        acct, email, password = new_account(cocalc_server)
        r = v2(cocalc_server, "auth/sign-in", {"email": email, "password": password})
        assert r.json() == {"account_id": acct}
        remember_me = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("remember_me=")]
        assert len(remember_me) == 1 and "SameSite=Lax" in remember_me[0] and "HttpOnly" in remember_me[0]
    finally:
        store.set_setting("samesite_remember_me", before)


@GENERATIONS
def test_sign_in_error_texts(cocalc_server):
    acct, email, password = new_account(cocalc_server)
    cases = [
        ({"email": email, "password": "wrong"}, f"Problem signing into account -- password for '{email}' is incorrect."),
        ({"email": "nobody-" + email, "password": "whatever-123"},
         f"Problem signing into account -- no account with email address 'nobody-{email}'."),
        ({"email": email}, "Problem signing into account -- Cannot read properties of undefined (reading 'length')."),
    ]
    for body, text in cases:
        r = v2(cocalc_server, "auth/sign-in", body)
        assert (r.status_code, r.json()) == (200, {"error": text})
        assert "remember_me" not in r.cookies


def test_sign_in_throttle(tmp_path):
    with LocalServer(data_dir=tmp_path, api="v1", start_delay=0) as srv:
        acct, email, password = new_account(srv)
        for _ in range(6):
            assert "incorrect" in v2(srv, "auth/sign-in", {"email": email, "password": "bad"}).json()["error"]
        r = v2(srv, "auth/sign-in", {"email": email, "password": password})  # even the right password now
        assert r.json() == {"error": f'Too many attempts per minute to sign in as "{email}". Wait one minute, then try again.'}
        # the same account through the HTML form and the get-api-key page: the same count
        form = requests.post(f"{srv.url}/auth/sign-in", data={"email": email, "password": password}, timeout=10,
                             allow_redirects=False)
        assert form.status_code == 200 and "Too many attempts per minute" in form.text
        page = requests.post(f"{srv.url}/app/get-api-key", data={"email": email, "password": password,
                                                                  "get_api_key": "x"}, timeout=10, allow_redirects=False)
        assert page.status_code == 200 and "Too many attempts per minute" in page.text


def test_failures_on_loopback_do_not_lock_everyone_out(tmp_path):
    """Every loopback client is 127.0.0.1: a per-IP count there would let 31 failures by anyone
    lock every user out, so on loopback only the per-account limits apply."""
    with LocalServer(data_dir=tmp_path, api="conat", start_delay=0) as srv:
        for i in range(40):
            v2(srv, "auth/sign-in", {"email": f"x{i}@m.local", "password": "bad"})
        acct2, email2, password2 = new_account(srv)
        assert v2(srv, "auth/sign-in", {"email": email2, "password": password2}).json() == {"account_id": acct2}


def test_the_per_ip_limit_holds_for_other_addresses():
    from cocalc_magic.server.core.throttle import SignInThrottle

    now = [1000.0]
    t = SignInThrottle(clock=lambda: now[0])
    for i in range(31):
        t.failed(f"email:x{i}@m.local", "203.0.113.7")
    text = "Too many attempts per minute to sign in from your computer. Wait one minute, then try again."
    assert t.refusal("email:someone@m.local", "203.0.113.7", "someone@m.local") == text
    assert t.refusal("email:someone@m.local", "203.0.113.8", "someone@m.local") is None
    now[0] += 61  # the minute is over; the hour's limit (200) is not reached
    assert t.refusal("email:someone@m.local", "203.0.113.7", "someone@m.local") is None


def test_failure_logs_forget_and_stay_bounded():
    """Each failed guess with a fresh token or e-mail adds a key: they must not pile up."""
    from cocalc_magic.server.core.throttle import FailureLog

    now = [0.0]
    log = FailureLog(horizon_s=3600, max_keys=500, clock=lambda: now[0])
    for i in range(20_000):
        log.record(f"token:{i}")
        now[0] += 1.0  # 20,000 guesses over 5.5 hours
    assert len(log) <= 500
    now[0] += 3600
    for i in range(1000):
        log.record(f"late:{i}")  # a sweep drops everything older than the hour
    assert all(str(k).startswith("late:") for k in log._times)


@GENERATIONS
def test_sign_in_get_is_refused(cocalc_server):
    r = requests.get(f"{cocalc_server.url}/api/v2/auth/sign-in")
    assert (r.status_code, r.json()) == (405, {"message": "Method not allowed."})


@GENERATIONS
def test_api_keys_life_cycle_with_a_key(cocalc_server):
    srv = cocalc_server
    acct, email, password = new_account(srv)
    _, key = srv.ctx.store.create_api_key(acct, name="ci-testing")
    auth = (key, "")
    r = v2(srv, "api-keys", {"action": "get"}, auth=auth).json()
    assert list(r) == ["response"] and len(r["response"]) == 1
    row = r["response"][0]
    assert list(row) == ["id", "account_id", "expire", "created", "name", "trunc", "last_active"]
    assert row["account_id"] == acct and row["expire"] is None and row["name"] == "ci-testing"
    assert ISO_RE.match(row["created"]) and ISO_RE.match(row["last_active"])
    assert row["trunc"] == key[:3] + "..." + key[-6:] and "secret" not in row
    created = v2(srv, "api-keys", {"action": "create", "name": "v2-temp-key"}, auth=auth).json()["response"][0]
    assert list(created) == ["id", "account_id", "expire", "created", "name", "last_active", "trunc", "secret"]
    assert created["secret"].startswith("sk-") and created["last_active"] is None
    new_key = created["secret"]
    # the new key works (here: on the v1 ping or the v2 api-keys route itself)
    got = v2(srv, "api-keys", {"action": "get", "id": created["id"]}, auth=(new_key, "")).json()["response"]
    assert [k["name"] for k in got] == ["v2-temp-key"] and "secret" not in got[0]
    assert v2(srv, "api-keys", {"action": "edit", "id": created["id"], "name": "renamed"}, auth=auth).json() == {}
    assert v2(srv, "api-keys", {"action": "get", "id": created["id"]}, auth=auth).json()["response"][0]["name"] == "renamed"
    assert v2(srv, "api-keys", {"action": "delete", "id": created["id"]}, auth=auth).json() == {}
    assert v2(srv, "api-keys", {"action": "get", "id": created["id"]}, auth=auth).json() == {"response": []}
    r = v2(srv, "api-keys", {"action": "get"}, auth=(new_key, ""))
    assert r.json() == {"error": "must be signed in"}  # the deleted key no longer signs anyone in
    assert v2(srv, "api-keys", {"action": "frobnicate"}, auth=auth).json() == {}


@GENERATIONS
def test_api_keys_with_the_sign_in_cookie_and_errors(cocalc_server):
    srv = cocalc_server
    acct, email, password = new_account(srv)
    s = requests.Session()
    assert s.post(f"{srv.url}/api/v2/auth/sign-in", json={"email": email, "password": password}).json() == {"account_id": acct}
    r = s.post(f"{srv.url}/api/v2/api-keys", json={"action": "create", "name": "user2-account-key"}).json()
    assert r["response"][0]["account_id"] == acct and r["response"][0]["secret"].startswith("sk-")
    assert v2(srv, "api-keys", {"action": "get"}).json() == {"error": "must be signed in"}
    other_acct, _, _ = new_account(srv)
    theirs = srv.ctx.store.create_project(other_acct, "not yours")
    r = s.post(f"{srv.url}/api/v2/api-keys", json={"action": "get", "project_id": theirs}).json()
    assert r == {"error": "user must be collaborator on project to manage project_id api keys"}
    mine = srv.ctx.store.create_project(acct, "mine")
    pk = s.post(f"{srv.url}/api/v2/api-keys", json={"action": "create", "name": "pk", "project_id": mine}).json()
    secret = pk["response"][0]["secret"]
    r = v2(srv, "api-keys", {"action": "get"}, auth=(secret, ""))
    assert r.json() == {"error": "account_id is not a valid account"}
    keys = s.post(f"{srv.url}/api/v2/api-keys", json={"action": "get", "project_id": mine}).json()["response"]
    assert [k["name"] for k in keys] == ["pk"]
    # someone else's key id cannot be deleted
    _, their_key = srv.ctx.store.create_api_key(other_acct, name="theirs")
    their_id = srv.ctx.store.resolve_api_key(their_key)["key_id"]
    s.post(f"{srv.url}/api/v2/api-keys", json={"action": "delete", "id": their_id})
    assert srv.ctx.store.resolve_api_key(their_key)


def test_v2_body_limit(cocalc_servers):
    srv = cocalc_servers("v1")
    r = v2(srv, "auth/sign-in", {"email": "x@y.z", "password": "p" * 1_100_000})
    assert (r.status_code, r.text) == (413, "Body exceeded 1mb limit")


# ------------------------------------------------------------------------- the seed's page
class _AppPage(tornado.web.RequestHandler):
    """What the web helper's /app handler does with ?get_api_key= (a stand-in for the test)."""

    def initialize(self, ctx):
        self.ctx = ctx

    def get(self):
        render_get_api_key_page(self, self.get_argument("get_api_key"))


@pytest.fixture
def page_server(tmp_path):
    """A LocalServer, plus a one-route app on its loop serving the page at ``srv.page_url``."""
    import asyncio

    import tornado.httpserver
    import tornado.netutil

    with LocalServer(data_dir=tmp_path, api="v1", start_delay=0) as srv:
        async def start():
            app = tornado.web.Application([(r"/test-app", _AppPage, {"ctx": srv.ctx})])
            sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
            server = tornado.httpserver.HTTPServer(app)
            server.add_sockets(sockets)
            return server, sockets[0].getsockname()[1]

        server, port = asyncio.run_coroutine_threadsafe(start(), srv._loop).result(5)
        srv.page_url = f"http://127.0.0.1:{port}/test-app"
        yield srv
        srv._loop.call_soon_threadsafe(server.stop)


def test_get_api_key_page_signs_in_and_redirects_with_a_fresh_key(page_server):
    srv = page_server
    acct, email, password = new_account(srv)
    page = requests.get(srv.page_url, params={"get_api_key": "myapp"})
    assert page.status_code == 200
    assert "CoCalc API Key Access for Myapp" in page.text
    assert 'id="sign-in"' in page.text and 'action="/app/get-api-key"' in page.text
    r = requests.post(f"{srv.url}/app/get-api-key", data={"get_api_key": "myapp", "email": email, "password": "bad"},
                      allow_redirects=False)
    assert r.status_code == 200 and "password for" in r.text and "is incorrect" in r.text
    r = requests.post(f"{srv.url}/app/get-api-key", data={"get_api_key": "myapp", "email": email, "password": password},
                      allow_redirects=False)
    assert r.status_code == 302
    loc = urlparse(r.headers["Location"])
    assert (loc.scheme, loc.netloc, loc.path) == ("https", "authenticated", "/")
    key = parse_qs(loc.query)["api_key"][0]
    resolved = srv.ctx.store.resolve_api_key(key)
    assert resolved["account_id"] == acct and resolved["project_id"] is None
    assert srv.ctx.store.api_key(resolved["key_id"])["name"] == "myapp"
    # the key is a working v1 key
    pong = requests.post(f"{srv.url}/api/v1/ping", auth=(key, ""), json={}).json()
    assert pong["event"] == "pong"
    # a second round gives another, fresh key
    r2 = requests.post(f"{srv.url}/app/get-api-key", data={"get_api_key": "myapp", "email": email, "password": password},
                       allow_redirects=False)
    assert parse_qs(urlparse(r2.headers["Location"]).query)["api_key"][0] != key


def test_get_api_key_page_escapes_the_app_name(page_server):
    srv = page_server
    page = requests.get(srv.page_url, params={"get_api_key": "<script>x</script>"})
    assert "<script>x</script>" not in page.text and "&lt;script&gt;" in page.text


def test_get_api_key_with_a_session_needs_no_password(page_server):
    srv = page_server
    acct, email, password = new_account(srv)
    s = requests.Session()
    s.post(f"{srv.url}/api/v2/auth/sign-in", json={"email": email, "password": password})
    page = s.get(srv.page_url, params={"get_api_key": "myapp"})
    assert 'name="password"' not in page.text and "Authorize" in page.text
    r = s.post(f"{srv.url}/app/get-api-key", data={"get_api_key": "myapp"}, allow_redirects=False)
    key = parse_qs(urlparse(r.headers["Location"]).query)["api_key"][0]
    assert srv.ctx.store.resolve_api_key(key)["account_id"] == acct
    # without a session the same post is a failed sign-in, not a key
    r = requests.post(f"{srv.url}/app/get-api-key", data={"get_api_key": "myapp"}, allow_redirects=False)
    assert r.status_code == 200 and "Problem signing into account" in r.text


@GENERATIONS
def test_app_get_api_key_route_end_to_end(cocalc_server):
    """Through the real /app route (the web pages delegate ?get_api_key= here)."""
    srv = cocalc_server
    acct, email, password = new_account(srv)
    page = requests.get(f"{srv.url}/app", params={"get_api_key": "myapp"})
    assert page.status_code == 200 and "CoCalc API Key Access for Myapp" in page.text
    csp = page.headers["Content-Security-Policy"]
    assert "form-action 'self' https://authenticated" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp and "<script" not in page.text
    r = requests.post(f"{srv.url}/app/get-api-key", data={"get_api_key": "myapp", "email": email, "password": password},
                      allow_redirects=False)
    key = parse_qs(urlparse(r.headers["Location"]).query)["api_key"][0]
    assert srv.ctx.store.resolve_api_key(key)["account_id"] == acct
