"""``POST /api/conat/hub`` on cocalc.ai: eight calls for API keys, every other name refused.

cocalc-ai's ``http-api/pages/api/conat/hub.ts`` and ``server/api/http-api-key-policy.ts`` at
0cf1d9e0bd, texts as recorded (``real-ai-transcripts.md``, "hub …"): the key is checked first,
then the policy: ``system.ping`` for any key; ``system.getNames`` (account:read) and
``projects.createProject`` (project:create); five project calls that need their capability on
``args[0].project_id`` (``projects.exec`` project:exec; ``getProjectState``,
``getProjectAddress``, ``getProjectCreated``, ``getProjectRunQuota`` project:read). Anything
else, unknown names included, is ``API keys are not allowed to call hub RPC '<name>'``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ..core import access
from ..core.jsvalues import RemoteError, error, js_str, spread_args, type_error
from ..core.store import is_uuid
from ..core.userquery import iso
from . import calls, keys
from .express import ExpressHandler
from .project import system_exec

log = logging.getLogger("cocalc_magic.server.ai")

NOT_SIGNED_IN = "must be signed in and MUST provide an api key (cookies are not allowed)"

PING = "system.ping"
ACCOUNT_CAPABILITY = {"system.getNames": "account:read", "projects.createProject": "project:create"}
PROJECT_CAPABILITY = {
    "projects.exec": "project:exec",
    "projects.getProjectState": "project:read",
    "projects.getProjectAddress": "project:read",
    "projects.getProjectCreated": "project:read",
    "projects.getProjectRunQuota": "project:read",
}
MAX_GET_NAMES = 1000  # get-name.ts MAX_GET_NAMES_ACCOUNT_IDS (a guess at its value: not read)

# The run quota a local project reports: the keys of the recording, the values of a project with
# no upgrades on the recorded Launchpad (a local server enforces none of them).
RUN_QUOTA = {
    "gpu": False, "network": True, "io_class": "premium", "cpu_limit": 1, "disk_quota": 40000,
    "privileged": False, "cpu_request": 0.02, "member_host": True, "idle_timeout": 1800,
    "memory_limit": 16000, "always_running": False, "memory_request": 250, "browser_idle_timeout": 0,
    "shared_compute_priority": 4,
}


def assert_allowed(principal: keys.Principal, name: Any, args: Any) -> None:
    """``assertHttpHubApiKeyAllowed``; raises CapabilityDenied or RemoteError with its text."""
    if name == PING:
        return
    if isinstance(name, str) and name in PROJECT_CAPABILITY:
        first = args[0] if isinstance(args, list) and args else None
        pid = first.get("project_id") if isinstance(first, dict) else None
        project_id = "" if pid is None else js_str(pid).strip()
        if not project_id:
            raise RemoteError("API key project capability check requires project_id")
        principal.require_project(PROJECT_CAPABILITY[name], project_id)
        return
    if isinstance(name, str) and name in ACCOUNT_CAPABILITY:
        principal.require(ACCOUNT_CAPABILITY[name])
        return
    raise RemoteError(f"API keys are not allowed to call hub RPC '{calls.shown(name)}'")


# ----------------------------------------------------------------------------- the eight calls
def project_state(ctx, project_id: str) -> dict:
    """``{}`` for a project that never ran, else ``{time, state}`` (recorded; no ``ip``).

    A project that never ran is one still in its creation state: "opened" with the state time
    set when it was created (the store records both at creation; a start or stop moves the time).
    """
    p = ctx.store.project(project_id)
    if not p:
        return {}
    if p["state"] == "opened" and p["state_time"] == p["created"]:
        return {}
    return {"time": iso(p["state_time"]), "state": p["state"]}


def _collab(ctx, account_id: str, project_id: str) -> None:
    # assertCollabAllowRemoteProjectAccess's text is not recorded: a guess in its style
    if not is_uuid(project_id) or not access.is_collaborator(ctx, account_id, project_id):
        raise error(f"user must be a collaborator on project {project_id}")


def _opts(args: list) -> dict:
    first = args[0] if args else None
    if first is None:
        raise type_error("Cannot read properties of undefined (reading 'project_id')")
    return first if isinstance(first, dict) else {}


async def ping(ctx, account_id, args: list) -> Any:
    return {"now": int(time.time() * 1000)}


async def get_names(ctx, account_id, args: list) -> Any:
    """get-name.ts ``getNames``: ``{display_name, first_name, last_name}``; unknown ids are
    "Deleted User" (the recording shows no ``profile`` key: it is undefined for these rows)."""
    ids = args[0] if args else None
    if not isinstance(ids, list):
        raise error("account_ids must be an array")
    if len(ids) > MAX_GET_NAMES:
        raise error(f"at most {MAX_GET_NAMES} account_ids may be requested")
    wanted: list[str] = []
    for i, a in enumerate(ids):
        value = ("" if a is None else js_str(a)).strip()
        if not is_uuid(value):
            raise error(f"account_ids[{i}] must be a valid uuid")
        if value not in wanted:
            wanted.append(value)
    out: dict[str, dict] = {}
    for a in wanted:
        acct = ctx.store.account(a)
        if acct and not acct.get("deleted"):
            display = " ".join(x for x in (acct["first_name"], acct["last_name"]) if x) or "No Name"
            first, _, last = display.partition(" ")
            out[a] = {"display_name": display, "first_name": first, "last_name": last}
        else:
            out[a] = {"display_name": "Deleted User", "first_name": "Deleted", "last_name": "User"}
    return out


async def create_project(ctx, account_id, args: list) -> Any:
    """Answers the bare id (recorded). The new project is NOT added to the key's allowed list."""
    opts = args[0] if args and isinstance(args[0], dict) else {}
    title, description = opts.get("title"), opts.get("description")
    return ctx.store.create_project(
        account_id, "No Title" if title is None else js_str(title), "" if description is None else js_str(description)
    )


