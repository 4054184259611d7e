"""The ``/api/v2`` routes of cocalc.ai that a notebook client uses, with their key rules.

cocalc-ai ``http-api/pages/api/v2/*`` at 0cf1d9e0bd, texts as recorded ("v2 …"). Auth is
``getAccountId`` (the ``remember_me`` cookie, else the key); with an Authorization header the
key must also be valid and belong to that account (``must be signed in with a valid account API
key``) and have the route's capability: projects/get and get-one project:list, create
project:create, start/stop/exec project:exec on the project, copy-path file:read on the source and
file:write on the target, accounts/get-names account:read. Keys may not manage keys, use
user-query or the browser bootstrap. Routes built with ``apiRoute`` (get, start, stop, exec,
user-query) answer another method with 405 ``method_not_allowed``; the others run with no params.
Errors are HTTP 200 ``{"error": err.message}``.
"""

from __future__ import annotations

import re
from typing import Any

from ..core import access, userquery
from ..hub import projects as hub_projects
from ..v2 import api as conat_v2
from ..core.jsvalues import RemoteError, js_str
from ..core.store import is_uuid
from . import calls, customize, hub, keys
from .express import ExpressHandler
from .project import forward

OK = {"status": "ok"}
WRONG_KEY = "must be signed in with a valid account API key"


class V2Error(Exception):
    """``throw Error(msg)`` in a route: the reply is ``{"error": msg}``."""


class AiV2Handler(ExpressHandler):
    post_only = False

    def initialize(self, ctx, fn, post_only: bool = False) -> None:
        super().initialize(ctx)
        self.fn, self.post_only = fn, post_only

    async def post(self) -> None:
        params = self.params_or_reply()
        if params is None:
            return
        try:
            result = await self.fn(self, params)
        except keys.ScopeError as exc:
            result = {"error": str(exc)}
        except RemoteError as exc:  # capability refusals and project errors: err.message
            result = {"error": calls.message(exc.text)}
        except V2Error as exc:
            result = {"error": str(exc)}
        self.write_json(result)

    async def get(self) -> None:
        if self.post_only:
            self.set_header("Allow", "POST")
            self.write_json({"error": "method_not_allowed"}, status=405)
            return
        await self.post()

    put = patch = delete = get

    # ------------------------------------------------------------------ auth helpers
    def keyed(self) -> bool:
        return self.request.headers.get("Authorization") is not None

    def key_principal(self, account_id: str | None) -> keys.Principal:
        """The request's key, which must be valid and belong to ``account_id``."""
        p = self.principal()
        if p is None or p.account_id != account_id:
            raise V2Error(WRONG_KEY)
        return p


# ======================================================================== projects
def _rows(ctx, account_id: str, limit: Any) -> list[dict]:
    """server/projects/get.ts as the conat generation's (not deleted, not hidden, newest first),
    with only the fields cocalc.ai returns: id, title, description (recorded)."""
    return [{k: r[k] for k in ("project_id", "title", "description")}
            for r in conat_v2._project_rows(ctx, account_id, limit)]


async def projects_get(h: AiV2Handler, p: dict):
    who = h.account_id()
    if who is None:
        raise V2Error("Must be signed in.")
    target = p.get("account_id")
    if h.keyed():
        h.key_principal(who).require("project:list")
        if target and target != who:
            raise V2Error("API keys may only list projects for their own account")
    if target and target != who and not h.store.is_admin(who):
        raise V2Error("The `account_id` field may only be specified by account administrators.")
    return _rows(h.ctx, target or who, p.get("limit"))


async def projects_get_one(h: AiV2Handler, p: dict):
    who = h.account_id()
    if h.keyed():
        principal = h.key_principal(who)
        principal.require("project:list")
        rows = _rows(h.ctx, who, 1)
        if rows:
            return rows[0]
        principal.require("project:create")
    elif who is None:
        raise V2Error("getOneProject -- user must be authenticated")  # the conat text (a guess)
    else:
        rows = _rows(h.ctx, who, 1)
        if rows:
            return rows[0]
    title = "Untitled Project"
    return {"project_id": h.store.create_project(who, title), "title": title}


