"""Request plumbing every handler shares: ``ServerContext`` (store, project runtime, options),
``BaseHandler`` (bodies, auth header, JSON out), the 404 page and the request log.

Each API package (``v1``, ``conat``, ``v2``, ``web``) builds its handlers on this module and
exports ``routes(ctx)``; ``routes.py`` mounts them. Nothing here imports a handler module.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import tornado.web

from .core.projects import ProjectRuntime
from .core.store import Store

log = logging.getLogger("cocalc_magic.server")

# Query parameters whose values are secrets: sign-in tokens (?auth_token=), keys, passwords.
_SECRET_QUERY = re.compile(r"(?i)([?&;](?:auth_token|api_key|token|password|secret)=)[^&;\s'\"#)]*")


def mask_secrets(text: str) -> str:
    """``text`` with the values of secret query parameters replaced by ``…``."""
    return _SECRET_QUERY.sub(r"\1…", text)


class SecretQueryFilter(logging.Filter):
    """Masks secret query values in every record of a logger (tornado writes whole URIs, e.g.
    ``403 GET /static/x?auth_token=...`` or an uncaught exception's request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's problem
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_masking() -> None:
    """Put the filter on tornado's loggers and ours (once)."""
    for name in ("tornado.access", "tornado.application", "tornado.general", "cocalc_magic.server",
                 "cocalc_magic.server.ai", "cocalc_magic.server.current", "cocalc_magic.server.kernels"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretQueryFilter) for f in logger.filters):
            logger.addFilter(SecretQueryFilter())

NO_KEY = "You must provide authentication via an API key."


@dataclass
class ServerContext:
    store: Store
    runtime: ProjectRuntime
    api: str = "conat"  # "v1" (a self-hosted CoCalc of 2024) or "conat" (2025-08 to 2026-07)
    allow_http_parents: bool = False  # kiosk bridge: also answer http://127.0.0.1/localhost parents
    frame_ancestors: str | None = None  # app pages: CSP frame-ancestors value; None allows framing
    base_url: str = ""  # set once the server listens, e.g. http://127.0.0.1:41234
    caches: dict[str, Any] = field(default_factory=dict)  # small per-server caches and throttles
    # current generation: cache key and collaborator lookups as cocalc.com does (~15 s / ~30 s);
    # off by default so that changes take effect at once (see access.py)
    lookup_cache: bool = False
    bind_host: str = "127.0.0.1"  # the address it listens on: a Host it answers (see guard.py)
    allowed_hosts: tuple[str, ...] = ()  # more Host names it answers ("*": any)
    allow_sign_up: bool = False  # unauthenticated /api/v2/auth/sign-up (CoCalc's email_signup)

    @property
    def port(self) -> int | None:
        """The port the server listens on, once it does."""
        from urllib.parse import urlsplit

        return urlsplit(self.base_url).port if self.base_url else None


class AuthProblem(Exception):
    """The Authorization header is missing or malformed; the text is CoCalc's."""


def parse_authorization(header: str | None) -> str:
    """The API key in an ``Authorization`` header (``Basic base64(key:)`` or ``Bearer key``)."""
    if not header:
        raise AuthProblem(NO_KEY)
    parts = header.split(None, 1)
    kind, value = parts[0], (parts[1].strip() if len(parts) > 1 else "")
    if kind == "Basic":
        try:
            decoded = base64.b64decode(value, validate=False).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            decoded = ""
        return decoded.split(":", 1)[0]
    if kind == "Bearer":
        return value
    raise AuthProblem(f"Unknown authorization type '{kind}'")


def _form_to_dict(body: bytes) -> dict:
    """``application/x-www-form-urlencoded`` as express' ``extended`` parser reads it, for the
    shapes clients send: plain keys (values stay strings) and ``key[]`` lists."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        if key.endswith("[]"):
            out.setdefault(key[:-2], []).append(value)
        else:
            out[key] = value
    return out


MAX_JSON_DEPTH = 200  # no CoCalc call nests deeper than ~10
_SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]")


def _reject_constant(name: str) -> float:
    raise ValueError(f"Unexpected token {name[0]} in JSON")  # JSON.parse has no NaN or Infinity


def _js_number(text: str) -> int | float:
    """A JSON number as JavaScript reads it: a double (10**400 is Infinity, 2**63 loses digits)."""
    return int(text) if len(text.lstrip("-")) <= 15 else float(text)


def parse_json(body: bytes | str) -> Any:
    """A request body as JavaScript's ``JSON.parse`` reads it: no NaN or Infinity, numbers are
    doubles. Nesting deeper than ``MAX_JSON_DEPTH`` is refused as invalid JSON (V8 would parse
    it; Python's parser would overflow its stack, and nothing CoCalc takes nests that deep)."""
    try:
        value = json.loads(body, parse_constant=_reject_constant, parse_int=_js_number)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    raw = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
    if _SURROGATE_ESCAPE.search(raw):  # "\ud800" alone: Node writes it to a socket or database as U+FFFD
        value = json.loads(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
                           .decode("utf-8", "replace"), parse_int=_js_number)
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError("JSON nested too deeply")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))
    return value