async def exec_(ctx, account_id, args: list, deadline: float) -> Any:
    """``projects.exec {project_id, execOpts}``: the project's ``system.exec``.

    Recorded only as "has no assigned host" (local-process projects lack one); on cocalc.ai it
    answers like the project bridge's ``system.exec`` (facts sheet), which is what we do. A
    stopped project is waited for, not started, like the project bridge (a guess).
    """
    opts = _opts(args)
    project_id = opts.get("project_id")
    _collab(ctx, account_id, project_id)
    if not await calls.wait_running(ctx, project_id, deadline):
        raise RemoteError("timeout")  # becomes the hub's 408 text
    return await system_exec(ctx, project_id, opts.get("execOpts"))


async def get_state(ctx, account_id, args: list) -> Any:
    project_id = _opts(args).get("project_id")
    _collab(ctx, account_id, project_id)
    return project_state(ctx, project_id)


async def get_address(ctx, account_id, args: list) -> Any:
    """A local project listens on no port of its own: the recorded text of a local-process
    project. (cocalc.ai answers ``{host, port, secret_token}``: a secret this server never hands out.)"""
    _collab(ctx, account_id, _opts(args).get("project_id"))
    raise error("calling remote function 'address': unable to determine project port")


async def get_created(ctx, account_id, args: list) -> Any:
    project_id = _opts(args).get("project_id")
    _collab(ctx, account_id, project_id)
    return iso(ctx.store.project(project_id)["created"])


async def get_run_quota(ctx, account_id, args: list) -> Any:
    _collab(ctx, account_id, _opts(args).get("project_id"))
    return dict(RUN_QUOTA)


TABLE = {
    "system.ping": ping,
    "system.getNames": get_names,
    "projects.createProject": create_project,
    "projects.getProjectState": get_state,
    "projects.getProjectAddress": get_address,
    "projects.getProjectCreated": get_created,
    "projects.getProjectRunQuota": get_run_quota,
}


class HubBridge(ExpressHandler):
    async def post(self) -> None:
        got = self.bridge_request(NOT_SIGNED_IN)
        if got is None:
            return
        params, principal = got
        name, args = calls.field(params, "name"), calls.field(params, "args")
        args_list = args if isinstance(args, list) else None
        try:
            assert_allowed(principal, name, args_list)
        except RemoteError as exc:  # a refusal or a missing capability
            return self.write_json({"error": exc.text})
        self.write_json(await self.call(principal.account_id, name, args, calls.field(params, "timeout")))

    async def call(self, account_id: str, name: str, args: Any, timeout: Any) -> Any:
        deadline = time.monotonic() + calls.timeout_s(timeout)
        try:
            spread = [] if args is calls.UNDEFINED else spread_args(args)
            if name == "projects.exec":
                coro = exec_(self.ctx, account_id, spread, deadline)
            else:
                coro = TABLE[name](self.ctx, account_id, spread)
            done, result = await calls.run_bounded(coro, deadline)
            if not done:
                raise RemoteError("timeout")
        except RemoteError as exc:
            code = "408" if exc.text == "timeout" else "unknown"
            return {"error": calls.hub_error(exc, account_id, name, code).text}
        except Exception as exc:  # noqa: BLE001 - a hub error is an answer, never a 500
            log.exception("ai hub call %r failed", name)
            return {"error": calls.hub_error(exc, account_id, name).text}
        return result

    get = put = patch = delete = post  # Express runs the route for any method; only POST has a body


def routes(ctx) -> list:
    return [(r"/api/conat/hub/?", HubBridge, {"ctx": ctx})]
