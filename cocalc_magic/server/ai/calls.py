"""What the two ai bridges share: the caller's key, the bridge timeout, waiting for a project
that nobody starts, and conat's error texts (cocalc-ai's ``conat/hub/call-hub.ts`` and
``server/api/project-bridge.ts`` at 0cf1d9e0bd).

A hub function that throws comes back as ``<message> - callHub: subject='hub.account.<id>.api',
name='<name>', code='unknown'`` (recorded: ``projects.exec``, ``getProjectAddress``); a timeout as
``timeout - callHub: …, code='408'``. The project bridge adds a trailing space to its suffix
(recorded), and a project that is not running is waited for (``waitForInterest``) until the
timeout, never started: ``timeout - Error: operation has timed out subject:project.<id>.api.- -
callHub: …, code='408' `` (recorded after 15 s, or after the body's ``timeout`` in ms).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from ..core.jsvalues import RemoteError, js_str

DEFAULT_TIMEOUT_MS = 15000  # project-bridge.ts / call-hub.ts DEFAULT_TIMEOUT
POLL_S = 0.05  # how often a waiting call looks whether its project is running
_ERR_PREFIX = re.compile(r"^[A-Za-z]*Error( \[[A-Z_]+\])?: ")


def message(text: str) -> str:
    """``err.message`` of an error whose ``String(err)`` is ``text`` (drops ``Error: ``)."""
    return _ERR_PREFIX.sub("", text, count=1)


class Undefined:
    """A body field that was not sent (JavaScript's ``undefined``, shown as such in texts)."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED = Undefined()


def field(params: dict, name: str) -> Any:
    """``params[name]`` keeping JavaScript's difference between a missing field and ``null``."""
    return params[name] if name in params else UNDEFINED


def shown(value: Any) -> str:
    """``${value}`` as a template literal renders it (``null`` and ``undefined`` differ)."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    return js_str(value)


def timeout_s(value: Any) -> float:
    """The body's ``timeout`` (ms) or the default; nonsense falls back to the default."""
    if value is UNDEFINED or value is None:
        return DEFAULT_TIMEOUT_MS / 1000
    try:
        ms = float(value)
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT_MS / 1000
    if ms != ms or ms <= 0:
        return DEFAULT_TIMEOUT_MS / 1000
    return ms / 1000


def hub_subject(account_id: str) -> str:
    return f"hub.account.{account_id}.api"


def project_subject(project_id: str) -> str:
    return f"project.{project_id}.api.-"


def hub_error(exc: BaseException, account_id: str, name: Any, code: str = "unknown") -> RemoteError:
    """``annotateCallHubError``: the message with the callHub suffix (no trailing space)."""
    text = message(exc.text if isinstance(exc, RemoteError) else str(exc))
    return RemoteError(f"{text} - callHub: subject='{hub_subject(account_id)}', name='{shown(name)}', code='{code}'")


def project_timeout(project_id: str, name: Any, waited_for_interest: bool) -> RemoteError:
    subject = project_subject(project_id)
    inner = f"timeout - Error: operation has timed out subject:{subject}" if waited_for_interest else "timeout"
    return RemoteError(f"{inner} - callHub: subject='{subject}', name='{shown(name)}', code='408' ")


def is_running(ctx, project_id: str) -> bool:
    st = ctx.runtime.state(project_id)
    return bool(st) and st.get("state") == "running"


async def wait_running(ctx, project_id: str, deadline: float) -> bool:
    """Wait (never start) until the project runs or ``deadline`` (``time.monotonic``) passes."""
    while not is_running(ctx, project_id):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        await asyncio.sleep(min(POLL_S, left))
    return True


async def run_bounded(coro, deadline: float) -> tuple[bool, Any]:
    """(finished, result) of ``coro`` by ``deadline``; an unfinished call runs on, as the remote
    one would after the bridge gave up."""
    task = asyncio.ensure_future(coro)
    try:
        return True, await asyncio.wait_for(asyncio.shield(task), max(0.0, deadline - time.monotonic()))
    except asyncio.TimeoutError:
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return False, None
