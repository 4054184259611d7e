"""Every failure shape of the facts sheet and recordings, served by a misbehaving loopback server:
the client raises the right class with a one-line message, retries exactly the calls it should,
and never waits past its timeout."""

from __future__ import annotations

import time

import pytest

from cocalc_magic import errors as E
from cocalc_magic.client import CoCalc

from .faultserver import (
    FaultServer,
    big,
    close,
    dribble,
    free_port,
    hang,
    reply_html,
    reply_json,
    redirect,
    reply_text,
    reset,
    truncated,
)

KEY = "sk-faultKEY0123456789ab"
HUB = "/api/conat/hub"
PID = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def fault():
    with FaultServer() as srv:
        yield srv


def client(srv: FaultServer, api: str = "conat", **kw) -> CoCalc:
    kw.setdefault("retries", 2)
    kw.setdefault("backoff", 0.01)
    kw.setdefault("timeout", 5)
    return CoCalc(host=srv.url, api_key=KEY, api=api, **kw)


def assert_one_line(err: E.CoCalcError) -> None:
    text = str(err)
    assert "\n" not in text and text.strip() == text and len(text) < 1500
    assert KEY not in text


# (what the server answers on the hub bridge, error class, retried for an idempotent call?)
HUB_CASES = [
    ("conat-408", reply_json({"error": "timeout - callHub: subject='hub.account.x.api', name='system.ping', code='408' "}),
     E.ServerTimeout, True),
    ("conat-503", reply_json({"error": "Error: request -- no subscribers matching 'hub.account.x.api' - callHub: "
                                       "subject='hub.account.x.api', name='system.ping', code='503' "}),
     E.ServerError, True),
    ("bad-key", reply_json({"error": "must be signed in and MUST provide an api key (cookies are not allowed)"}),
     E.AuthenticationError, False),
    ("no-key", reply_json({"error": "You must provide authentication via an API key."}), E.AuthenticationError, False),
    ("unknown-fn", reply_json({"error": "Error: unknown function 'system.nope'"}), E.NotFound, False),
    ("not-collab", reply_json({"error": "Error: must be collaborator on project to get state"}), E.PermissionDenied, False),
    ("throttled", reply_json({"error": "too many requests to accounts/get-names; try again in 3 second(s) "
                                       "(rule: at most 3 request(s) per 1 second)"}), E.RateLimited, False),
    ("http-502-html", reply_html(502, "502 Bad Gateway"), E.ProtocolError, True),
    ("http-503-json", reply_json({"error": "Service Unavailable"}, 503), E.ServerError, True),
    ("http-504-text", reply_text(504, "Gateway Timeout", "text/plain"), E.ServerError, True),
    ("http-500", reply_json({"error": "boom"}, 500), E.ServerError, False),
    ("login-page", reply_html(200, "Sign in to CoCalc"), E.ProtocolError, False),
    ("invalid-json-400", reply_text(400, "Invalid JSON", None), E.InvalidRequest, False),
    ("not-json-200", reply_text(200, "healthchecks: OK", "text/plain"), E.ProtocolError, False),
    ("truncated", truncated(), E.ProtocolError, True),
    ("reset", reset(), E.CoCalcConnectionError, True),
    ("closed", close(), E.CoCalcConnectionError, True),
    ("413", reply_text(413, "Body exceeded 1mb limit", "text/plain"), E.InvalidRequest, False),
    ("429", reply_json({"error": "slow down"}, 429), E.RateLimited, False),
]


@pytest.mark.parametrize("name,step,cls,retried", HUB_CASES, ids=[c[0] for c in HUB_CASES])
def test_idempotent_call_maps_and_retries(fault, name, step, cls, retried):
    fault.script(HUB, step)
    cc = client(fault)
    with pytest.raises(E.CoCalcError) as info:
        cc.ping()
    err = info.value
    assert type(err) is cls, (name, type(err), str(err))
    assert_one_line(err)
    assert err.endpoint and "system.ping" in err.endpoint
    assert fault.hits[HUB] == (3 if retried else 1), name  # retries=2: 1 + 2 retries


