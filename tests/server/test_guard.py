"""What every request passes before a handler runs (server/guard.py): the Host it names (DNS
rebinding), the Origin of a browser's state-changing request (cross-site forms), and the size its
body announces (refused before it is read). Each holds for every route, including one added
after the server started."""

from __future__ import annotations

import socket
import time

import pytest
import requests
import tornado.web

from cocalc_magic.server import LocalServer

ROUTES = [  # (method, path, generation): API of each generation, /api/v2, pages, static, 404
    ("POST", "/api/conat/hub", "conat"), ("POST", "/api/conat/project", "conat"),
    ("POST", "/api/v1/ping", "v1"), ("POST", "/api/v2/auth/sign-up", "conat"),
    ("POST", "/api/v2/projects/get", "conat"), ("GET", "/app", "conat"),
    ("POST", "/auth/sign-in", "v1"), ("GET", "/static/cocalc-magic/kiosk.js", "conat"),
    ("GET", "/no/such/page", "conat"),
]


def send(srv, method: str, path: str, **kw) -> requests.Response:
    return requests.request(method, srv.url + path, timeout=10, allow_redirects=False, **kw)


@pytest.mark.parametrize("method,path,api", ROUTES)
def test_a_foreign_host_is_refused_on_every_route(cocalc_servers, method, path, api):
    # DNS rebinding: the attacker's name resolves to 127.0.0.1; the browser still sends its Host.
    srv = cocalc_servers(api)
    r = send(srv, method, path, headers={"Host": f"attacker.example:{srv.port}"}, json={"name": "system.ping"})
    assert r.status_code == 403, (path, r.status_code, r.text[:200])
    assert "attacker.example" in r.json()["error"] and "--allow-host" in r.json()["error"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST.", "[::1]", "127.0.0.2"])
def test_loopback_names_are_answered(cocalc_servers, host):
    srv = cocalc_servers("conat")
    r = send(srv, "POST", "/api/conat/hub", headers={"Host": f"{host}:{srv.port}"}, json={"name": "system.ping"},
             auth=(srv.api_key, ""))
    assert r.status_code == 200 and "now" in r.json()


def test_configured_names_are_answered_and_star_answers_any(tmp_path):
    with LocalServer(data_dir=tmp_path / "a", allowed_hosts=["cocalc.my-laptop.example"], start_delay=0) as srv:
        ok = send(srv, "GET", "/app", headers={"Host": "cocalc.my-laptop.example"})
        bad = send(srv, "GET", "/app", headers={"Host": "other.example"})
        assert ok.status_code == 200 and bad.status_code == 403
    with LocalServer(data_dir=tmp_path / "b", allowed_hosts=["*"], start_delay=0) as srv:
        assert send(srv, "GET", "/app", headers={"Host": "anything.example"}).status_code == 200


def test_a_route_added_later_inherits_the_checks(tmp_path):
    class Late(tornado.web.RequestHandler):
        def post(self) -> None:
            self.write("late route ran")

    with LocalServer(data_dir=tmp_path, start_delay=0) as srv:
        srv.app.add_handlers(r".*", [(r"/_late", Late)])
        assert send(srv, "POST", "/_late").text == "late route ran"
        assert send(srv, "POST", "/_late", headers={"Host": "evil.example"}).status_code == 403
        assert send(srv, "POST", "/_late", headers={"Origin": "https://evil.example"}).status_code == 403
        big = raw(srv, "/_late", 50_000_000)
        assert big.startswith(b"HTTP/1.1 413"), big[:80]


@pytest.mark.parametrize("method,path,api", [r for r in ROUTES if r[0] == "POST"])
@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:1"])
def test_a_cross_origin_state_change_from_a_browser_is_refused(cocalc_servers, method, path, api, origin):
    srv = cocalc_servers(api)
    r = send(srv, method, path, headers={"Origin": origin}, data={"email": "a@b.c", "password": "x"})
    assert r.status_code == 403, (path, origin, r.status_code, r.text[:200])
    assert r.json()["error"].startswith("cross-origin request refused")


def test_same_origin_and_non_browser_requests_pass(cocalc_servers):
    srv = cocalc_servers("conat")
    for headers in ({}, {"Origin": srv.url}, {"Origin": f"http://localhost:{srv.port}"}):
        r = send(srv, "POST", "/api/conat/hub", headers=headers, json={"name": "system.ping"}, auth=(srv.api_key, ""))
        assert r.status_code == 200 and "now" in r.json(), (headers, r.text)
    # reading is not a state change: a GET with a foreign Origin is answered
    assert send(srv, "GET", "/app", headers={"Origin": "https://evil.example"}).status_code == 200


def raw(srv, path: str, length: int, ctype: str = "application/json") -> bytes:
    """Announce a ``length``-byte body, send none of it, and return what the server answers."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\n"
                  f"Content-Length: {length}\r\n\r\n".encode())
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except socket.timeout:
            pass
        return out


@pytest.mark.parametrize("path,api,expected", [
    ("/api/conat/hub", "conat", b"Body exceeded 1mb limit"),
    ("/api/v2/auth/sign-in", "conat", b"Body exceeded 1mb limit"),
    ("/api/v1/ping", "v1", b"the API v1 accepts at most 102400 bytes"),
    ("/auth/sign-in", "conat", b"request entity too large"),
])
def test_a_body_over_the_limit_is_refused_by_its_length_before_it_is_sent(cocalc_servers, path, api, expected):
    srv = cocalc_servers(api)
    started = time.monotonic()
    answer = raw(srv, path, 60_000_000)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert expected in answer
    assert time.monotonic() - started < 4  # answered at once, not after waiting for 60 MB


def test_a_chunked_body_is_cut_off_while_it_streams(cocalc_servers):
    srv = cocalc_servers("conat")
    sent = 0

    def body():
        nonlocal sent
        for _ in range(6000):  # 60 MB if the server kept reading
            sent += 10_000
            yield b" " * 10_000

    try:
        r = requests.post(srv.url + "/api/conat/hub", data=body(), headers={"Content-Type": "application/json"},
                          timeout=10)
        assert r.status_code in (400, 413)
    except requests.exceptions.ConnectionError:
        pass  # the server closed the connection on us: that is the point
    assert sent < 20_000_000, sent


def test_eight_announced_60_mb_bodies_are_all_refused_at_once(cocalc_servers):
    srv = cocalc_servers("conat")
    socks = []
    for _ in range(8):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        s.sendall(b"POST /api/v2/auth/sign-up HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 60000000\r\n\r\n" + b"{" * 65536)
        socks.append(s)
    for s in socks:
        with s:
            assert s.recv(100).startswith(b"HTTP/1.1 413")


def test_sign_in_tokens_in_failing_requests_never_reach_the_log(cocalc_servers, caplog):
    """tornado logs the whole URI of a request that fails (a 403 static path, a 405 method, an
    uncaught error); a real ?auth_token= must not land in the server's log."""
    import logging

    srv = cocalc_servers("conat")
    token = srv.ctx.store.create_auth_token(srv.account_id, srv.account_id, ttl_s=60, is_admin=True)
    with caplog.at_level(logging.DEBUG):
        requests.get(f"{srv.url}/static/cocalc-magic/..%2F..%2Fx?auth_token={token}", timeout=10)
        requests.request("PROPFIND", f"{srv.url}/app?auth_token={token}&api_key=sk-secret-value", timeout=10)
        requests.request("PROPFIND", f"{srv.url}/auth/impersonate?x=1&auth_token={token}", timeout=10)
    server = [r for r in caplog.records if r.name.startswith(("tornado", "cocalc_magic.server"))]
    text = "\n".join(r.getMessage() for r in server)  # (urllib3, the test's client, logs its own URLs)
    assert token not in text and "sk-secret-value" not in text
    assert "auth_token=…" in text  # the line is there, the token is not
