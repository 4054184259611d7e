"""The pages a browser sees, through a real HTTP client with cookies, on both generations."""

from __future__ import annotations

import base64
import json
import re
import time

import pytest
import requests

from cocalc_magic.server import LocalServer

BOTH = pytest.mark.parametrize("cocalc_server", ["v1", "conat"], indirect=True)
V1 = pytest.mark.parametrize("cocalc_server", ["v1"], indirect=True)
CURRENT = pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)

PNG_1x1 = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082"
    )
).decode()

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Results\n", "A *small* table <script>alert('md')</script>"]},
        {
            "cell_type": "code", "execution_count": 3, "metadata": {},
            "source": ["print('hello from the notebook')\n", "2 + 3"],
            "outputs": [
                {"output_type": "stream", "name": "stdout", "text": ["hello from the notebook\n"]},
                {"output_type": "execute_result", "execution_count": 3, "metadata": {},
                 "data": {"text/plain": ["5"]}},
                {"output_type": "display_data", "metadata": {},
                 "data": {"image/png": PNG_1x1, "text/plain": ["<Figure>"]}},
                {"output_type": "display_data", "metadata": {},
                 "data": {"text/html": ["<table><tr><td onclick=\"steal()\">42</td></tr></table><script>steal()</script>"]}},
            ],
        },
        {"cell_type": "code", "execution_count": 4, "metadata": {}, "source": "1/0",
         "outputs": [{"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
                      "traceback": ["\x1b[0;31mZeroDivisionError\x1b[0m: division by zero"]}]},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "nbformat": 4, "nbformat_minor": 5,
}


@pytest.fixture
def site(cocalc_server):
    """A project of a fresh user (with a password) holding a notebook and a markdown file."""
    store = cocalc_server.ctx.store
    n = time.time_ns()
    email, password = f"web-{n}@example.com", "correct horse 42"
    account_id = store.create_account(email, password, "Web", "User")
    project_id = store.create_project(account_id, f"Web {n}")
    home = store.home(project_id)
    (home / "work").mkdir()
    (home / "work" / "demo.ipynb").write_text(json.dumps(NOTEBOOK))
    (home / "notes.md").write_text("# Notes\n\n<b>not bold</b> plain *markdown*\n")

    class Site:
        pass

    s = Site()
    s.srv, s.store, s.url = cocalc_server, store, cocalc_server.url
    s.email, s.password, s.account_id, s.project_id = email, password, account_id, project_id
    s.file_url = f"{s.url}/projects/{project_id}/files/work/demo.ipynb"
    s.kiosk_url = s.file_url + "?fullscreen=kiosk&session="
    s.token = lambda ttl=3600, acct=account_id: store.create_auth_token(acct, cocalc_server.account_id, ttl)
    return s


def set_cookies(resp: requests.Response) -> dict[str, str]:
    """Raw Set-Cookie headers by cookie name (attributes included)."""
    out = {}
    for header in resp.raw.headers.getlist("Set-Cookie"):
        out[header.split("=", 1)[0]] = header
    return out


def cookie_expiry_hours(header: str) -> float:
    from email.utils import parsedate_to_datetime

    m = re.search(r"expires=([^;]+)", header, re.I)
    return (parsedate_to_datetime(m.group(1)).timestamp() - time.time()) / 3600


def signed_in_session(site) -> requests.Session:
    s = requests.Session()
    r = s.post(f"{site.url}/auth/sign-in", data={"email": site.email, "password": site.password, "next": "/app"})
    assert r.status_code == 200 and s.cookies.get("remember_me")
    return s


# ---------------------------------------------------------------------------- signed out
@BOTH
@pytest.mark.parametrize("which", ["file", "kiosk", "app", "app-kiosk"])
def test_signed_out_visitor_gets_the_sign_in_page_not_the_file(site, which):
    url = {"file": site.file_url, "kiosk": site.kiosk_url, "app": f"{site.url}/app",
           "app-kiosk": f"{site.url}/app?fullscreen=kiosk&session="}[which]
    r = requests.get(url)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert '<form id="sign-in" method="post" action="/auth/sign-in">' in r.text
    assert "hello from the notebook" not in r.text and "cocalc-cell" not in r.text