async def projects_create(h: AiV2Handler, p: dict):
    who = h.account_id()
    if h.keyed():
        hub.assert_allowed(h.key_principal(who), "projects.createProject", None)
    if not who:
        raise V2Error("user must be signed in")
    title, description = p.get("title"), p.get("description")
    pid = h.store.create_project(who, "No Title" if title is None else js_str(title),
                                 "" if description is None else js_str(description))
    return {"project_id": pid}


def _scoped(h: AiV2Handler, p: dict, capability: str) -> tuple[str, Any]:
    """Signed in, then (for a key) ``capability`` on ``project_id``: (account_id, project_id)."""
    who = h.account_id()
    if not who:
        raise V2Error("must be signed in")
    project_id = p.get("project_id")
    if h.keyed():
        h.key_principal(who).require_project(capability, project_id)
    return who, project_id


def _project_call(h: AiV2Handler, p: dict) -> tuple[str, str]:
    """The checks of start, stop and exec: project:exec for a key, then collaboration."""
    who, project_id = _scoped(h, p, "project:exec")
    # startProject/stopProject/exec check collaboration themselves (text not recorded: a guess)
    if not is_uuid(project_id) or not access.is_collaborator(h.ctx, who, project_id):
        raise V2Error("must be a collaborator on the project")
    return who, project_id


async def projects_start(h: AiV2Handler, p: dict):
    """``wait: false``: answers at once; the project runs after the start delay (recorded ~2 s)."""
    _, project_id = _project_call(h, p)
    h.runtime.request_start(project_id)
    return OK


async def projects_stop(h: AiV2Handler, p: dict):
    _, project_id = _project_call(h, p)
    await h.runtime.stop(project_id)
    return OK


async def copy_path(h: AiV2Handler, p: dict):
    """copy-path.ts: the file server copies (a stopped project is fine: no project is started)."""
    if p.get("path") is None:
        return {"error": "path must be specified"}
    src, dst = p.get("src_project_id"), p.get("target_project_id")
    if not is_uuid(src):
        return {"error": "src_project_id must be a valid uuid"}
    if not is_uuid(dst):
        return {"error": "target_project_id must be a valid uuid"}
    who = h.account_id()
    if not who:
        raise V2Error("must be signed in")
    if not access.is_collaborator(h.ctx, who, dst):
        raise V2Error("must be a collaborator on target project")
    if not access.is_collaborator(h.ctx, who, src):
        raise V2Error("must be a collaborator on source project")
    if h.keyed():
        principal = h.key_principal(who)
        principal.require_project("file:read", src)
        principal.require_project("file:write", dst)
    path = js_str(p.get("path"))
    target = p.get("target_path")
    await hub_projects.copy_path_between_projects(h.ctx, who, {
        "src_project_id": src, "src_path": path, "target_project_id": dst,
        "target_path": path if target is None else js_str(target), "overwrite_newer": True,
    })
    return OK


async def exec_(h: AiV2Handler, p: dict):
    """exec.ts: the project's ``system.exec`` answer (recorded only as "no assigned host", a
    local-process artifact; cocalc.ai answers like the bridge). A stopped project is waited for
    until the exec timeout + 2 s, or the bridge default, and never started (a guess)."""
    _, project_id = _project_call(h, p)
    opts = {k: p[k] for k in ("path", "command", "args", "timeout", "max_output", "bash", "aggregate",
                              "err_on_exit", "env", "async_call", "async_get", "async_stats", "async_await")
            if p.get(k) is not None}
    t = p.get("timeout")
    wait_ms = float(t) * 1000 + 2000 if isinstance(t, (int, float)) and t > 0 else None
    out = await _forward_exec(h.ctx, project_id, opts, wait_ms)
    return out


