"""cocalc.ai's key doctor: which of the capabilities the magics need this key has, found by calls
that change nothing, each missing one with its fix (for ``cc.whoami()`` and ``%cocalc whoami``).

cocalc.ai checks a capability before it runs the call (api-key-scope.ts), so a call that would
fail anyway tells as much as one that succeeds: a refusal names the missing capability.
"""

from __future__ import annotations

import uuid
from typing import Callable

from ..errors import (AuthenticationError, CoCalcConnectionError, CoCalcError, Moved, PermissionDenied,
                      ProtocolError)
from .backends.ai import CAPABILITIES, AiBackend
from .models import KeyCheck

FIX = "in Account → API keys, add '{cap}' to this key"
PROJECT_FIX = "in Account → API keys, add '{cap}' to this key and {project} to its allowed projects"


def _probe(call: Callable[[], object]) -> tuple[bool | None, PermissionDenied | None]:
    """(True, None) when the call passed the capability check, (False, refusal) when refused."""
    try:
        call()
    except PermissionDenied as err:
        return False, err
    except (AuthenticationError, CoCalcConnectionError, Moved, ProtocolError):
        raise  # the key or the server fails as a whole: the check itself failed
    except CoCalcError:
        return True, None  # refused for another reason (no such file...): the capability check was passed
    return True, None


def _allowed_project(b: AiBackend, rows: list[dict], most: int = 10) -> str | None:
    """A listed project the key may read (the first of ``most``), else the first listed: the key's
    allowed list is not something a key can ask for."""
    for row in rows[:most]:
        ok, _ = _probe(lambda: b.state(row["project_id"]))
        if ok:
            return row["project_id"]
    return rows[0]["project_id"] if rows else None


def diagnose(b: AiBackend, project_id: str | None) -> tuple[KeyCheck, ...]:
    """One KeyCheck per capability of ``CAPABILITIES`` (``project_id``: the project to check the
    project capabilities on; the first listed project when None)."""
    results: dict[str, tuple[bool | None, str]] = {}
    rows: list[dict] = []

    def listing() -> None:
        rows.extend(b.list_projects(False))

    ok, _ = _probe(listing)
    results["project:list"] = (ok, "" if ok else FIX.format(cap="project:list"))
    results["project:create"] = (None, "not checked: the only test is creating a project")
    ok, _ = _probe(lambda: b.get_usernames([]))
    results["account:read"] = (ok, "" if ok else FIX.format(cap="account:read"))
    pid = project_id or _allowed_project(b, rows)
    if pid is None:
        for cap in ("project:read", "project:exec", "file:read", "file:write"):
            results[cap] = (None, "not checked: no project to check on (set COCALC_PROJECT_ID or %cocalc use)")
    else:
        title = b.titles.get(pid)
        project = f"project '{title}' ({pid})" if title else f"project {pid}"
        ok, _ = _probe(lambda: b.state(pid))
        results["project:read"] = (ok, "" if ok else PROJECT_FIX.format(cap="project:read", project=project))
        ok, _ = _probe(lambda: b.bridge_up(pid))
        results["project:exec"] = (ok, "" if ok else PROJECT_FIX.format(cap="project:exec", project=project))
        # copy-path checks file:read on the source, then file:write on the target, then copies:
        # a name that does not exist makes the copy itself fail, after both checks
        missing = f".cocalc-magic-key-check-{uuid.uuid4().hex[:8]}"
        ok, err = _probe(lambda: b.copy_path(pid, missing, pid, missing + "-copy", 15))
        read_fix = PROJECT_FIX.format(cap="file:read", project=project)
        write_fix = PROJECT_FIX.format(cap="file:write", project=project)
        lacking = err.capability if err is not None else None
        if ok:
            results["file:read"] = results["file:write"] = (True, "")
        elif lacking == "file:read":
            results["file:read"], results["file:write"] = (False, read_fix), (None, "not checked: file:read is missing")
        elif lacking == "file:write":
            results["file:read"], results["file:write"] = (True, ""), (False, write_fix)
        else:
            results["file:read"], results["file:write"] = (False, read_fix), (False, write_fix)
    return tuple(KeyCheck(capability=cap, needed_for=what, ok=results[cap][0], fix=results[cap][1])
                 for cap, what in CAPABILITIES)