def too_large_text(kind: str, size: int, limit: int) -> str:
    return (f"request entity too large: the {kind} body has {size} bytes, more than the "
            f"{limit} bytes this endpoint accepts")


class BaseHandler(tornado.web.RequestHandler):
    """JSON in, JSON out; never a traceback to the client."""

    # bytes allowed per body kind; subclasses narrow these (None: no limit beyond the server's)
    json_limit: int | None = 1_000_000
    form_limit: int | None = 1_000_000

    def initialize(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.runtime = ctx.runtime

    def check_xsrf_cookie(self) -> None:  # API clients send no xsrf token (guard.py checks Origin)
        pass

    def _request_summary(self) -> str:  # tornado's log lines quote it: never a token
        return mask_secrets(f"{self.request.method} {self.request.uri} ({self.request.remote_ip})")

    # ----------------------------------------------------------------- limits (read by guard.py)
    @classmethod
    def body_limit(cls, kind: str) -> int | None:
        """Bytes this route accepts in a body of ``kind`` ("json", "form", "other")."""
        if kind == "json":
            return cls.json_limit
        if kind == "form":
            return cls.form_limit
        return max(cls.json_limit or 0, cls.form_limit or 0) or None

    @classmethod
    def too_large_reply(cls, kind: str, size: int, limit: int) -> dict:
        """The 413 this route answers for a body over its limit (a RefusalHandler's arguments)."""
        return {"status": 413, "body": json.dumps({"error": too_large_text(kind, size, limit)})}

    # ----------------------------------------------------------------- bodies
    def body_kind(self) -> str:
        ctype = (self.request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/json":
            return "json"
        if ctype == "application/x-www-form-urlencoded":
            return "form"
        return "other"

    def body_too_large(self) -> str | None:
        """A one-line reason when the body is over this endpoint's limit."""
        kind = self.body_kind()
        limit = self.json_limit if kind == "json" else self.form_limit if kind == "form" else None
        size = len(self.request.body or b"")
        if limit is not None and size > limit:
            return too_large_text(kind, size, limit)
        return None

    def prepare(self) -> None:
        if self.request.method in ("POST", "PUT", "PATCH"):
            reason = self.body_too_large()
            if reason:
                self.write_json({"error": reason}, status=413)
                self.finish()

    def params(self) -> Any:
        """The parsed body: JSON value, form dict, or ``{}`` for anything else.

        Raises ValueError for a JSON body that does not parse.
        """
        kind = self.body_kind()
        body = self.request.body or b""
        if kind == "json":
            if not body.strip():
                return {}
            return parse_json(body)
        if kind == "form":
            return _form_to_dict(body)
        return {}

    # ----------------------------------------------------------------- auth
    def api_key(self) -> str:
        """The key of the request; raises AuthProblem with CoCalc's text."""
        return parse_authorization(self.request.headers.get("Authorization"))

    def cookie_account(self) -> str | None:
        """The account of a valid ``remember_me`` cookie, if any."""
        return self.store.session_account(self.get_cookie("remember_me"))

    # ----------------------------------------------------------------- output
    def write(self, chunk: str | bytes | dict) -> None:
        """As tornado's, but a lone surrogate (JSON may carry "\\ud800") becomes U+FFFD instead of
        an encoding error, a 500, halfway through a page."""
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "replace")
        super().write(chunk)

    def write_json(self, obj: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.write(json.dumps(obj))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if exc is not None and not isinstance(exc, tornado.web.HTTPError):
            log.error("unhandled error in %s %s", self.request.method, self.request.path, exc_info=kwargs["exc_info"])
            message = f"Error: {exc}"
        else:
            message = self._reason
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"error": message}))


class NotFoundHandler(BaseHandler):
    """Unknown routes: a 404 HTML page, as CoCalc's Next.js server gives."""

    def prepare(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(
            "<!DOCTYPE html><html><head><title>404: This page could not be found</title></head>"
            "<body><h1>404</h1><p>This page could not be found.</p></body></html>"
        )


def log_request(handler: tornado.web.RequestHandler) -> None:
    # Never log query strings: ?auth_token= and ?api_key= would land in logs.
    log.debug("%s %s %s %.1fms", handler.get_status(), handler.request.method,
              handler.request.path, 1000.0 * handler.request.request_time())