async def _forward_exec(ctx, project_id: str, opts: dict, wait_ms: float | None) -> Any:
    out = await forward(ctx, project_id, "system.exec", [opts], wait_ms)
    if isinstance(out, dict) and set(out) == {"error"}:
        raise V2Error(calls.message(out["error"]))
    return out


async def collaborators_list(h: AiV2Handler, p: dict):
    """collaborators/list.ts: project:read for a key; only a project the caller is on (admins
    with a session: any). Not offered by the client (cocalc.ai refuses keys the add and remove)."""
    who, project_id = _scoped(h, p, "project:read")
    if not h.keyed() and h.store.is_admin(who):
        who = None
    if not is_uuid(project_id):
        raise V2Error("project_id must be a uuid")
    users = h.store.users(project_id)
    if who is not None and who not in users:
        return []
    out = []
    for account_id in users:
        acct = h.store.account(account_id)
        if acct:
            first, last = acct["first_name"] or "", acct["last_name"] or ""
            out.append({"account_id": account_id, "display_name": " ".join(x for x in (first, last) if x),
                        "first_name": first, "last_name": last})
    return out


# ======================================================================== keys, queries, names
async def api_keys(h: AiV2Handler, p: dict):
    if h.keyed():
        raise V2Error("API keys cannot manage account API keys")
    who = h.account_id()
    if not who:
        raise V2Error("must be signed in")
    if p.get("action") != "get":
        raise V2Error("legacy HTTP API key mutations are disabled")
    if p.get("id"):
        row = h.store.query_one("SELECT * FROM ai_api_keys WHERE id=? AND account_id=?", (p.get("id"), who))
        return {"response": [keys.key_row(row)]}
    return {"response": keys.list_keys(h.store, who)}


async def user_query(h: AiV2Handler, p: dict):
    if h.keyed():
        return {"error": "API keys are not allowed to use user-query"}
    try:
        return {"query": userquery.user_query(h.ctx, h.account_id(), p.get("query"))}
    except userquery.UserQueryError as exc:
        raise V2Error(exc.text) from None


async def get_names(h: AiV2Handler, p: dict):
    if h.keyed():
        principal = h.principal()
        who = None
        if principal is not None:
            principal.require("account:read")
            who = principal.account_id
    else:
        who = h.account_id()
    if who is None:
        return {"error": "must be signed in"}
    try:
        return {"names": await hub.get_names(h.ctx, who, [p.get("account_ids")])}
    except RemoteError as exc:
        raise V2Error(calls.message(exc.text)) from None


async def bootstrap(h: AiV2Handler, p: dict):
    """The browser app's start-up call; keys are refused (recorded). A browser session gets its
    account id: the real answer carries the app's bay and project window, which this server's own
    pages do not use (a simplification, written in the report)."""
    if h.keyed():
        raise V2Error("API keys are not allowed to use browser bootstrap")
    who = h.account_id()
    return {"signed_in": bool(who), "account_id": who}


async def customize_route(h: AiV2Handler, p: dict):
    return customize.v2_customize(h.store, h.ctx.base_url, p.get("fields"))


ROUTES = {
    "projects/get": (projects_get, True),
    "projects/get-one": (projects_get_one, False),
    "projects/create": (projects_create, False),
    "projects/start": (projects_start, True),
    "projects/stop": (projects_stop, True),
    "projects/copy-path": (copy_path, False),
    "projects/collaborators/list": (collaborators_list, True),
    "exec": (exec_, True),
    "api-keys": (api_keys, False),
    "user-query": (user_query, True),
    "accounts/get-names": (get_names, False),
    "auth/bootstrap": (bootstrap, False),
    "customize": (customize_route, False),
}


def routes(ctx) -> list:
    return [(rf"/api/v2/{re.escape(n)}/?", AiV2Handler, {"ctx": ctx, "fn": fn, "post_only": post_only})
            for n, (fn, post_only) in ROUTES.items()]
