"""The ``/api/v2`` endpoints a notebook client needs, in the shapes of the era the server plays.

CoCalc's Next.js routes (``next/pages/api/v2/*.ts`` at 5cb3315c30; texts from the recordings,
``real-hub-transcripts.md`` §3). Errors are HTTP 200 ``{"error": err.message}`` (so without the
``Error: `` prefix the conat bridges show). Auth is the ``remember_me`` cookie, else an API key
(Basic or Bearer); anything invalid simply means "not signed in". A project key acts as an
"account" whose id is its project id (``getAccountId``), which is why it sees no projects in
``projects/get`` but may exec in its own project.

Which endpoints exist depends on the generation (``routes``): ``--api current`` serves all of
them; ``--api v1`` plays a self-hosted CoCalc of 2024-03 (V1-FULL, a50170846e, 2024-03-13, the
snapshot the v1 recordings match) and serves only the routes whose files existed then. Dated
with ``git log --diff-filter=A`` on ``src/packages/next/pages/api/v2/``:
  projects/create, projects/start 2021-11-07; user-query 2021-10-18; accounts/profile
  2021-10-14; accounts/search 2021-12-29; customize 2022-02-18; projects/get, projects/get-one
  2022-04-08; projects/write-text-file 2022-04-09; projects/call 2022-04-10; projects/stop
  2022-07-06; projects/touch 2023-04-25  -> served by --api v1.
  exec 2024-06-21; projects/update 2024-07-29; projects/collaborators/add 2024-08-08, remove
  2024-08-11, list 2024-08-18; projects/delete 2024-09-02; accounts/get-names 2024-09-12
  -> not served by --api v1 (404, as that server would).
The 2024-03 files also differ in a few answers, reproduced for ``--api v1``: ``projects/get``
said "must be authenticated" and had no admin ``account_id``; ``projects/start``/``stop``
answered ``{}``; and a GET ran the handler with empty params (405 came with next-rest-framework
in mid-2024; dev-only GET support ended 2024-06-11).
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from .. import hub
from .. import project as project_api
from ..core import access, homes
from ..core.customize import customize
from ..core.jsvalues import RemoteError, js_str
from ..core.store import is_uuid, now_ms
from ..core.userquery import iso
from . import messages as v2_messages
from .base import NextApiHandler

log = logging.getLogger("cocalc_magic.server")

OK = {"status": "ok"}
# LIMIT is a PostgreSQL bigint; a larger number (2**63, 1e400 = Infinity in JavaScript) is taken as
# "all of them" (a guess: PostgreSQL would refuse it with "bigint out of range")
BIGINT_MAX = 2 ** 63 - 1
_PREFIX = re.compile(r"^(Error|TypeError|OwnershipError|error)( \[[A-Z_]+\])?: ")


class V2Error(Exception):
    """``throw Error(msg)`` in a v2 handler: the reply is ``{"error": msg}``."""


def message(exc: RemoteError) -> str:
    """``err.message`` of what the conat layer would show as ``String(err)``."""
    return _PREFIX.sub("", exc.text, count=1)


class V2Handler(NextApiHandler):
    """POST only (current era); auth by cookie or key; ``{"error"}`` on failure."""

    era_v1 = False

    def initialize(self, ctx, fn) -> None:
        super().initialize(ctx)
        self.fn = fn
        self.era_v1 = ctx.api == "v1"

    async def post(self) -> None:
        params = self.params_or_reply()
        if params is None:
            return
        await self.run(params)

    async def get(self) -> None:
        if not self.era_v1:
            self.write_json({"message": "Method not allowed."}, status=405)
            return
        await self.run({})

    async def run(self, params: dict) -> None:
        try:
            result = await self.fn(self, params)
        except V2Error as exc:
            result = {"error": str(exc)}
        except RemoteError as exc:
            result = {"error": message(exc)}
        except Exception as exc:  # noqa: BLE001 - each route's try/catch: res.json({error: err.message})
            log.warning("/api/v2 %s failed: %s: %s", self.request.path, type(exc).__name__, exc)
            log.debug("/api/v2 %s failed", self.request.path, exc_info=True)
            result = {"error": str(exc)}
        self.write_json(result)

    put = patch = delete = get


def _uid(h: V2Handler) -> str | None:
    c = h.caller()
    return c.id if c else None


def _need_account(h: V2Handler, text: str) -> str:
    """The caller as an account; a project key counts as not signed in here (a guess: CoCalc
    would go on with the project id as an account id and e.g. create a project owned by it)."""
    c = h.caller()
    if not c or not c.account_id:
        raise V2Error(text)
    return c.account_id


def _project_rows(ctx, account_id: str, limit: Any = 50) -> list[dict]:
    """server/projects/get.ts: not deleted, not hidden, newest ``last_edited`` first."""
    try:
        limit = int(min(float(limit), BIGINT_MAX)) if limit is not None else 50
    except (TypeError, ValueError):  # nan, or not a number
        limit = 50
    if limit <= 0:
        return []
    rows = ctx.store.query(
        "SELECT p.project_id, p.title, p.description, p.name FROM projects p JOIN project_users u"
        " ON p.project_id=u.project_id WHERE u.account_id=? AND p.deleted=0 AND u.hide=0"
        " ORDER BY p.last_edited DESC LIMIT ?",
        (account_id, limit),
    )
    return [{"project_id": r["project_id"], "title": r["title"], "description": r["description"], "name": r["name"]}
            for r in rows]


# ======================================================================== projects
async def projects_get(h: V2Handler, p: dict):
    who = _uid(h)
    if h.era_v1:
        if who is None:
            raise V2Error("must be authenticated")
        return _project_rows(h.ctx, who, p.get("limit"))
    if who is None:
        raise V2Error("Must be signed in.")
    target = p.get("account_id")
    if target and not h.store.is_admin(who):
        raise V2Error("The `account_id` field may only be specified by account administrators.")
    target = target or who
    if not is_uuid(target):
        raise V2Error("account_id must be a UUIDv4")
    return _project_rows(h.ctx, target, p.get("limit"))


async def projects_get_one(h: V2Handler, p: dict):
    account_id = _need_account(h, "getOneProject -- user must be authenticated")
    rows = _project_rows(h.ctx, account_id, 1)
    if rows:
        return rows[0]
    title = "Untitled Project"
    return {"project_id": h.store.create_project(account_id, title), "title": title}


async def projects_create(h: V2Handler, p: dict):
    account_id = _need_account(h, "user must be signed in")
    title, description = p.get("title"), p.get("description")
    project_id = h.store.create_project(
        account_id, "No Title" if title is None else js_str(title), "" if description is None else js_str(description)
    )
    return {"project_id": project_id}


def _collab_or(h: V2Handler, p: dict, denied: str) -> str:
    project_id = p.get("project_id")
    if not is_uuid(project_id):
        raise V2Error("project_id must be a valid uuid")
    who = _uid(h)
    if not who:
        raise V2Error("must be signed in")
    if not access.is_collaborator(h.ctx, who, project_id):
        raise V2Error(denied)
    return project_id


async def projects_start(h: V2Handler, p: dict):
    project_id = _collab_or(h, p, "must be a collaborator to start project")
    await h.runtime.start(project_id)
    return {} if h.era_v1 else OK


async def projects_stop(h: V2Handler, p: dict):
    project_id = _collab_or(h, p, "must be a collaborator to stop project")
    await h.runtime.stop(project_id)
    return {} if h.era_v1 else OK


async def projects_touch(h: V2Handler, p: dict):
    # recorded: the denial text says "stop" (a copy-paste in CoCalc)
    project_id = _collab_or(h, p, "must be a collaborator to stop project")
    h.store.touch_project(project_id)
    await h.runtime.start(project_id)
    return {}


async def projects_update(h: V2Handler, p: dict):
    from ..core import userquery

    who = _uid(h)
    if who is None:
        raise V2Error("Must be signed in to update project.")
    acting = p.get("account_id")
    if acting and not h.store.is_admin(who):
        raise V2Error("The `account_id` field may only be specified by account administrators.")
    if acting and not is_uuid(acting):
        raise V2Error("account_id must be a UUIDv4")  # as projects/get says it
    body = {"project_id": p.get("project_id")}
    for field in ("name", "title", "description"):
        if p.get(field):
            body[field] = p[field]
    try:
        userquery.user_query(h.ctx, acting or who, {"projects": body})
    except userquery.UserQueryError as exc:
        raise V2Error(exc.text) from None
    return OK


async def projects_delete(h: V2Handler, p: dict):
    who = _uid(h)
    if not who:
        raise V2Error("must be signed in")
    await hub.delete_project(h.ctx, who, p.get("project_id"))
    return OK


def _call_project_checks(h: V2Handler, project_id: Any) -> str:
    """server/projects/call.ts: the checks of ``callProject``."""
    who = _uid(h)
    if not is_uuid(who):
        raise V2Error("callProject -- user must be authenticated (no account_id specified)")
    if not is_uuid(project_id):
        raise V2Error("callProject -- must specify project_id")
    if not access.is_collaborator(h.ctx, who, project_id):
        raise V2Error("callProject -- authenticated user must be a collaborator on the project")
    return who


async def projects_write_text_file(h: V2Handler, p: dict):
    if _uid(h) is None:
        raise V2Error("must be authenticated")
    project_id, path, content = p.get("project_id"), p.get("path"), p.get("content")
    if not is_uuid(project_id):
        raise V2Error("must set project_id to a valid uuid")
    if not path:
        raise V2Error("must specify a 'path'")
    if content is None:
        raise V2Error("must include content of file")
    _call_project_checks(h, project_id)
    await h.runtime.ensure_running(project_id)
    await project_api.write_text_file(h.ctx, project_id, {"path": path, "content": js_str(content)})
    return OK


async def projects_call(h: V2Handler, p: dict):
    """A legacy project message (read/write text file, exec, ping), answered as the project did."""
    project_id, mesg = p.get("project_id"), p.get("mesg")
    _call_project_checks(h, project_id)
    await h.runtime.ensure_running(project_id)
    mesg = mesg if isinstance(mesg, dict) else {}
    mid = mesg.get("id") or str(uuid.uuid4())
    event = mesg.get("event")
    home = h.store.home(project_id)
    try:
        if event == "read_text_file_from_project":
            # the legacy project read: 10 MB limit and the stat-ENOENT wording (homes.read_text)
            content = homes.read_text(home, js_str(mesg.get("path")))
            return {"event": "text_file_read_from_project", "id": mid, "content": content}
        if event == "write_text_file_to_project":
            await project_api.write_text_file(h.ctx, project_id, {"path": mesg.get("path"), "content": mesg.get("content")})
            return {"event": "file_written_to_project", "id": mid}
        if event == "project_exec":
            out = await project_api.exec_code(h.ctx, project_id, mesg)
            return {"event": "project_exec_output", "id": mid, **{k: out[k] for k in ("stdout", "stderr", "exit_code")},
                    "type": out.get("type", "blocking")}
        if event == "ping":
            return {"event": "pong", "id": mid, "now": iso(now_ms())}
    except (OSError, ValueError) as exc:
        raise V2Error(str(exc)) from None
    raise V2Error(f"unknown event '{js_str(event)}'")


# ======================================================================== exec
_EXEC_ORDER = ("stdout", "stderr", "exit_code", "type", "job_id", "start", "status", "elapsed_s", "pid", "stats")


async def exec_(h: V2Handler, p: dict):
    """v2 exec: the project's exec reply with ``event``/``id`` dropped and v2's key order; errors
    as "Error executing command '<command>' with args '<args>' -- <error>". Recorded: the project
    is NOT inferred from a project key here (unlike the conat bridge)."""
    who = _uid(h)
    if not who:
        raise V2Error("must be signed in")
    project_id = p.get("project_id")
    try:
        if not access.is_collaborator(h.ctx, who, project_id):
            raise V2Error("user must be a collaborator on the project")
    except ValueError as exc:
        raise V2Error(str(exc)) from None
    _call_project_checks(h, project_id)
    await h.runtime.ensure_running(project_id)
    opts = {k: p.get(k) for k in ("path", "command", "args", "timeout", "max_output", "bash", "aggregate",
                                  "err_on_exit", "env", "async_call", "async_get", "async_stats", "async_await")
            if p.get(k) is not None}
    try:
        out = await project_api.exec_code(h.ctx, project_id, opts)
    except RemoteError as exc:
        args = p.get("args")
        raise V2Error(
            f"Error executing command '{js_str(p.get('command'))}' with args '{js_str(args)}' -- {exc.text}"
        ) from None
    return {k: out[k] for k in _EXEC_ORDER if k in out}


# ======================================================================== user-query
async def user_query(h: V2Handler, p: dict):
    from ..core import userquery

    try:
        return {"query": userquery.user_query(h.ctx, _uid(h), p.get("query"))}
    except userquery.UserQueryError as exc:
        raise V2Error(exc.text) from None


# ======================================================================== collaborators
async def collaborators_list(h: V2Handler, p: dict):
    who = _uid(h)
    if not who:
        raise V2Error("must be signed in")
    project_id = p.get("project_id")
    if not is_uuid(project_id):
        raise V2Error("project_id must be a uuid")
    users = h.store.users(project_id)
    if not h.store.is_admin(who) and who not in users:
        return []
    out = []
    for account_id in users:
        acct = h.store.account(account_id)
        if acct:  # ids with no account (addCollaborator accepts them) are not listed
            out.append({"account_id": account_id, "first_name": acct["first_name"], "last_name": acct["last_name"]})
    return out


async def collaborators_add(h: V2Handler, p: dict):
    who = _uid(h)
    if not who:
        raise V2Error("must be signed in")
    hub.add_collaborators(h.ctx, who, [p.get("account_id")], [p.get("project_id")], v2=True)
    return OK


async def collaborators_remove(h: V2Handler, p: dict):
    who = _uid(h)
    if not who:
        raise V2Error("must be signed in")
    project_id, target = p.get("project_id"), p.get("account_id")
    if not is_uuid(project_id):
        return {}  # recorded: a malformed project_id answers {} (an error without a message)
    if not access.is_collaborator(h.ctx, who, project_id):
        if target == who:
            raise V2Error(f'cannot add self to "{project_id}" -- must be an admin')
        raise V2Error(f"user {who} does not have write access to project {project_id}")
    if not is_uuid(target):
        raise V2Error(f"all account id's must be valid uuid's, but \"{js_str(target)}\" is not")
    hub.ensure_can_remove(h.ctx, project_id, target, prefix_ownership=False)
    h.store.remove_user(project_id, target)
    return OK


# ======================================================================== accounts
async def accounts_get_names(h: V2Handler, p: dict):
    # CoCalc throttles this route (3/s, 50/min, 500/h); a local server does not
    if _uid(h) is None:
        raise V2Error("must be signed in")
    return {"names": hub.names_of(h.ctx, p.get("account_ids"))}


async def accounts_profile(h: V2Handler, p: dict):
    target = p.get("account_id")
    if target is None:
        c = h.caller()
        acct = h.store.account(c.account_id) if c and c.account_id else None
        if acct is None:
            return {"profile": {}}
        return {"profile": {
            "account_id": acct["account_id"], "first_name": acct["first_name"], "last_name": acct["last_name"],
            "name": None, "is_admin": "admin" in acct["groups"], "is_partner": "partner" in acct["groups"],
            "is_anonymous": not acct["email_address"], "email_address": acct["email_address"],
        }}
    acct = h.store.account(target) if is_uuid(target) else None
    if acct is None:
        raise V2Error(f"no account with id {js_str(target)}")
    return {"profile": {"account_id": target, "first_name": acct["first_name"] or "Anonymous",
                        "last_name": acct["last_name"] or "User", "name": None}}


async def accounts_search(h: V2Handler, p: dict):
    return hub.search_users(h.ctx, p.get("query"))


async def customize_route(h: V2Handler, p: dict):
    return customize(h.ctx, p.get("fields"))


# ======================================================================== routes
CURRENT = {
    "projects/get": projects_get,
    "projects/get-one": projects_get_one,
    "projects/create": projects_create,
    "projects/start": projects_start,
    "projects/stop": projects_stop,
    "projects/touch": projects_touch,
    "projects/update": projects_update,
    "projects/delete": projects_delete,
    "projects/write-text-file": projects_write_text_file,
    "projects/call": projects_call,
    "exec": exec_,
    "user-query": user_query,
    "projects/collaborators/list": collaborators_list,
    "projects/collaborators/add": collaborators_add,
    "projects/collaborators/remove": collaborators_remove,
    "accounts/get-names": accounts_get_names,
    "accounts/profile": accounts_profile,
    "accounts/search": accounts_search,
    "customize": customize_route,
    **v2_messages.ROUTES,
}

# The routes a self-hosted CoCalc of 2024-03 had (see the module docstring for the dates).
V1_ERA = ("projects/get", "projects/get-one", "projects/create", "projects/start", "projects/stop",
          "projects/touch", "projects/write-text-file", "projects/call", "user-query", "accounts/profile",
          "accounts/search", "customize")


def routes(ctx) -> list:
    names = V1_ERA if ctx.api == "v1" else tuple(CURRENT)
    return [(rf"/api/v2/{re.escape(n)}/?", V2Handler, {"ctx": ctx, "fn": CURRENT[n]}) for n in names]