@BOTH
def test_sign_in_form_sets_the_cookie_and_returns_to_the_page(site):
    s = requests.Session()
    page = s.get(site.file_url)
    nxt = re.search(r'name="next" value="([^"]+)"', page.text).group(1)
    assert nxt == f"/projects/{site.project_id}/files/work/demo.ipynb"
    r = s.post(f"{site.url}/auth/sign-in", data={"email": site.email.upper(), "password": site.password, "next": nxt},
               allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == nxt
    cookies = set_cookies(r)
    assert "HttpOnly" in cookies["remember_me"] and "samesite=strict" in cookies["remember_me"].lower()
    assert ("account_id" in cookies) == (site.srv.api == "conat")  # the account_id cookie came in 2025
    r = s.get(site.url + nxt)
    assert "hello from the notebook" in r.text and 'id="sign-in"' not in r.text


@BOTH
def test_sign_in_form_errors_use_cocalcs_texts(site):
    s = requests.Session()
    r = s.post(f"{site.url}/auth/sign-in", data={"email": site.email, "password": "wrong", "next": "/app"})
    assert f"Problem signing into account -- password for &#x27;{site.email}&#x27; is incorrect." in r.text
    r = s.post(f"{site.url}/auth/sign-in", data={"email": "nobody@example.com", "password": "x", "next": "/app"})
    assert "Problem signing into account -- no account with email address &#x27;nobody@example.com&#x27;." in r.text
    assert not s.cookies.get("remember_me")


@BOTH
def test_sign_in_never_redirects_off_site(site):
    s = requests.Session()
    r = s.post(f"{site.url}/auth/sign-in", data={"email": site.email, "password": site.password,
                                                  "next": "//evil.example/x"}, allow_redirects=False)
    assert r.headers["Location"] == "/app"


# ---------------------------------------------------------------------------- current: /auth/impersonate
@CURRENT
def test_impersonate_sets_cookies_and_redirects_with_javascript(site):
    s = requests.Session()
    token = site.token()
    r = s.get(f"{site.url}/auth/impersonate", params={"auth_token": token})
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8"
    target = f"{site.url}/app"
    assert f'window.location.href = "{target}";' in r.text
    assert f'You should be redirected to <a href="{target}">{target}</a>.' in r.text
    cookies = set_cookies(r)
    rm, acct = cookies["remember_me"], cookies["account_id"]
    assert "HttpOnly" in rm and "samesite=strict" in rm.lower() and "secure" not in rm.lower()
    assert 11.9 < cookie_expiry_hours(rm) <= 12.0
    assert acct.startswith(f"account_id={site.account_id};") and "httponly" not in acct.lower()
    assert token not in r.text
    # signed in: the kiosk page now runs as this user, and the token works again (not single-use)
    assert 'id="sign-in"' not in s.get(site.kiosk_url).text
    assert "remember_me" in set_cookies(requests.get(f"{site.url}/auth/impersonate", params={"auth_token": token}))


@CURRENT
def test_impersonate_errors_are_cocalcs_plain_texts(site):
    unknown = "A" * 24
    r = requests.get(f"{site.url}/auth/impersonate", params={"auth_token": unknown})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert r.text == f"ERROR: impersonate error -- Error: unknown or expired token: '{unknown}'"
    assert not set_cookies(r)
    expired = site.token(ttl=-1)
    r = requests.get(f"{site.url}/auth/impersonate", params={"auth_token": expired})
    assert r.text == f"ERROR: impersonate error -- Error: unknown or expired token: '{expired}'"
    r = requests.get(f"{site.url}/auth/impersonate")
    assert r.text == "ERROR: impersonate error -- Error: invalid empty token"
    r = requests.get(f"{site.url}/auth/impersonate", params={"auth_token": ""})
    assert r.text == "ERROR: impersonate error -- Error: invalid empty token"
    # the echoed token can never run as a script
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]


@CURRENT
def test_current_ignores_auth_token_on_app_urls(site):
    s = requests.Session()
    r = s.get(site.kiosk_url + "&auth_token=" + site.token())
    assert 'id="sign-in"' in r.text and not s.cookies.get("remember_me")


# ---------------------------------------------------------------------------- v1: ?auth_token=
@V1
def test_v1_auth_token_on_the_kiosk_url_signs_in_and_opens_the_file(site):
    s = requests.Session()
    r = s.get(site.kiosk_url + "&auth_token=" + site.token())
    assert r.status_code == 200
    cookies = set_cookies(r)
    assert "HttpOnly" in cookies["remember_me"] and 11.9 < cookie_expiry_hours(cookies["remember_me"]) <= 12.0
    assert "account_id" not in cookies
    # v1 (2024) opens the URL's file directly in kiosk mode
    assert r.text.count('class="cocalc-cell ') == 3 and "hello from the notebook" in r.text
    config = json.loads(re.search(r'id="cocalc-kiosk-config">(.*?)</script>', r.text).group(1))
    assert config["strip_auth_token"] is True and config["initial"] == {"project_id": site.project_id, "path": "work/demo.ipynb"}
    # the cookie alone works afterwards, and the rest of the URL is what it was
    r = s.get(site.kiosk_url)
    assert "hello from the notebook" in r.text
    r = s.get(f"{site.url}/app")
    assert site.project_id in r.text


