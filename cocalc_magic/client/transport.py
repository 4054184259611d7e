"""HTTP for the client: the only module that touches the network.

One ``requests.Session`` per client (connections are reused; the pool is big enough for
``cc.map``), the Authorization header, timeouts, retries with exponential backoff and jitter,
and the mapping of every failure shape CoCalc (or a proxy in front of it) produces to the
error tree. Retry rule: an *idempotent* call is retried on connection errors, truncated
answers, HTTP 502/503/504 and conat 408/503 texts; any other call only when the request
provably never reached the server (the connection could not be opened).
"""

from __future__ import annotations

import base64
import json
import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter

from ..errors import (
    CREDENTIALS_REFUSED,
    AuthenticationError,
    CoCalcConnectionError,
    CoCalcError,
    InvalidRequest,
    NotFound,
    ProtocolError,
    classify,
    moved,
)
from ..settings import mask, redact, register_secret
from .transport_read import DEFAULT_MAX_RESPONSE_BYTES, read_body, too_slow

log = logging.getLogger("cocalc_magic.client")

# What every CoCalc key looks like: sk_… (legacy), sk-… (conat account and project keys),
# sk-cc-v2.… (cocalc.ai). Anything else (a space, a URL, half a key) is called malformed.
_KEY_SHAPE = re.compile(r"sk[-_][A-Za-z0-9._~+/=-]{8,}")
# Authentication texts about a password or a sign-in token, not about the key.
_ABOUT_OTHER_SECRETS = re.compile(r"password|auth_token|token is not valid|expired token|email address", re.I)
CONNECT_TIMEOUT = 10.0  # seconds to open a connection (capped by the call's own timeout)
DEFAULT_POOL = 32


def _user_agent() -> str:
    from ..version import __version__

    return f"cocalc-magic/{__version__} (+python-requests/{requests.__version__})"


class _KeyAuth(requests.auth.AuthBase):
    """Sets ``Authorization: Basic base64(key:)`` — the form every CoCalc generation accepts.

    Being a ``requests`` auth object (not a plain header) keeps ``~/.netrc`` from overriding it.
    """

    def __init__(self, api_key: str) -> None:
        self._header = "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()
        self._masked = mask(api_key)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self._header
        return r

    def __repr__(self) -> str:
        return f"<KeyAuth {self._masked}>"


@dataclass
class Reply:
    """A decoded answer: HTTP status, the JSON value, and how long the round trip took."""

    status: int
    data: Any
    elapsed: float


