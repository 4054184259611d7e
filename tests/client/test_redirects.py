"""A redirect is never followed with a key or a password (cocalc.com answers every request with a
302 to cocalc.ai): the user gets one ``Moved`` line, and nothing reaches the other host."""

from __future__ import annotations

import pytest
import requests

from cocalc_magic import errors as E
from cocalc_magic.client import CoCalc, sign_in_for_key
from cocalc_magic.client.transport import Transport

from .faultserver import FaultServer, redirect, reply_json

KEY = "sk-redirectKEY0123456789"
PASSWORD = "hunter2-redirect-password"
HUB = "/api/conat/hub"


@pytest.fixture
def hosts():
    """(the host the client is pointed at, the host it redirects to)."""
    with FaultServer() as home, FaultServer() as other:
        for path in (HUB, "/api/conat/project", "/api/v1/ping", "/api/v2/auth/sign-in", "/api/v2/api-keys",
                     "/customize"):
            other.script(path, reply_json({"now": 1, "response": [{"secret": "sk-other"}]}))
        yield home, other


def _nothing_reached(other: FaultServer) -> None:
    assert sum(other.hits.values()) == 0, dict(other.hits)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("api", ["auto", "conat", "v1", "ai"])
def test_api_calls_raise_moved_and_the_key_stays_home(hosts, status, api):
    home, other = hosts
    for path in (HUB, "/api/conat/project", "/api/v1/ping", "/api/v2/projects/get"):
        home.script(path, redirect(other.url + path + "?keep=query", status))
    cc = CoCalc(host=home.url, api_key=KEY, api=api, timeout=5, retries=2, backoff=0.01)
    with pytest.raises(E.Moved) as info:
        cc.ping() if api != "ai" else cc.projects()
    err = info.value
    assert isinstance(err, E.CoCalcError) and err.status == status
    assert err.location.startswith(other.url) and "?" not in err.location
    assert f"has moved to {other.url}" in str(err) and KEY not in str(err) and "\n" not in str(err)
    assert "try again" not in str(err).lower()
    assert sum(home.hits.values()) == 1  # not retried either
    _nothing_reached(other)


@pytest.mark.parametrize("status", [302, 307, 308])
def test_sign_in_never_sends_the_password_elsewhere(hosts, status):
    home, other = hosts
    home.script("/api/v2/auth/sign-in", redirect(other.url + "/api/v2/auth/sign-in", status))
    with pytest.raises(E.Moved) as info:
        sign_in_for_key(home.url, "me@example.org", PASSWORD)
    assert PASSWORD not in str(info.value)
    assert home.hits["/api/v2/auth/sign-in"] == 1
    _nothing_reached(other)


class _CocalcCom(requests.adapters.BaseAdapter):
    """What https://cocalc.com answers since July 2026, offline: a 302 to cocalc.ai, path and query kept."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def send(self, request, **kw):  # noqa: ANN001 - requests' adapter interface
        self.sent.append(request.url)
        resp = requests.Response()
        resp.status_code = 302
        resp.headers["Location"] = request.url.replace("https://cocalc.com", "https://cocalc.ai")
        resp._content = b"Found. Redirecting"
        resp.request = request
        resp.url = request.url
        return resp

    def close(self) -> None:
        pass


def test_cocalc_com_says_where_to_go():
    session = requests.Session()
    adapter = _CocalcCom()
    t = Transport("https://cocalc.com", KEY, 5, session=session)
    for prefix in ("https://", "http://"):
        session.mount(prefix, adapter)  # after the transport's own pool: nothing leaves this process
    with pytest.raises(E.Moved) as info:
        t.post(HUB, {"name": "system.test", "args": []}, endpoint=f"{HUB} system.test")
    assert str(info.value) == ("cocalc.com has moved to https://cocalc.ai, and its API keys were not carried over: create a "
                      "key at https://cocalc.ai (Account → API keys) and set COCALC_HOST=https://cocalc.ai")
    assert info.value.location == "https://cocalc.ai/api/conat/hub"
    assert adapter.sent == ["https://cocalc.com/api/conat/hub"]