@pytest.mark.parametrize("name,step,cls,retried", HUB_CASES, ids=[c[0] for c in HUB_CASES])
def test_non_idempotent_call_is_never_retried_once_sent(fault, name, step, cls, retried):
    fault.script(HUB, step)
    cc = client(fault)
    with pytest.raises(E.CoCalcError) as info:
        cc.create_project("x")
    assert type(info.value) is cls
    assert_one_line(info.value)
    assert fault.hits[HUB] == 1, name


def test_retry_then_success(fault):
    fault.script(HUB, reset(), reply_html(502), reply_json({"now": 1783081032000}))
    cc = client(fault)
    pong = cc.ping()
    assert pong.api == "conat" and pong.now.year == 2026
    assert fault.hits[HUB] == 3


def test_status_is_attached(fault):
    fault.script(HUB, reply_html(502))
    with pytest.raises(E.ProtocolError) as info:
        client(fault, retries=0).ping()
    assert info.value.status == 502
    assert "502 Bad Gateway" in str(info.value) and "HTTP 502" not in str(info.value)  # the status is .status


def test_connection_refused_is_retried_even_for_writes():
    cc = CoCalc(host=f"http://127.0.0.1:{free_port()}", api_key=KEY, api="conat", retries=2, backoff=0.01)
    with pytest.raises(E.CoCalcConnectionError) as info:
        cc.create_project("never sent")
    assert "connection refused" in str(info.value)
    assert cc._transport.calls == 3  # the request provably never reached a server: safe to retry
    assert_one_line(info.value)


