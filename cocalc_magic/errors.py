"""One error tree for everything that can go wrong talking to CoCalc.

Every error carries ``status`` (the HTTP status, or None when no answer came), ``endpoint``
(e.g. ``/api/conat/project system.exec``) and ``server_message`` (CoCalc's own text, secrets
masked); ``str(e)`` is one line that says what happened and what to do. ``classify`` turns the
texts CoCalc really sends (facts sheet and recordings) into the right class.
"""

from __future__ import annotations

import re
from typing import Any

from . import hints
from .settings import redact

MAX_SERVER_TEXT = 300


# Server-side absolute paths of a project's home, as CoCalc writes them in its errors: the local
# server's and a legacy server's `<projects dir>/<project_id>/...`, a conat project's `/home/user/...`.
_HOME_PATH = re.compile(r"(?:/[^\s'\"]*)?/projects/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                        r"|/home/user(?=[/'\"\s]|$)")


def home_relative(text: Any) -> str:
    """``text`` with each server-side home path written relative to the home (``~`` for itself):
    a user gave relative paths and should not see where the server keeps the project."""
    text = str(text)
    if "/projects/" not in text and "/home/user" not in text:
        return text
    text = re.sub(f"(?:{_HOME_PATH.pattern})/", "", text)
    return _HOME_PATH.sub("~", text)


def _one_line(text: Any, limit: int = MAX_SERVER_TEXT) -> str:
    line = " ".join(redact(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class CoCalcError(Exception):
    """Base class: something went wrong talking to a CoCalc server.

    ``hint`` names an entry of ``hints.HINTS`` (worded per caller: ``hint_for("magic")``) or is
    free text; ``str(e)`` is the Python caller's line, ``e.line("magic")`` the magics' one. The
    line never carries the HTTP status or the endpoint: they stay on the exception.
    """

    hint_id: str | None = "generic"  # an entry of hints.HINTS, or None for free text
    _hint_text: str | None = None       # free text (a subclass's ``hint = "..."`` lands here)

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "hint" in cls.__dict__ and not isinstance(cls.__dict__["hint"], property):
            cls._hint_text = cls.__dict__["hint"]  # its own free text wins over the parent's entry
            delattr(cls, "hint")
            if "hint_id" not in cls.__dict__:
                cls.hint_id = None

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
        self.message = _one_line(home_relative(message), 1000)
        super().__init__(self.message)

    @property
    def hint(self) -> str | None:
        """What to do, in the Python caller's words."""
        return self.hint_for("python")

    @hint.setter
    def hint(self, value: str | None) -> None:
        """An id of ``hints.HINTS``, or free text (the same for every caller; "" for none)."""
        if value in hints.HINTS:
            self.hint_id, self._hint_text = value, None
        else:
            self.hint_id, self._hint_text = None, value

    def hint_for(self, caller: str = "python") -> str | None:
        """What to do, worded for ``caller`` ("python", "magic" or "login")."""
        if self.hint_id in hints.HINTS:
            return hints.text(self.hint_id, caller)
        return self._hint_text

    def line(self, caller: str = "python") -> str:
        """One line: what happened, then what to do (worded for ``caller``)."""
        text = self.message.rstrip()
        hint = self.hint_for(caller)
        if hint:
            text = text.rstrip(".")
            text = f"{text}{'' if text.endswith(('?', '!')) else '.'} {hint}"
        return _one_line(text, 1200)

    def __str__(self) -> str:
        return self.line("python")

    extra: tuple[str, ...] = ()  # subclasses' own attributes, kept by pickling

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # picklable (multiprocessing, ipyparallel)
        return (_rebuild, (type(self), self.message, self.status, self.endpoint, self.server_message,
                           self.hint_id if self.hint_id in hints.HINTS else self._hint_text, self.retryable,
                           {k: getattr(self, k, None) for k in self.extra}))


def _rebuild(cls: type["CoCalcError"], message: str, status: int | None, endpoint: str | None,
             server_message: str | None, hint: str | None, retryable: bool,
             extra: dict[str, Any] | None = None) -> "CoCalcError":
    return cls(message, status=status, endpoint=endpoint, server_message=server_message, hint=hint,
               retryable=retryable, **(extra or {}))


class AuthenticationError(CoCalcError):
    """The server did not accept the API key (missing, wrong, deleted, or the wrong kind)."""

    hint_id = "key"


class PermissionDenied(CoCalcError):
    """The key is valid but may not do this: its account is not a collaborator or not an admin, or
    (cocalc.ai) the key lacks a capability (``.capability``) for a project (``.project_id``)."""

    hint_id = "permission"
    extra = ("capability", "project_id")

    def __init__(self, message: str, *, capability: str | None = None, project_id: str | None = None,
                 **kw: Any) -> None:
        self.capability = capability
        self.project_id = project_id
        super().__init__(message, **kw)


class NotSupported(CoCalcError):
    """This server's API generation does not let an API key do this (cocalc.ai: sign-in tokens,
    accounts, user search, collaborators, database queries)."""

    hint_id = "web_ui"


class Moved(CoCalcError):
    """The host answered with a redirect (cocalc.com -> cocalc.ai). It is never followed: a key or
    password must not reach another host. ``.location`` is where it points (query left out)."""

    hint = ""
    extra = ("location",)

    def __init__(self, message: str, *, location: str | None = None, **kw: Any) -> None:
        self.location = location
        super().__init__(message, **kw)


class NotFound(CoCalcError):
    """No such project, file, function or endpoint."""

    hint_id = "not_found"


class InvalidRequest(CoCalcError):
    """The server refused the request as malformed or impossible (bad argument, too large...)."""

    hint_id = "invalid"


class RateLimited(CoCalcError):
    """The server asked us to slow down."""

    hint_id = "rate"


class ServerTimeout(CoCalcError):
    """The server (or the command run on it) did not finish in time."""

    hint_id = "timeout"


class ServerError(CoCalcError):
    """The server failed (5xx, or a service behind it is not reachable)."""

    hint_id = "server"


class ProtocolError(CoCalcError):
    """The answer was not the JSON expected: an HTML proxy or login page, a truncated body..."""

    hint_id = "protocol"


class CoCalcConnectionError(CoCalcError):
    """No connection to the server (refused, reset, DNS failure, connect timeout)."""

    hint_id = "connection"


class CommandFailed(CoCalcError):
    """``exec(..., err_on_exit=True)`` and the command exited with a non-zero code.

    ``.result`` is the full ExecResult (stdout, stderr, exit_code).
    """

    hint_id = "command_failed"
    extra = ("result",)

    def __init__(self, message: str, *, result: Any = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.result = result


ALL_ERRORS = (
    CoCalcError, AuthenticationError, PermissionDenied, NotSupported, Moved, NotFound, InvalidRequest,
    RateLimited, ServerTimeout, ServerError, ProtocolError, CoCalcConnectionError, CommandFailed,
)

# --------------------------------------------------------------------------- classification
# (pattern, class, retryable, what-happened) — first match wins; patterns are CoCalc's texts
# (the three recordings, the facts sheets, and CoCalc's source where those are silent).
# Only what may pass by itself is retryable, and only its hint says "try again".
CREDENTIALS_REFUSED = "the server did not accept the credentials"  # the transport words it for a key
_RULES: list[tuple[re.Pattern[str], type[CoCalcError], bool, str]] = [
    # cocalc.ai: an API key sent as a cookie may not publish to the hub; it comes back as a 408
    (re.compile(r"permission denied publishing to", re.I), PermissionDenied, False,
     "this key may not make that call"),
    # cocalc.ai's project bridge when nothing answers for the project: it is not running (a running but
    # slow one gives the plain callHub 408), and waiting again will not start it
    (re.compile(r"operation has timed out subject:project\.", re.I), ServerTimeout, False,
     "the project did not answer: it is not running, and cocalc.ai does not start a project for a call to it"),
    (re.compile(r"code='408'|\btimeout - call", re.I), ServerTimeout, True,
     "the server gave up waiting for an answer"),
    (re.compile(r"code='503'|no subscribers matching", re.I), ServerError, True,
     "the service behind the server is not reachable right now (the project may be starting)"),
    (re.compile(r"too many requests|try again in \d+ second|rate limit|banned -- please wait", re.I),
     RateLimited, False, "the server is throttling these requests"),
    (re.compile(r"You must provide authentication via an API key|No account found\. Is your API key wrong|"
                r"must be signed in and MUST provide an api key|must sign in as project or account|"
                r"must sign in with an account API key|"
                r"Unknown authorization type|User is BANNED|out of range for type integer|"
                r"^(Error: )?user must be signed in|^(Error: )?must be signed in|"
                r"must be authenticated|incorrect password|password for .* is incorrect|invalid old password|"
                r"^invalid_password$|"
                r"no account with email address|auth_token is not valid|unknown or expired token", re.I),
     AuthenticationError, False, CREDENTIALS_REFUSED),
    (re.compile(r"fresh auth is required", re.I), AuthenticationError, False,
     "this needs a fresh sign-in with the second factor"),
    (re.compile(r"Attempt to open large file", re.I), InvalidRequest, False,
     "the file is larger than the server will read in one call"),
    (re.compile(r"exceeded .* limit|entity too large|Body exceeded", re.I),
     InvalidRequest, False, "the content is larger than the server accepts"),
    # Node's spawn throws E2BIG when one argument passes Linux's MAX_ARG_STRLEN (128 KiB) or all of
    # them ARG_MAX; CoCalc's execute-code.ts reports the throw as `error Error: spawn E2BIG`.
    (re.compile(r"\bE2BIG\b|Argument list too long", re.I), InvalidRequest, False,
     "an argument of the command is too long: Linux allows 128 KiB per argument"),
    (re.compile(r"killed command", re.I), ServerTimeout, False, "the command ran past its timeout"),
    (re.compile(r"Timeout communicating with project|^timeout$", re.I), ServerTimeout, False,
     "the call ran past its timeout"),
    (re.compile(r"invalid project_id|must be valid uuid|must be a valid uuid|must be a uuid|"
                r"invalid input syntax for type uuid|valid UUID", re.I),
     InvalidRequest, False, "an id is not a valid UUID"),
    (re.compile(r"\bEACCES\b|\bEPERM\b|outside the project's home", re.I), PermissionDenied, False,
     "the project may not read or write that path"),
    (re.compile(r"must be (a )?collaborator|does not have (write|read) access|access denied|"
                r"must be an admin|must be an owner|cannot add self|Must be an admin|OwnershipError|"
                r"api key must match requested project|Cannot remove an owner|not public|"
                r"may only be specified by account administrators", re.I),
     PermissionDenied, False, "this account may not do that"),
    (re.compile(r"\"code\":\"ENOENT\",\"syscall\":\"spawn ", re.I), NotFound, False,
     "the command was not found in the project"),
    (re.compile(r"exited with nonzero code|was not able to run", re.I), CommandFailed, False,
     "the command failed"),
    (re.compile(r"No spec available for kernel|Unable to Spawn Jupyter Kernel", re.I), NotFound, False,
     "no such Jupyter kernel in the project"),
    (re.compile(r"ENOENT|no such file or directory|does not exist|unknown project_id|unknown endpoint|"
                r"unknown function|unknown message event type|not part of the HTTP API|"
                r"could not be found|no api key with id|stripe customer not defined", re.I),
     NotFound, False, "not found"),
    (re.compile(r"^deprecated$", re.I), NotSupported, False, "this server no longer offers that call"),
    (re.compile(r"already exists|already_taken|already taken", re.I), InvalidRequest, False,
     "it exists already"),
    (re.compile(r"has no assigned host", re.I), ServerError, False,
     "the server has no host to run that project on"),
]

_SPAWN_ENOENT = re.compile(r'"code":"ENOENT","syscall":"spawn ([^"]*)"')
_ENOENT = re.compile(r"(?:ENOENT: no such file or directory, \w+ |\[Errno 2\] No such file or directory: )'([^']*)'")
_EACCES = re.compile(r"(E(?:ACCES|PERM)): [^,]*, \w+ '([^']*)'")

# what-happened texts of _RULES whose advice is more specific than their class's (ids of hints.HINTS)
_HINTS = {
    "the file is larger than the server will read in one call": "large_read",
    "the content is larger than the server accepts": "large_write",
    "an argument of the command is too long: Linux allows 128 KiB per argument": "arg_too_long",
    "the command ran past its timeout": "exec_timeout",
    "the project may not read or write that path": "outside_home",
    "the command was not found in the project": "no_command",
    "the command failed": "exec_failed",
    "no such Jupyter kernel in the project": "no_kernel",
    "this needs a fresh sign-in with the second factor": "fresh_auth",
    "it exists already": "exists",
    "the server has no host to run that project on": "no_host",
    "this server no longer offers that call": "web_ui",
    "this key may not make that call": "key_cookie",
    "the project did not answer: it is not running, and cocalc.ai does not start a project for a call to it":
        "not_running",
}

# cocalc.ai's refusals (api-key-scope.ts, http-api-key-policy.ts): what the key lacks, or what keys
# may never do there. Kept apart from _RULES because they carry attributes or per-call advice.
_CAPABILITY = re.compile(r"API key lacks required capability '([^']+)'(?: for project (\S+))?")
_KEYS_MAY_NOT = re.compile(r"API keys are not allowed to (?:call hub RPC '([^']*)'|use ([\w -]+))|"
                           r"API keys cannot manage account API keys|legacy HTTP API key mutations are disabled")
_KEY_CALL_INSTEAD = {
    "db.userQuery": "cc.projects() lists projects and p.state() tells a project's state with a key",
    "system.generateUserAuthToken": "open the file in CoCalc in a new tab (you sign in there)",
    "system.createImpersonationGrant": "open the file in CoCalc in a new tab (you sign in there)",
    "system.manageApiKeys": "create and edit keys in the web interface (Account → API keys)",
    "projects.start": "p.start() starts a project through /api/v2/projects/start",
    "projects.stop": "p.stop() stops a project through /api/v2/projects/stop",
}
KEY_FIX = "In Account → API keys, give the key that capability and add the project to its allowed projects"


def refusal(text: str, *, status: int | None = None, endpoint: str | None = None) -> CoCalcError | None:
    """cocalc.ai's answer for what a key may not do, as PermissionDenied (with ``.capability`` and
    ``.project_id``), NotSupported or InvalidRequest; None for any other text."""
    m = _CAPABILITY.search(text)
    if m:
        cap, pid = m.group(1), m.group(2)
        if pid:
            return PermissionDenied(
                f"this API key lacks the '{cap}' capability for project {pid} (the capability, or the project, "
                f"is missing from the key)", capability=cap, project_id=pid, status=status, endpoint=endpoint,
                server_message=text, hint=f"{KEY_FIX}, or use a key that has both")
        return PermissionDenied(f"this API key lacks the '{cap}' capability", capability=cap, status=status,
                                endpoint=endpoint, server_message=text,
                                hint="Add that capability to the key in Account → API keys, or use a key that has it")
    m = _KEYS_MAY_NOT.search(text)
    if m:
        what = m.group(1) or m.group(2)
        if what is None:  # key management
            return NotSupported("cocalc.ai does not let API keys create or change API keys", status=status,
                                endpoint=endpoint, server_message=text,
                                hint="Create and edit keys in the web interface (Account → API keys), "
                                     "which asks for a two-factor sign-in")
        instead = _KEY_CALL_INSTEAD.get(what, "do it in CoCalc's web interface")
        return NotSupported(f"cocalc.ai does not let API keys {'call ' if m.group(1) is not None else 'use '}"
                            f"{what!r}", status=status, endpoint=endpoint, server_message=text,
                            hint=instead[0].upper() + instead[1:])
    if "capability check requires project_id" in text:
        return InvalidRequest("the call needs a project_id in its first argument", status=status,
                              endpoint=endpoint, server_message=text,
                              hint="Pass {'project_id': ...} as the first argument")
    return None


# HTTP statuses that say what happened when the text does not (checked after _RULES).
_BY_STATUS: dict[int, tuple[type[CoCalcError], str]] = {
    429: (RateLimited, "the server is throttling these requests"),
    404: (NotFound, "not found"),
    413: (InvalidRequest, "the request is larger than the server accepts"),
    401: (AuthenticationError, CREDENTIALS_REFUSED),
    403: (PermissionDenied, "this account may not do that"),
}

_INVALID = re.compile(r"invalid parameters|TypeError|must be specified|must specify|EISDIR|ENOTDIR|Not a directory|"
                      r"Is a directory|FATAL: |is not valid|is not a valid|must include|malformed|"
                      r"Cannot read properties of|is not iterable|Cannot destructure|Spread syntax|"
                      r"invalid API key capability|invalid second factor")


def classify(
    text: str,
    *,
    status: int | None = None,
    endpoint: str | None = None,
    default: type[CoCalcError] = ServerError,
) -> CoCalcError:
    """The error for an error text CoCalc sent (``{"error": text}``, ``{"event":"error"}``...)."""
    text = str(text)
    err = refusal(text, status=status, endpoint=endpoint)
    if err is not None:
        return err
    for pattern, cls, retryable, what in _RULES:
        if pattern.search(text):
            spawned = _SPAWN_ENOENT.search(text) if cls is NotFound else None
            if spawned:  # name the command; the server's JSON spawn error stays in server_message
                return NotFound(f"the command '{spawned.group(1)}' was not found in the project", status=status,
                                endpoint=endpoint, server_message=text, hint=_HINTS.get(what))
            missing = _ENOENT.search(text)
            if missing and cls is NotFound:  # say which file, not Node's errno wording (kept in server_message)
                return NotFound(f"no such file or directory: '{missing.group(1)}'", status=status,
                                endpoint=endpoint, server_message=text, hint="no_file")
            denied = _EACCES.search(text) if cls is PermissionDenied else None
            line = (f"permission denied for '{denied.group(2)}': {what} ({denied.group(1)})"
                    if denied else f"{what}: {text}")
            return cls(line, status=status, endpoint=endpoint, server_message=text, retryable=retryable,
                       hint=_HINTS.get(what))
    if status in _BY_STATUS:
        cls, what = _BY_STATUS[status]
        return cls(f"{what}: {text}", status=status, endpoint=endpoint, server_message=text)
    if status is not None and status >= 500:
        return ServerError(f"the server failed: {text}", status=status, endpoint=endpoint,
                           server_message=text, retryable=status in (502, 503, 504))
    if status == 400 or _INVALID.search(text):
        return InvalidRequest(f"the server refused the request: {text}", status=status, endpoint=endpoint,
                              server_message=text)
    return default(f"the server reported an error: {text}", status=status, endpoint=endpoint,
                   server_message=text)


COCALC_COM = ("cocalc.com", "www.cocalc.com")


def moved(host: str, location: str, *, status: int, endpoint: str | None) -> Moved:
    """The one-line error for a redirect (never followed: the key or password would go along)."""
    from urllib.parse import urljoin, urlsplit

    here = urlsplit(host)
    there = urlsplit(urljoin(host + "/", location or ""))
    origin = f"{there.scheme}://{there.netloc}" if there.netloc else host
    where = origin + there.path  # the query may hold a token: left out
    if here.hostname in COCALC_COM and (there.hostname or "").endswith("cocalc.ai"):
        text = (f"cocalc.com has moved to {origin}, and its API keys were not carried over: create a key at "
                f"{origin} (Account → API keys) and set COCALC_HOST={origin}")
    elif there.netloc and there.netloc != here.netloc:
        text = (f"{here.netloc} has moved to {origin} (it redirects API requests there), and the key was not sent "
                f"along: if that is your CoCalc server, set COCALC_HOST={origin} and use a key made there")
    else:
        text = (f"{host} redirects {endpoint or 'the request'} to {redact(where)} instead of answering it: "
                f"COCALC_HOST should be the address of the CoCalc server itself (not a sign-in or proxy page)")
    return Moved(text, location=where, status=status, endpoint=endpoint)
