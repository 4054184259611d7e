"""Checks every request passes before any handler runs: the Host it names, the Origin of a
browser's state-changing request, and the size its body announces.

``GuardedApplication.find_handler`` runs once the headers are in and before a body byte is
read, for every route (API, pages, static files, the 404 page), so routes added later inherit
these checks without doing anything.

* Host: a page the user visits could reach a loopback server through DNS rebinding (its own name
  resolving to 127.0.0.1); such a request names the attacker's host. As Jupyter Server does
  (``check_host``), only loopback addresses, ``localhost`` and the names the server was started
  for are answered; anything else gets 403.
* Origin: a browser on another site may POST a form here (no CORS preflight for forms). A
  state-changing request that carries ``Origin`` must come from this server's own origin.
  Clients other than browsers send no Origin and are not affected.
* Body size: each handler class says how many bytes it accepts (``body_limit``); a
  ``Content-Length`` above it is answered with the route's 413 at once, and the connection's
  limit is set to it so that a chunked body is cut off while it streams, never buffered whole.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
from typing import Any
from urllib.parse import urlsplit

import tornado.httputil
import tornado.web

log = logging.getLogger("cocalc_magic.server")

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_BODY_LIMIT = 1024 * 1024  # routes that do not say (pages, static files, the 404 page)
WILDCARD_BINDS = ("", "0.0.0.0", "::", "*")
_HOST_PORT = re.compile(r"^(.*?)(:\d+)?$")


def host_name(host_header: str) -> str:
    """``Host`` without its port and IPv6 brackets, lowercased (Jupyter's parsing)."""
    name = _HOST_PORT.match(host_header.strip()).group(1)
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name.lower().rstrip(".")


def is_loopback_name(name: str) -> bool:
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def machine_names() -> set[str]:
    """This machine's host names and addresses: a server bound to every interface answers them.
    (A guess at what "the configured names" are when no name was given: the ones this machine
    calls itself.)"""
    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    for name in list(names):
        try:
            for info in socket.getaddrinfo(name, None):
                names.add(str(info[4][0]).split("%")[0].lower())
        except OSError:
            pass
    return {n for n in names if n}


class HostPolicy:
    """Which ``Host`` values this server answers."""

    def __init__(self, bind_host: str, extra: list[str] | tuple[str, ...] = ()) -> None:
        self.any = "*" in extra
        names = {host_name(n) for n in extra if n and n != "*"}
        bind = host_name(bind_host) if bind_host else ""
        if bind in WILDCARD_BINDS:
            names |= machine_names()
        elif bind:
            names.add(bind)
        self.names = frozenset(names)

    def allows(self, host_header: str) -> bool:
        if self.any:
            return True
        name = host_name(host_header)
        return is_loopback_name(name) or name in self.names


def origin_allowed(origin: str, request_host: str, policy: HostPolicy, port: int | None) -> bool:
    """A browser origin that is this server: the request's own host, or an allowed name on our port."""
    if origin.strip().lower() == "null":
        return False
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    if parts.netloc.lower() == request_host.strip().lower():
        return True
    try:
        origin_port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    return port is not None and origin_port == port and policy.allows(parts.netloc)


@tornado.web.stream_request_body
class RefusalHandler(tornado.web.RequestHandler):
    """Answers at once, before the body is read; the connection closes after the answer (tornado
    closes a connection whose body was left unread), so nothing more of the body is taken in."""

    def initialize(self, status: int, body: str, content_type: str | None = "application/json; charset=utf-8",
                   reason: str | None = None) -> None:
        self._answer = (status, body, content_type, reason)

    def prepare(self) -> None:
        status, body, ctype, reason = self._answer
        self.set_status(status, reason=reason)
        self.clear_header("Content-Type")
        if ctype:
            self.set_header("Content-Type", ctype)
        self.set_header("Cache-Control", "no-store")
        self.finish(body)

    def data_received(self, chunk: bytes) -> None:  # never reached: prepare() already answered
        pass

    def _request_summary(self) -> str:
        return f"{self.request.method} {self.request.path} ({self.request.remote_ip})"


def _error_json(text: str) -> str:
    return json.dumps({"error": text})


class GuardedApplication(tornado.web.Application):
    """A tornado Application whose every request first passes ``HostPolicy``, the Origin check
    and the route's body limit."""

    def __init__(self, *args: Any, host_policy: HostPolicy, port_of: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.host_policy = host_policy
        self._port_of = port_of  # () -> the port the server listens on, once known

    def find_handler(self, request: tornado.httputil.HTTPServerRequest, **kwargs: Any):
        delegate = super().find_handler(request, **kwargs)
        refusal = self.refusal(request, delegate.handler_class)
        if refusal is not None:
            return self.get_handler_delegate(request, RefusalHandler, refusal)
        return delegate

    def refusal(self, request: tornado.httputil.HTTPServerRequest, handler_class: type) -> dict | None:
        host = request.host or ""
        if not self.host_policy.allows(host):
            log.warning("refused a request for the host %r (not one this server answers)", host_name(host)[:100])
            text = (f"this server does not answer for the host '{host_name(host)[:100]}'; start it with "
                    f"--allow-host {host_name(host)[:100]} (LocalServer(allowed_hosts=[...])) if that name is yours")
            return {"status": 403, "body": _error_json(text)}
        origin = request.headers.get("Origin")
        if request.method in UNSAFE_METHODS and origin is not None:
            if not origin_allowed(origin, host, self.host_policy, self._port_of()):
                shown = origin[:100]
                log.warning("refused a cross-origin %s %s from %r", request.method, request.path, shown)
                return {"status": 403, "body": _error_json(
                    f"cross-origin request refused: a page from '{shown}' may not send {request.method} "
                    "requests to this server")}
        limit_of = getattr(handler_class, "body_limit", None)
        kind = body_kind(request.headers.get("Content-Type"))
        limit = limit_of(kind) if callable(limit_of) else DEFAULT_BODY_LIMIT
        length = _content_length(request.headers)
        if limit is not None and length is not None and length > limit:
            request.connection.set_max_body_size(length)  # read nothing more: we answer and close
            too_large = getattr(handler_class, "too_large_reply", None)
            if callable(too_large):
                return too_large(kind, length, limit)
            return {"status": 413, "body": _error_json(
                f"request entity too large: the body has {length} bytes, more than the {limit} bytes accepted here")}
        request.connection.set_max_body_size(limit if limit is not None else DEFAULT_BODY_LIMIT)
        return None


def body_kind(content_type: str | None) -> str:
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype == "application/json":
        return "json"
    if ctype == "application/x-www-form-urlencoded":
        return "form"
    return "other"


def _content_length(headers: tornado.httputil.HTTPHeaders) -> int | None:
    value = headers.get("Content-Length")
    if value is None:
        return None
    try:
        return int(value.split(",")[0].strip())
    except ValueError:
        return None  # tornado itself refuses it with 400