class Transport:
    """POSTs JSON or form bodies to one CoCalc host and returns decoded JSON, or raises."""

    def __init__(
        self,
        host: str,
        api_key: str | None,
        timeout: float,
        *,
        retries: int = 3,
        backoff: float = 0.2,
        max_backoff: float = 3.0,
        pool_size: int = DEFAULT_POOL,
        session: requests.Session | None = None,
        keep_cookies: bool = False,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.host = host.rstrip("/")
        self.keep_cookies = keep_cookies  # sign-in flows need the cookie jar (the slow path)
        self.timeout = float(timeout)  # seconds a whole call may take (connect, wait, read, retries)
        self.max_response_bytes = int(max_response_bytes)
        self.retries = max(0, int(retries))
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self._api_key = api_key
        register_secret(api_key)
        self.session = session or requests.Session()
        self.pool_size = 0
        self._pool_lock = threading.Lock()
        self.ensure_pool(pool_size)
        if api_key:
            self.session.auth = _KeyAuth(api_key)
        self.session.headers.update({"User-Agent": _user_agent(), "Accept": "application/json"})
        # Per-call work that does not change between calls is done once: proxies and CA bundle
        # from the environment, the prepared URL and headers of each endpoint (``_template``).
        self._send_kwargs = self._environment_settings()
        self._templates: dict[str, requests.PreparedRequest] = {}
        self.calls = 0  # requests sent (retries included): tests and benchmarks read it
        self.retried = 0

    def __repr__(self) -> str:
        return f"Transport(host={self.host!r}, api_key={mask(self._api_key) if self._api_key else None!r})"

    @property
    def has_key(self) -> bool:
        return bool(self._api_key)

    def key_starts(self, prefixes: tuple[str, ...]) -> bool:
        """Whether the API key starts with one of ``prefixes`` (its kind; the key itself stays here)."""
        return bool(self._api_key) and str(self._api_key).startswith(prefixes)

    # ------------------------------------------------------------------ pool
    def ensure_pool(self, size: int) -> None:
        """Make sure at least ``size`` connections per host can be kept open at once."""
        with self._pool_lock:
            if size <= self.pool_size:
                return
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=size, max_retries=0, pool_block=False)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
            self.pool_size = size

    def close(self) -> None:
        self.session.close()

    def _environment_settings(self) -> dict[str, Any]:
        """What ``Session.request`` would merge from the environment on every call (proxies,
        ``REQUESTS_CA_BUNDLE``), computed once."""
        settings = self.session.merge_environment_settings(self.host + "/", {}, None, None, None)
        return {"proxies": settings.get("proxies") or {}, "verify": settings.get("verify", True),
                "cert": settings.get("cert")}

    def _template(self, url: str, ctype: str) -> requests.PreparedRequest:
        key = f"{ctype} {url}"
        tpl = self._templates.get(key)
        if tpl is None:
            req = requests.Request("POST", url, headers={"Content-Type": ctype}, data=b"x")
            tpl = self.session.prepare_request(req)  # session headers, auth, cookies: once
            tpl.headers.pop("Content-Length", None)
            self._templates[key] = tpl
        return tpl

    def _fast_post(self, url: str, data: bytes, ctype: str, timeout: tuple[float, float]) -> requests.Response:
        """``session.post`` without its per-call overhead: a copy of the endpoint's prepared
        request with the new body, sent by the pooled adapter."""
        prepared = self._template(url, ctype).copy()
        prepared.body = data
        prepared.headers["Content-Length"] = str(len(data))
        adapter = self.session.get_adapter(url)
        return adapter.send(prepared, stream=True, timeout=timeout, **self._send_kwargs)

    # ------------------------------------------------------------------ requests
    def post(
        self,
        path: str,
        body: Any = None,
        *,
        endpoint: str | None = None,
        idempotent: bool = False,
        timeout: float | None = None,
        form: bool = False,
        limit: int | None = None,
    ) -> Reply:
        """POST ``body`` (JSON, or form-encoded with ``form=True``) to ``path``; decoded JSON back.

        ``limit``: the server's body limit in bytes; a larger body fails here, before sending.
        Error-valued bodies are *not* interpreted here, except conat 408/503 texts for retries;
        ``check_error`` does that for the backends.
        """
        endpoint = endpoint or path
        if form:
            data = urlencode(body or {}, doseq=True).encode("utf-8")
            ctype = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body if body is not None else {}, separators=(",", ":"),
                              ensure_ascii=False).encode("utf-8")
            ctype = "application/json"
        if limit is not None and len(data) > limit:
            raise InvalidRequest(
                f"the request body would be {len(data):,} bytes, more than the {limit:,} bytes this "
                f"server accepts per request, so it was not sent",
                endpoint=endpoint,
                hint="large_write",
            )
        url = self.host + path
        timeout = self.timeout if timeout is None else float(timeout)
        deadline = time.monotonic() + timeout  # the whole call, retries included
        headers = {"Content-Type": ctype}
        attempt = 0
        while True:
            attempt += 1
            try:
                if time.monotonic() >= deadline:
                    raise too_slow(self.host, timeout, endpoint)
                reply = self._send(url, data, headers, timeout, endpoint, deadline)
                if idempotent:
                    _raise_if_retryable_text(reply, endpoint)
                return reply
            except CoCalcError as err:
                reached = getattr(err, "reached", True)  # only a connection error can say False
                may_retry = err.retryable and (idempotent or not reached)
                if not may_retry or attempt > self.retries:
                    raise
                delay = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
                delay = random.uniform(delay / 2, delay)  # jitter: spread the retries of many clients
                self.retried += 1
                if log.isEnabledFor(logging.INFO):
                    log.info("retrying %s in %.2fs after: %s", endpoint, delay, redact(err))
                time.sleep(max(0.0, min(delay, deadline - time.monotonic())))

    def _send(
        self,
        url: str,
        data: bytes,
        headers: dict[str, str],
        timeout: float,
        endpoint: str,
        deadline: float,
    ) -> Reply:
        self.calls += 1
        started = time.perf_counter()
        left = max(0.01, deadline - time.monotonic())
        waits = (min(CONNECT_TIMEOUT, left), left)
        try:
            if self.keep_cookies:
                resp = self.session.post(url, data=data, headers=headers, allow_redirects=False, timeout=waits,
                                         stream=True)
            else:
                resp = self._fast_post(url, data, headers["Content-Type"], waits)
            # read it all here (truncation shows up inside this try), within the deadline and the cap
            content = read_body(resp, host=self.host, deadline=deadline, timeout=timeout,
                                limit=self.max_response_bytes, endpoint=endpoint)
        except requests.exceptions.ConnectTimeout as exc:
            raise _connection_error(f"could not connect to {self.host} within {min(CONNECT_TIMEOUT, timeout):g}s",
                                    endpoint, reached=False) from _quiet(exc)
        except requests.exceptions.ReadTimeout as exc:
            raise too_slow(self.host, timeout, endpoint) from _quiet(exc)
        except requests.exceptions.ChunkedEncodingError as exc:
            err = ProtocolError(f"the answer from {self.host} was cut off before its end", endpoint=endpoint,
                                retryable=True)
            raise err from _quiet(exc)
        except requests.exceptions.ConnectionError as exc:
            reached = not _never_connected(exc)
            what = (f"could not connect to {self.host} ({_reason(exc)})" if not reached
                    else f"the connection to {self.host} broke before an answer came ({_reason(exc)})")
            raise _connection_error(what, endpoint, reached=reached) from _quiet(exc)
        except requests.exceptions.RequestException as exc:
            raise _connection_error(f"the request to {self.host} failed ({_reason(exc)})", endpoint,
                                    reached=True) from _quiet(exc)
        elapsed = time.perf_counter() - started
        status = resp.status_code
        ctype = resp.headers.get("Content-Type", "")
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s -> HTTP %s, %d bytes, %.1f ms", endpoint, status, len(content), 1000 * elapsed)
        if 300 <= status < 400:  # never followed: the key (or a password) would go along
            raise moved(self.host, resp.headers.get("Location", ""), status=status, endpoint=endpoint)
        text_like = content.lstrip()[:1]
        looks_html = "html" in ctype.lower() or text_like == b"<"
        if looks_html:
            raise _html_error(status, content, endpoint, self.host)
        try:
            value = json.loads(content) if content.strip() else None
        except ValueError:
            value = _NOT_JSON
        if status >= 400:
            text = _error_text(value, content)
            err = self.classify(text, status, endpoint)
            raise err
        if value is _NOT_JSON:
            preview = _one_line_preview(content)
            err = ProtocolError(
                f"the answer from {self.host} is not JSON ({len(content)} bytes: {preview!r}); it may be "
                f"truncated or come from a proxy",
                status=status, endpoint=endpoint)
            raise err
        return Reply(status=status, data=value, elapsed=elapsed)

    def classify(self, text: str, status: int | None, endpoint: str) -> CoCalcError:
        """The error for an error text the server sent; an authentication failure without a key
        says to set one."""
        err = classify(text, status=status, endpoint=endpoint)
        if (type(err) is AuthenticationError and err.message.startswith(CREDENTIALS_REFUSED)
                and not _ABOUT_OTHER_SECRETS.search(text)):
            if not self._api_key:
                what, hint = "no API key is set, and the server wants one", "no_key"
            elif not _KEY_SHAPE.fullmatch(self._api_key):
                what, hint = "the API key is malformed, and the server did not accept it", "key_malformed"
            else:
                what, hint = "the API key was not accepted", "key"
            err = AuthenticationError(f"{what} (the server said: {text})", status=status, endpoint=endpoint,
                                      server_message=text, hint=hint)
        return err

    # ------------------------------------------------------------------ other requests
    def get_json(self, path: str, timeout: float | None = None) -> Any:
        """GET ``path`` without credentials (e.g. ``/customize``); its JSON. A redirect is ``Moved``."""
        url = self.host + path
        timeout = min(self.timeout if timeout is None else float(timeout), 10.0)
        self.calls += 1
        try:
            resp = self.session.get(url, timeout=(min(CONNECT_TIMEOUT, timeout), timeout), allow_redirects=False,
                                    auth=_NoAuth())
        except requests.exceptions.RequestException as exc:
            raise _connection_error(f"could not load {self.host}{path} ({_reason(exc)})", f"GET {path}",
                                    reached=False) from _quiet(exc)
        if 300 <= resp.status_code < 400:
            raise moved(self.host, resp.headers.get("Location", ""), status=resp.status_code, endpoint=f"GET {path}")
        if resp.status_code >= 400 or "html" in resp.headers.get("Content-Type", "").lower():
            raise _html_error(resp.status_code, resp.content, f"GET {path}", self.host)
        try:
            return resp.json()
        except ValueError:
            raise ProtocolError(f"{self.host}{path} is not JSON", status=resp.status_code,
                                endpoint=f"GET {path}") from None

    def head_headers(self, url: str, timeout: float | None = None) -> tuple[int, dict[str, str]]:
        """GET ``url`` (no auth header needed) and return its status and headers, body discarded."""
        try:
            resp = self.session.get(url, timeout=(CONNECT_TIMEOUT, timeout or self.timeout),
                                    allow_redirects=True, stream=True, auth=_NoAuth())
            resp.close()
        except requests.exceptions.RequestException as exc:
            raise _connection_error(f"could not load {redact(url)} ({_reason(exc)})", "GET",
                                    reached=False) from _quiet(exc)
        return resp.status_code, dict(resp.headers)