def test_hang_never_waits_past_the_timeout(fault):
    fault.script(HUB, hang(30))
    cc = client(fault, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(E.ServerTimeout) as info:
        cc.call_hub("system.ping", timeout=0.5)
    took = time.monotonic() - started
    # call_hub gives the bridge 0.5 s and HTTP 0.5 + 5 s slack; ping uses the client timeout
    assert took < 7, took
    assert_one_line(info.value)
    started = time.monotonic()
    with pytest.raises(E.ServerTimeout):
        cc._transport.post(HUB, {"name": "system.ping"}, idempotent=True, timeout=0.5)
    assert time.monotonic() - started < 3.0  # 0.5 s timeout, not the 30 s hang
    assert fault.hits[HUB] == 2  # a read timeout is not retried (it would multiply the wait)


@pytest.mark.parametrize("api,path,step,cls", [
    ("v1", "/api/v1/ping", reply_json({"error": "No account found. Is your API key wrong?"}, 400), E.AuthenticationError),
    ("v1", "/api/v1/ping", reply_json({"error": "error: value \"21315208307\" is out of range for type integer"}, 400),
     E.AuthenticationError),
    ("v1", "/api/v1/ping", reply_json({"error": "unknown endpoint 'ping'"}, 400), E.NotFound),
    ("v1", "/api/v1/ping", reply_json({"error": "invalid parameters 'Error: misc.defaults -- TypeError: got an "
                                                "unexpected argument 'bogus' '"}, 400), E.InvalidRequest),
    ("v1", "/api/v1/ping", reply_json({"event": "error", "id": "x", "error": "User a does not have write access to project b"}),
     E.PermissionDenied),
    ("v1", "/api/v1/ping", reply_json({"event": "error", "id": "x", "error": "Error: ENOENT: no such file or directory, "
                                                                            "stat '/p/x/nope.txt'"}), E.NotFound),
    ("v1", "/api/v1/ping", reply_json({"event": "error", "id": "x", "error": "Timeout communicating with project."}),
     E.ServerTimeout),
])
def test_v1_shapes(fault, api, path, step, cls):
    fault.script(path, step)
    with pytest.raises(E.CoCalcError) as info:
        client(fault, api=api).ping()
    assert type(info.value) is cls
    assert info.value.endpoint == path
    assert_one_line(info.value)


def test_v1_exec_errors(fault):
    path = "/api/v1/project_exec"
    cc = client(fault, api="v1")
    from cocalc_magic.client import Project

    proj = Project(cc, PID, "t")
    cc._running[PID] = time.monotonic() + 1e6
    fault.script(path, reply_json({"event": "error", "id": "x", "error": "Error executing command 'sleep 5' with args '' -- "
                                   "killed command 'bash /tmp/cocalc-x/a.sh', undefined, undefined"}))
    with pytest.raises(E.ServerTimeout) as info:
        proj.exec("sleep 5", timeout=2)
    assert "timeout of 2s" in str(info.value)
    fault.script(path, reply_json({"event": "error", "id": "x", "error": "Error executing command 'false' with args '' -- "
                                   "command 'false' (args=) exited with nonzero code 1 -- stderr='boom', undefined, undefined"}))
    result = proj.exec("false")
    assert (result.exit_code, result.stderr) == (1, "boom")
    with pytest.raises(E.CommandFailed) as info:
        proj.exec("false", err_on_exit=True)
    assert info.value.result.exit_code == 1
    assert fault.hits[path] == 2  # exec is never retried


def test_detection_falls_back_to_v1_on_404_html(fault):
    fault.script("/api/v1/ping", reply_json({"event": "pong", "id": "x", "now": "2024-03-13T10:00:00.000Z"}))
    cc = client(fault, api="auto")
    pong = cc.ping()
    assert pong.api == "v1" and cc.api == "v1" and pong.now.year == 2024
    assert fault.hits[HUB] == 1
    cc.ping()
    assert fault.hits[HUB] == 1  # detection is cached


def test_detection_neither_generation(fault):
    cc = client(fault, api="auto")
    with pytest.raises(E.ProtocolError) as info:
        cc.ping()
    assert "neither" in str(info.value)
    assert_one_line(info.value)


def test_detection_current_even_with_a_bad_key(fault):
    fault.script(HUB, reply_json({"error": "must be signed in and MUST provide an api key (cookies are not allowed)"}))
    cc = client(fault, api="auto")
    with pytest.raises(E.AuthenticationError):
        cc.ping()
    assert cc.api == "conat"


def test_write_over_limit_fails_before_sending(fault):
    cc = client(fault, api="conat")
    from cocalc_magic.client import Project

    proj = Project(cc, PID, "t")
    cc._running[PID] = time.monotonic() + 1e6
    big = "x" * (cc.max_write_bytes + 2000)
    with pytest.raises(E.InvalidRequest) as info:
        proj.write("big.txt", big)
    text = str(info.value)
    assert "1,000,000 bytes" in text and f"{len(big) + 0:,}"[:3] in text
    assert fault.hits["/api/conat/project"] == 0


def test_v1_write_uses_form_over_json_limit(fault):
    from cocalc_magic.client import Project

    path = "/api/v1/write_text_file_to_project"
    fault.script(path, reply_json({"event": "file_written_to_project", "id": "x"}))
    cc = client(fault, api="v1")
    proj = Project(cc, PID, "t")
    cc._running[PID] = time.monotonic() + 1e6
    proj.write("small.txt", "hi")
    proj.write("big.txt", "y" * 200_000)
    assert fault.headers[path][0]["Content-Type"] == "application/json"
    assert fault.headers[path][1]["Content-Type"] == "application/x-www-form-urlencoded"
    with pytest.raises(E.InvalidRequest) as info:
        proj.write("huge.txt", "z" * 1_100_000)
    assert "1,000,000 bytes" in str(info.value)
    assert fault.hits[path] == 2


def test_start_wait_is_bounded_with_a_clear_message(fault):
    from cocalc_magic.client import Project

    # a legacy server whose project never gets past "starting"
    fault.script("/api/v1/query", reply_json({"event": "query", "id": "x", "multi_response": False,
                                              "query": {"projects": {"project_id": PID, "state": {"state": "starting"}}}}))
    cc = client(fault, api="v1", start_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(E.ServerTimeout) as info:
        Project(cc, PID, "Slow").exec("true")
    assert time.monotonic() - started < 4  # 0.5 s start bound
    text = str(info.value)
    assert f"project Slow ({PID}) did not start within 0.5s (state: starting)" in text
    assert_one_line(info.value)
    assert fault.hits["/api/v1/project_exec"] == 0


def test_map_progress_widget_in_a_kernel(fault, monkeypatch):

    shown = []
    monkeypatch.setattr("cocalc_magic.client.progress._in_kernel", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda w: shown.append(w))
    fault.script(HUB, reply_json({"now": 1}))
    cc = client(fault)
    result = cc.map(lambda i: cc.ping().api, range(12), workers=3, progress=True)
    assert list(result) == ["conat"] * 12
    (box,) = shown
    bar, label = box.children
    assert (bar.value, bar.max, bar.bar_style) == (12, 12, "success") and label.value == "12/12"


def test_map_collects_errors_in_order(fault):
    fault.script(HUB, reply_json({"now": 1}))
    cc = client(fault)

    def f(i):
        if i % 3 == 0:
            raise E.NotFound(f"item {i}")
        return i * 2

    result = cc.map(f, range(10), workers=4, progress=False)
    assert list(result) == [None if i % 3 == 0 else i * 2 for i in range(10)]
    assert [i for i, _, _ in result.errors] == [0, 3, 6, 9]
    assert "6/10 ok" in result.summary()


def test_backoff_grows_exponentially_with_jitter(fault, monkeypatch):
    import cocalc_magic.client.transport as tr

    delays = []
    monkeypatch.setattr(tr.time, "sleep", lambda d: delays.append(d))
    fault.script(HUB, reply_html(503, "503 Service Unavailable"))
    cc = client(fault, retries=4, backoff=0.1)
    with pytest.raises(E.ProtocolError):
        cc.ping()
    assert fault.hits[HUB] == 5 and len(delays) == 4
    for n, d in enumerate(delays):  # attempt n waits in [base/2, base] with base = 0.1 * 2**n (cap 3 s)
        base = min(3.0, 0.1 * 2 ** n)
        assert base / 2 <= d <= base
    assert len(set(delays)) > 1


def test_map_concurrency_is_bounded(fault):
    import threading

    fault.script(HUB, reply_json({"now": 1}))
    cc = client(fault)
    live, peak, lock = [0], [0], threading.Lock()

    def f(i):
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        try:
            time.sleep(0.05)
            return cc.ping().api
        finally:
            with lock:
                live[0] -= 1

    result = cc.map(f, range(40), workers=3, progress=False)
    assert result.ok and peak[0] <= 3 and peak[0] >= 2
    assert cc._transport.pool_size >= 5


def test_redirect_is_moved_and_not_followed(fault):
    fault.script(HUB, redirect("https://cocalc.example/api/conat/hub"))
    with pytest.raises(E.Moved) as info:
        client(fault).ping()
    assert "has moved to https://cocalc.example" in str(info.value) and info.value.status == 301
    assert info.value.location == "https://cocalc.example/api/conat/hub"
    assert fault.hits[HUB] == 1


def test_a_launchpad_without_the_projects_routes_says_so(fault):
    """cocalc.ai's code as a Launchpad mounts only its sign-in routes under /api/v2 (recorded with
    LAUNCHPAD_V2_ROUTES_ONLY=1): /api/v2/projects/* is Express' 404 page there."""
    fault.script("/api/v2/projects/get", reply_html(404, "Error"))
    fault.script("/api/v2/projects/start", reply_html(404, "Error"))
    cc = CoCalc(host=fault.url, api_key="sk-cc-v2.AAAAAAAAAAAAAAAA." + "B" * 43, retries=0)
    for call in (cc.projects, lambda: cc.project("00000000-0000-4000-8000-000000000000").start()):
        with pytest.raises(E.NotSupported) as info:
            call()
        assert "does not offer /api/v2/projects/" in str(info.value) and "try again" not in str(info.value).lower()
        assert_one_line(info.value)


@pytest.mark.parametrize("hub,customize,key,api,requests", [
    (None, None, "sk-cc-v2.AAAAAAAAAAAAAAAA." + "B" * 43, "ai", 0),  # only cocalc.ai makes these keys
    (reply_json({"account_id": PID, "server_time": 1796152951724}), None, KEY, "conat", 1),
    (reply_json({"error": "API keys are not allowed to call hub RPC 'system.test'"}), None, KEY, "ai", 1),
    (reply_html(404, "404"), None, KEY, "v1", 1),
    # a refused key reads the same on conat and cocalc.ai: /customize's cocalc_product tells them apart
    (reply_json({"error": "must be signed in and MUST provide an api key (cookies are not allowed)"}),
     reply_json({"configuration": {"cocalc_product": "rocket"}}), KEY, "ai", 2),
    (reply_json({"error": "must be signed in and MUST provide an api key (cookies are not allowed)"}),
     reply_html(404, "404"), KEY, "conat", 2),
], ids=["sk-cc-v2", "conat", "ai-refusal", "legacy-404", "refused-key-ai", "refused-key-conat"])
def test_detection_requests(fault, hub, customize, key, api, requests):
    if hub is not None:
        fault.script(HUB, hub)
    if customize is not None:
        fault.script("/customize", customize)
    cc = CoCalc(host=fault.url, api_key=key, retries=0)
    assert cc.api == api
    assert sum(fault.hits.values()) == requests == cc._transport.calls
    assert cc.api == api and sum(fault.hits.values()) == requests  # cached: asked once per client


def test_a_call_has_a_total_deadline_not_a_per_read_one(fault):
    """A byte every 0.5 s keeps every read short; the call still ends at its timeout (it held a
    timeout=5 call for 80 s before)."""
    fault.script(HUB, dribble(every=0.5, size=200))
    cc = client(fault, timeout=2)
    started = time.monotonic()
    with pytest.raises(E.ServerTimeout) as info:
        cc.ping()
    took = time.monotonic() - started
    import re

    allowed = float(re.search(r"within ([0-9.]+)s \(the call's timeout\)", str(info.value)).group(1))
    assert allowed <= 2 + 5  # the hub call's own margin over timeout= (the bridge's wait)
    assert took < allowed + 1, took  # 200 bytes at 2 a second would take 100 s; retries get no extra time
    assert str(info.value).startswith(f"no complete answer from {fault.url} within")
    assert_one_line(info.value)


def test_an_answer_over_the_size_cap_is_refused_while_it_streams(fault):
    import resource

    fault.script(HUB, big(300))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cc = client(fault, timeout=60, max_response_bytes=20 * 1024 * 1024)
    with pytest.raises(E.ProtocolError) as info:
        cc.ping()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 150, grown_mb  # it was 890 MB for a 300 MB answer
    assert str(info.value).startswith(f"the answer from {fault.url} is larger than 20 MiB, this client's limit")
    assert "max_response_bytes" in str(info.value) and not info.value.retryable
    assert_one_line(info.value)
    assert fault.hits[HUB] == 1  # not retried


def test_the_size_cap_comes_from_the_environment(fault, monkeypatch):
    fault.script(HUB, reply_json({"now": 1783081032000, "pad": "x" * 5000}))
    monkeypatch.setenv("COCALC_MAX_RESPONSE_BYTES", "1000")
    with pytest.raises(E.ProtocolError, match="larger than"):
        client(fault).ping()
    monkeypatch.delenv("COCALC_MAX_RESPONSE_BYTES")
    assert client(fault).ping().now.year == 2026