@V1
@pytest.mark.parametrize("kind", ["short", "unknown", "expired"])
def test_v1_bad_auth_tokens_get_cocalcs_texts(site, kind):
    token = {"short": "abc", "unknown": "B" * 24, "expired": None}[kind] or site.token(ttl=-1)
    s = requests.Session()
    r = s.get(site.file_url + "?auth_token=" + token)
    expected = "auth_token must be exactly 24 characters long" if kind == "short" else "auth_token is not valid"
    assert expected in r.text
    assert 'id="sign-in"' in r.text and "hello from the notebook" not in r.text
    assert not s.cookies.get("remember_me")


@V1
def test_v1_has_no_impersonate_route(site):
    r = requests.get(f"{site.url}/auth/impersonate", params={"auth_token": site.token()})
    assert r.status_code == 404


# ---------------------------------------------------------------------------- rendering
@BOTH
def test_file_page_renders_a_notebooks_cells_and_outputs_safely(site):
    s = signed_in_session(site)
    html = s.get(site.file_url).text
    assert html.count('class="cocalc-cell ') == 3
    assert "<h1>Results</h1>" in html and "<em>small</em>" in html
    assert "&lt;script&gt;alert(&#x27;md&#x27;)&lt;/script&gt;" in html  # markdown HTML shown as text
    assert "In [3]:" in html and "print(&#x27;hello from the notebook&#x27;)" in html
    assert '<div class="cocalc-output cocalc-output-stream cocalc-stdout"><pre>hello from the notebook\n</pre></div>' in html
    assert "<pre>5</pre>" in html
    assert f'src="data:image/png;base64,{PNG_1x1}"' in html
    assert "<table><tr><td>42</td></tr></table>" in html  # html output kept, handlers and scripts gone
    assert "steal()" not in html and "<script>alert" not in html and "onclick" not in html
    assert "ZeroDivisionError: division by zero" in html and "\x1b" not in html
    assert html.count('class="cocalc-output ') == 5


@BOTH
def test_markdown_and_text_files_show_as_text(site):
    s = signed_in_session(site)
    html = s.get(f"{site.url}/projects/{site.project_id}/files/notes.md").text
    assert '<pre class="cocalc-text"># Notes\n\n&lt;b&gt;not bold&lt;/b&gt; plain *markdown*\n</pre>' in html
    # beside the source, its preview: rendered, and still no raw HTML from the file
    assert '<div class="cocalc-markdown cocalc-preview"><h1>Notes</h1>' in html
    assert "<em>markdown</em>" in html and "<b>not bold</b>" not in html


@BOTH
def test_project_root_lists_files(site):
    s = signed_in_session(site)
    html = s.get(f"{site.url}/projects/{site.project_id}/files/").text
    assert f'href="/projects/{site.project_id}/files/work/"' in html and "notes.md" in html


@CURRENT
def test_current_kiosk_page_does_not_open_the_urls_file(site):
    """The startup race of real CoCalc: the URL's file never shows by itself in kiosk mode."""
    s = signed_in_session(site)
    html = s.get(site.kiosk_url).text
    assert 'id="cocalc-kiosk-banner"' in html and "cocalc-cell" not in html
    assert 'id="sign-in"' not in html


@BOTH
def test_open_endpoint_renders_for_the_signed_in_user_only(site):
    body = {"project_id": site.project_id, "path": "work/demo.ipynb"}
    r = requests.post(f"{site.url}/_local/kiosk/open", json=body)
    assert r.status_code == 401 and "cocalc-cell" not in r.text
    s = signed_in_session(site)
    r = s.post(f"{site.url}/_local/kiosk/open", json=body)
    assert r.status_code == 200
    got = r.json()
    assert got["kind"] == "notebook" and got["html"].count('class="cocalc-cell ') == 3
    r = s.post(f"{site.url}/_local/kiosk/open", json={"project_id": site.project_id, "path": "../../etc/passwd"})
    assert r.json() == {"error": "path '../../etc/passwd' is outside the project's home directory"}


@BOTH
def test_open_creates_a_missing_file_as_cocalc_does(site):
    s = signed_in_session(site)
    r = s.post(f"{site.url}/_local/kiosk/open", json={"project_id": site.project_id, "path": "new/dir/x.md"})
    assert r.status_code == 200 and r.json()["kind"] == "text"
    assert (site.store.home(site.project_id) / "new" / "dir" / "x.md").read_text() == ""