class _NoAuth(requests.auth.AuthBase):
    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers.pop("Authorization", None)
        return r


_NOT_JSON = object()


def _quiet(exc: BaseException) -> None:
    """Chained causes would print urllib3's long texts; keep the traceback short (and secret-free)."""
    return None


def _connection_error(what: str, endpoint: str, *, reached: bool) -> CoCalcConnectionError:
    err = CoCalcConnectionError(what, endpoint=endpoint, retryable=True)
    err.reached = reached  # type: ignore[attr-defined]
    return err


def _never_connected(exc: BaseException) -> bool:
    """True when the connection could not even be opened: refused, DNS failure, unreachable."""
    import urllib3.exceptions as u3

    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        cur = stack.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, (u3.NewConnectionError, u3.NameResolutionError, ConnectionRefusedError,
                            u3.ConnectTimeoutError)):
            return True
        if isinstance(cur, (ConnectionResetError, BrokenPipeError, u3.ProtocolError)):
            return False
        stack.extend([getattr(cur, "reason", None), cur.__cause__, cur.__context__,
                      *(a for a in getattr(cur, "args", ()) if isinstance(a, BaseException))])
    return False


def _reason(exc: BaseException) -> str:
    """A short human reason (``connection refused``, ``connection reset``...) for a requests error."""
    text = str(exc)
    low = text.lower()
    for needle, label in (
        ("refused", "connection refused"), ("reset", "connection reset by the server"),
        ("remotedisconnected", "the server closed the connection without answering"),
        ("aborted", "connection aborted"), ("broken pipe", "broken pipe"),
        ("name or service not known", "unknown host name"), ("nodename nor servname", "unknown host name"),
        ("temporary failure in name resolution", "unknown host name"),
        ("timed out", "timed out"), ("unreachable", "network unreachable"),
    ):
        if needle in low:
            return label
    return type(exc).__name__


