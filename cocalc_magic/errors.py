"""One error tree for everything that can go wrong talking to CoCalc.

Every error carries ``status`` (the HTTP status, or None when no answer came), ``endpoint``
(e.g. ``/api/conat/project system.exec``) and ``server_message`` (CoCalc's own text, secrets
masked); ``str(e)`` is one line that says what happened and what to do. ``classify`` turns the
texts CoCalc really sends (facts sheet and recordings) into the right class.
"""

from __future__ import annotations

import re
from typing import Any

from .settings import redact

MAX_SERVER_TEXT = 300


def _one_line(text: Any, limit: int = MAX_SERVER_TEXT) -> str:
    line = " ".join(redact(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class CoCalcError(Exception):
    """Base class: something went wrong talking to a CoCalc server."""

    hint = "See the message above; cc.settings shows which server and key are in use."

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        endpoint: str | None = None,
        server_message: str | None = None,
        hint: str | None = None,
        retryable: bool = False,
    ) -> None:
        self.status = status
        self.endpoint = endpoint
        self.server_message = _one_line(server_message) if server_message is not None else None
        self.retryable = retryable
        if hint is not None:
            self.hint = hint
        self.message = _one_line(message, 1000)
        super().__init__(self.message)

    def __str__(self) -> str:
        where = []
        if self.endpoint:
            where.append(self.endpoint)
        if self.status is not None:
            where.append(f"HTTP {self.status}")
        suffix = f" [{', '.join(where)}]" if where else ""
        text = self.message.rstrip()
        if self.hint:
            text = text.rstrip(".")
            text = f"{text}{'' if text.endswith(('?', '!')) else '.'} {self.hint}"
        return _one_line(text + suffix, 1200)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # picklable (multiprocessing, ipyparallel)
        return (_rebuild, (type(self), self.message, self.status, self.endpoint, self.server_message,
                           self.hint, self.retryable))


def _rebuild(cls: type["CoCalcError"], message: str, status: int | None, endpoint: str | None,
             server_message: str | None, hint: str | None, retryable: bool) -> "CoCalcError":
    return cls(message, status=status, endpoint=endpoint, server_message=server_message, hint=hint,
               retryable=retryable)


class AuthenticationError(CoCalcError):
    """The server did not accept the API key (missing, wrong, deleted, or the wrong kind)."""

    hint = ("Check the API key: CoCalc(api_key=...), COCALC_API_KEY or `%cocalc login`; "
            "listing projects needs an account key, not a project key")


class PermissionDenied(CoCalcError):
    """The key is valid but its account may not do this (not a collaborator, not an admin...)."""

    hint = "Use the key of an account that collaborates on the project, or ask its owner to add you"


class NotFound(CoCalcError):
    """No such project, file, function or endpoint."""

    hint = "Check the name, path or id; cc.projects() lists your projects and p.listing() a folder"


class InvalidRequest(CoCalcError):
    """The server refused the request as malformed or impossible (bad argument, too large...)."""

    hint = "Fix the arguments of the call"


class RateLimited(CoCalcError):
    """The server asked us to slow down."""

    hint = "Wait a little and try again"


class ServerTimeout(CoCalcError):
    """The server (or the command run on it) did not finish in time."""

    hint = "Try again, pass a larger timeout=, or run long commands with exec(..., background=True)"


class ServerError(CoCalcError):
    """The server failed (5xx, or a service behind it is not reachable)."""

    hint = "Try again in a moment; if it persists, the server's administrator has to look at it"


class ProtocolError(CoCalcError):
    """The answer was not the JSON expected: an HTML proxy or login page, a truncated body..."""

    hint = ("Check that the host is the CoCalc server itself (not a proxy, login or error page) "
            "and try again")


class CoCalcConnectionError(CoCalcError):
    """No connection to the server (refused, reset, DNS failure, connect timeout)."""

    hint = "Check the host (cc.host) and your network, and that the server is running"


class CommandFailed(CoCalcError):
    """``exec(..., err_on_exit=True)`` and the command exited with a non-zero code.

    ``.result`` is the full ExecResult (stdout, stderr, exit_code).
    """

    hint = "Look at .result.stderr; pass err_on_exit=False to get the result instead of an error"

    def __init__(self, message: str, *, result: Any = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.result = result


ALL_ERRORS = (
    CoCalcError, AuthenticationError, PermissionDenied, NotFound, InvalidRequest, RateLimited,
    ServerTimeout, ServerError, ProtocolError, CoCalcConnectionError, CommandFailed,
)

# --------------------------------------------------------------------------- classification
# (pattern, class, retryable, what-happened) — first match wins; patterns are CoCalc's texts.
_RULES: list[tuple[re.Pattern[str], type[CoCalcError], bool, str]] = [
    (re.compile(r"code='408'|\btimeout - call", re.I), ServerTimeout, True,
     "the server gave up waiting for an answer"),
    (re.compile(r"code='503'|no subscribers matching", re.I), ServerError, True,
     "the service behind the server is not reachable right now (the project may be starting)"),
    (re.compile(r"too many requests|try again in \d+ second|rate limit|banned -- please wait", re.I),
     RateLimited, False, "the server is throttling these requests"),
    (re.compile(r"You must provide authentication via an API key|No account found\. Is your API key wrong|"
                r"must be signed in and MUST provide an api key|must sign in as project or account|"
                r"Unknown authorization type|User is BANNED|out of range for type integer|"
                r"^(Error: )?user must be signed in|^(Error: )?must be signed in|"
                r"must be authenticated|incorrect password|password for .* is incorrect|"
                r"no account with email address|auth_token is not valid|unknown or expired token", re.I),
     AuthenticationError, False, "the server did not accept the credentials"),
    (re.compile(r"Attempt to open large file", re.I), InvalidRequest, False,
     "the file is larger than the server will read in one call"),
    (re.compile(r"exceeded .* limit|entity too large|Body exceeded", re.I),
     InvalidRequest, False, "the content is larger than the server accepts"),
    (re.compile(r"killed command|Timeout communicating with project|^timeout$", re.I), ServerTimeout, False,
     "the command or call ran past its timeout"),
    (re.compile(r"invalid project_id|must be valid uuid|must be a valid uuid|invalid input syntax for type uuid|"
                r"valid UUID", re.I),
     InvalidRequest, False, "an id is not a valid UUID"),
    (re.compile(r"must be (a )?collaborator|does not have (write|read) access|access denied|"
                r"must be an admin|must be an owner|cannot add self|Must be an admin|OwnershipError|"
                r"api key must match requested project|Cannot remove an owner|not public", re.I),
     PermissionDenied, False, "this account may not do that"),
    (re.compile(r"ENOENT|no such file or directory|does not exist|unknown project_id|unknown endpoint|"
                r"unknown function|unknown message event type|not part of the HTTP API|"
                r"could not be found|no api key with id", re.I),
     NotFound, False, "not found"),
]


_ENOENT = re.compile(r"ENOENT: no such file or directory, \w+ '([^']*)'")
_NO_FILE_HINT = "Check the path (relative to the project's home); p.listing() or %cocalc ls shows what is there"

_HINTS = {
    "the file is larger than the server will read in one call":
        "Read it in pieces through exec (e.g. p.exec('head', '-c', '1000000', path)) or copy it elsewhere",
    "the content is larger than the server accepts":
        "Send less per call (cc.max_write_bytes is the largest write)",
}


# HTTP statuses that say what happened when the text does not (checked after _RULES).
_BY_STATUS: dict[int, tuple[type[CoCalcError], str]] = {
    429: (RateLimited, "the server is throttling these requests"),
    404: (NotFound, "not found"),
    413: (InvalidRequest, "the request is larger than the server accepts"),
    401: (AuthenticationError, "the server did not accept the credentials"),
    403: (PermissionDenied, "this account may not do that"),
}


def classify(
    text: str,
    *,
    status: int | None = None,
    endpoint: str | None = None,
    default: type[CoCalcError] = ServerError,
) -> CoCalcError:
    """The error for an error text CoCalc sent (``{"error": text}``, ``{"event":"error"}``...)."""
    text = str(text)
    for pattern, cls, retryable, what in _RULES:
        if pattern.search(text):
            missing = _ENOENT.search(text)
            if missing:  # say which file, not Node's errno wording (kept in server_message)
                return NotFound(f"no such file or directory: '{missing.group(1)}'", status=status,
                                endpoint=endpoint, server_message=text, hint=_NO_FILE_HINT)
            return cls(f"{what}: {text}", status=status, endpoint=endpoint, server_message=text,
                       retryable=retryable, hint=_HINTS.get(what))
    if status in _BY_STATUS:
        cls, what = _BY_STATUS[status]
        return cls(f"{what}: {text}", status=status, endpoint=endpoint, server_message=text)
    if status is not None and status >= 500:
        return ServerError(f"the server failed: {text}", status=status, endpoint=endpoint,
                           server_message=text, retryable=status in (502, 503, 504))
    if status == 400 or re.search(r"invalid parameters|TypeError|must be specified|must specify|"
                                  r"EISDIR|ENOTDIR|Not a directory|Is a directory|FATAL: |is not valid|must include|"
                                  r"malformed", text):
        return InvalidRequest(f"the server refused the request: {text}", status=status, endpoint=endpoint,
                              server_message=text)
    return default(f"the server reported an error: {text}", status=status, endpoint=endpoint,
                   server_message=text)