@BOTH
def test_user_without_access_sees_no_content(site):
    store = site.store
    other_email = f"other-{time.time_ns()}@example.com"
    store.create_account(other_email, "pw-other-1", "O", "Ther")
    s = requests.Session()
    s.post(f"{site.url}/auth/sign-in", data={"email": other_email, "password": "pw-other-1", "next": "/app"})
    assert s.cookies.get("remember_me")
    for url in (site.file_url, site.kiosk_url):
        html = s.get(url).text
        assert "cocalc-cell" not in html and "hello from the notebook" not in html
    assert "You do not have access to this project." in s.get(site.file_url).text
    r = s.post(f"{site.url}/_local/kiosk/open", json={"project_id": site.project_id, "path": "work/demo.ipynb"})
    assert r.status_code == 403 and "cocalc-cell" not in r.text


# ---------------------------------------------------------------------------- pages and framing
@BOTH
def test_kiosk_page_config_carries_the_origin_rules_and_no_secrets(site):
    site.store.set_setting("iframe_comm_hosts", "Jupyter.example.test, .example.org")
    try:
        s = requests.Session()
        token = site.token()
        if site.srv.api == "conat":
            s.get(f"{site.url}/auth/impersonate", params={"auth_token": token})
            r = s.get(site.kiosk_url)
        else:
            r = s.get(site.kiosk_url + "&auth_token=" + token)
    finally:
        site.store.set_setting("iframe_comm_hosts", "")
    config = json.loads(re.search(r'id="cocalc-kiosk-config">(.*?)</script>', r.text).group(1))
    # CoCalc extracts [a-z0-9.-]+ tokens: upper-case letters split a host
    assert config["allowed_hosts"] == ["upyter.example.test", ".example.org"]
    assert config["allow_http_parents"] is True and config["kiosk"] is True
    assert token not in r.text and s.cookies["remember_me"] not in r.text


@BOTH
def test_pages_allow_framing_by_default(site):
    r = requests.get(site.kiosk_url)
    assert "frame-ancestors" not in r.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in r.headers
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert requests.head(site.kiosk_url).status_code == 200


def test_frame_ancestors_option_forbids_framing(tmp_path):
    with LocalServer(data_dir=tmp_path, api="conat", frame_ancestors="'none'") as srv:
        r = requests.get(f"{srv.url}/app?fullscreen=kiosk&session=")
        assert r.headers["Content-Security-Policy"].endswith("; frame-ancestors 'none'")
        assert r.headers["X-Frame-Options"] == "DENY"
        r = requests.head(f"{srv.url}/app?fullscreen=kiosk&session=")
        assert r.headers["X-Frame-Options"] == "DENY"


@BOTH
def test_static_assets_are_served(site):
    r = requests.get(f"{site.url}/static/cocalc-magic/kiosk.js")
    assert r.status_code == 200 and "There is no payload" in r.text
    assert requests.get(f"{site.url}/static/cocalc-magic/kiosk.css").status_code == 200
    assert requests.get(f"{site.url}/static/cocalc-magic/../kiosk.py").status_code in (403, 404)


@V1
def test_v1_token_sign_in_is_throttled_per_token(site):
    token = "T" * 20 + str(time.time_ns())[-4:]
    for _ in range(6):
        assert "auth_token is not valid" in requests.get(site.file_url + "?auth_token=" + token).text
    text = requests.get(site.file_url + "?auth_token=" + token).text
    assert "sign_in_check fail(ip=127.0.0.1): Too many attempts per minute to sign in as &quot;TTTT…&quot;." in text
    assert token not in text
    # another token is not affected, and the real one still works
    s = requests.Session()
    assert "hello from the notebook" in s.get(site.kiosk_url + "&auth_token=" + site.token()).text


@BOTH
def test_get_api_key_is_delegated_to_signin(site, monkeypatch):
    from cocalc_magic.server.v2 import signin

    monkeypatch.setattr(signin, "render_get_api_key_page",
                        lambda handler, app: handler.finish(f"key page for {app}"))
    assert requests.get(f"{site.url}/app", params={"get_api_key": "myapp"}).text == "key page for myapp"


@BOTH
def test_sign_out_ends_the_session(site):
    s = signed_in_session(site)
    cookie = s.cookies["remember_me"]
    assert "hello from the notebook" in s.get(site.file_url).text
    s.get(f"{site.url}/auth/sign-out")
    assert not s.cookies.get("remember_me")
    assert 'id="sign-in"' in s.get(site.file_url).text
    # the old cookie value is dead on the server too
    assert 'id="sign-in"' in requests.get(site.file_url, cookies={"remember_me": cookie}).text