def _one_line_preview(content: bytes, n: int = 60) -> str:
    return " ".join(content[:n].decode("utf-8", "replace").split())


def _error_text(value: Any, content: bytes) -> str:
    if isinstance(value, dict):
        for key in ("error", "message", "reason"):
            if value.get(key):
                return value[key] if isinstance(value[key], str) else json.dumps(value[key])
    if value is _NOT_JSON or value is None:
        return _one_line_preview(content, 200) or "(empty body)"
    return json.dumps(value)[:200]


def _html_error(status: int, content: bytes, endpoint: str, host: str) -> CoCalcError:
    """An HTML page where JSON was expected: a proxy's error page, a login page, a 404 page."""
    title = ""
    low = content[:4000].decode("utf-8", "replace")
    m = re.search(r"<title[^>]*>(.*?)</title>", low, re.I | re.S)
    if m:
        title = " ".join(m.group(1).split())[:80]
    page = f"an HTML page{f' ({title!r})' if title else ''}"
    if status == 413:  # Express' (or a proxy's) page for a body over its limit: permanent for this content
        return InvalidRequest(f"{host} refused the request as too large (HTTP 413, {page})", status=status,
                              endpoint=endpoint, hint="Send less per call (cc.max_write_bytes is the largest write)")
    if status == 404:
        err: CoCalcError = NotFound(f"{host} has no such API endpoint: it answered {page}", status=status,
                                    endpoint=endpoint,
                                    hint="wrong_generation")
    elif status in (502, 503, 504):
        err = ProtocolError(f"a proxy in front of {host} answered {page} instead of the server", status=status,
                            endpoint=endpoint, retryable=True,
                            hint="proxy_down")
    else:
        err = ProtocolError(f"{host} answered {page} instead of JSON", status=status, endpoint=endpoint)
    return err


def _raise_if_retryable_text(reply: Reply, endpoint: str) -> None:
    """conat 408/503 come back as HTTP 200 ``{"error": ...}``: surface them so they are retried."""
    data = reply.data
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        err = classify(data["error"], status=reply.status, endpoint=endpoint)
        if err.retryable:  # errors.py's rules say which texts are worth another try
            raise err


def error_in(data: Any) -> str | None:
    """The error text of a CoCalc answer, if it is an error.

    Shapes: current ``{"error": text}``; v1 ``{"event": "error", "error": text}``. v1 answers
    whose ``error`` field belongs to another event (``changed_password``) are *not* errors here.
    """
    if isinstance(data, dict) and "error" in data:
        event = data.get("event")
        if event is None or event == "error":
            err = data["error"]
            if err in (None, False, ""):
                return None if event is None else "unknown error"
            return err if isinstance(err, str) else json.dumps(err)
    return None


__all__ = ["Transport", "Reply", "error_in"]
