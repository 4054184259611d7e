"""CoCalc's user queries (v1 ``query``, conat ``db.userQuery``, v2 ``user-query``): one engine.

A query names one table. A value of ``null`` anywhere makes it a *get* (the nulls are the fields
wanted, other values filter); no nulls makes it a *set*. ``{table: {...}}`` is one row,
``{table: [{...}]}`` all matching rows. Texts of errors are CoCalc's
(``database/postgres-user-queries``); each caller wraps them in its own envelope.

Tables: ``projects`` (last 21 days, newest first, at most 100), ``projects_all`` (no window, no
limit), ``accounts`` (the caller's own row), ``public_paths`` and ``site_settings`` (admins).
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import logging
from typing import Any

from .store import now_ms
from .userquery_schema import (
    ACCOUNT_COLUMNS,
    ACCOUNT_DEFAULTS,
    ACCOUNT_GET_FIELDS,
    ACCOUNT_JSON_FIELDS,
    ACCOUNT_SET_FIELDS,
    DEFAULT_LIMIT,
    PROJECT_GET_FIELDS,
    PROJECT_SET_FIELDS,
    PUBLIC_PATH_FIELDS,
    RECENT_DAYS,
    UserQueryError,
    _has_null_leaf,
    _pg_uuid,
    iso,
    parse_time,
)

log = logging.getLogger("cocalc_magic.server")


# ---------------------------------------------------------------------------- entry point
def user_query(ctx, account_id: str | None, query: Any, options: Any = None) -> dict:
    """Run one user query for ``account_id`` (None: anonymous); returns the result object.

    Gets answer ``{table: row}`` or ``{table: [rows]}`` (a one-row get that matches nothing
    answers ``{}``, as CoCalc's ``{table: undefined}`` serialises); sets answer ``{}``.
    """
    if query is None:
        raise UserQueryError("Cannot read properties of undefined (reading 'undefined')", type_error=True)
    if not isinstance(query, dict):
        # CoCalc runs each element of an array query in turn; we support the common one-table form.
        if isinstance(query, list):
            out: list = [user_query(ctx, account_id, q, options) for q in query]
            return out  # type: ignore[return-value]
        raise UserQueryError("FATAL: invalid user_query of 'undefined' -- query must be an object")
    keys = list(query)
    if len(keys) > 1:
        raise UserQueryError("FATAL: must specify exactly one key in the query")
    table = keys[0] if keys else "undefined"
    body = query.get(table) if keys else None
    if options is None:
        options = []
    if not isinstance(options, list):
        raise UserQueryError(f"FATAL: options (={json.dumps(options, separators=(',', ':'))}) must be an array")
    is_set = None
    for opt in options:
        if isinstance(opt, dict) and "set" in opt:
            is_set = bool(opt["set"])
    multi = False
    if isinstance(body, list):
        if len(body) > 1:
            raise UserQueryError("FATAL: array of length > 1 not yet implemented")
        multi = True
        body = body[0] if body else {}
    if not isinstance(body, dict):
        raise UserQueryError(f"FATAL: invalid user_query of '{table}' -- query must be an object")
    body = copy.deepcopy(body)
    if is_set is None:
        is_set = not _has_null_leaf(body)
    caller = _Caller(ctx, account_id)
    if is_set:
        if caller.anonymous:
            raise UserQueryError("FATAL: no anonymous set queries")
        handler = _SETTERS.get(table)
        if handler is None:
            raise UserQueryError(f"FATAL: user set queries not allowed for table '{table}'")
        handler(caller, body)
        return {}
    getter = _GETTERS.get(table)
    if getter is None:
        raise UserQueryError(f"FATAL: get queries not allowed for table '{table}'")
    if caller.anonymous:
        raise UserQueryError(f"FATAL: anonymous get queries not allowed for table '{table}'")
    rows = getter(caller, table, body, multi)
    if multi:
        return {table: rows}
    return {table: rows[0]} if rows else {}


class _Caller:
    """Who asks: an account, a project (a project key), or nobody."""

    def __init__(self, ctx, account_id: str | None):
        self.ctx = ctx
        self.store = ctx.store
        self.account_id = account_id if account_id else None
        self.project_id: str | None = None
        if self.account_id and not self.store.account(self.account_id) and self.store.project(self.account_id):
            self.project_id, self.account_id = self.account_id, None  # a project key acts as its project
        self.anonymous = self.account_id is None and self.project_id is None
        self.admin = bool(self.account_id) and self.store.is_admin(self.account_id)

    def can_read(self, project_id: str) -> bool:
        if self.project_id:
            return project_id == self.project_id
        return self.admin or self.store.group(project_id, self.account_id) is not None

    def can_write(self, project_id: str) -> bool:
        return self.can_read(project_id)


def _check_fields(table: str, body: dict, allowed: tuple, kind: str) -> None:
    for key in body:
        if key not in allowed:
            raise UserQueryError(f"FATAL: user {kind} query not allowed for {table}.{key}")


def _matches(row: dict, body: dict) -> bool:
    """Non-null values of a get query are equality filters on the row's values."""
    for key, want in body.items():
        if want is None or isinstance(want, dict):
            continue
        if row.get(key) != want:
            return False
    return True


def _project_rows(caller: _Caller, body: dict) -> list[dict]:
    store = caller.store
    pid = body.get("project_id")
    if pid is not None:
        _pg_uuid(pid)
        p = store.project(pid)
        return [p] if p and caller.can_read(pid) else []
    if caller.project_id:
        p = store.project(caller.project_id)
        return [p] if p else []
    return store.projects_of(caller.account_id)


def _project_value(caller: _Caller, p: dict, field: str) -> Any:
    extra = p.get("extra") or {}
    if field == "project_id":
        return p["project_id"]
    if field in ("title", "description"):
        return p[field]
    if field == "name":
        return p.get("name")
    if field == "users":
        return p["users"]
    if field == "deleted":
        return True if p["deleted"] else None
    if field == "state":
        return {"time": iso(p["state_time"]), "state": p["state"]}
    if field == "status":
        return caller.ctx.runtime.status(p["project_id"]) or None
    if field in ("last_edited", "created"):
        return iso(p[field])
    if field == "action_request":
        return p.get("action_request")
    if field == "compute_image":
        return p.get("compute_image") or "default"
    if field == "last_active":
        la = extra.get("last_active")
        return {k: iso(v) for k, v in la.items()} if la else None
    return extra.get(field)


def _get_projects(caller: _Caller, table: str, body: dict, multi: bool) -> list[dict]:
    _check_fields(table, body, PROJECT_GET_FIELDS, "get")
    rows = _project_rows(caller, body)
    if table == "projects":
        cutoff = now_ms() - RECENT_DAYS * 24 * 3600 * 1000
        rows = [p for p in rows if p["last_edited"] >= cutoff]
    rows.sort(key=lambda p: p["last_edited"], reverse=True)
    out = []
    for p in rows:
        full = {f: _project_value(caller, p, f) for f in body}
        if not _matches(full, body):
            continue
        # Fields whose value is null are left out (recorded: 'deleted' of an undeleted project).
        out.append({k: v for k, v in full.items() if v is not None})
        if table == "projects" and len(out) >= DEFAULT_LIMIT:
            # Guess kept from the recordings: options such as [{limit: 2}] do not shrink the list.
            break
    return out


def _set_projects(caller: _Caller, body: dict) -> None:
    table = "projects"
    _check_fields(table, body, PROJECT_SET_FIELDS, "set")
    pid = body.get("project_id")
    if pid is None:
        raise UserQueryError("FATAL: project_id must be specified")  # guess: the primary key is required
    _pg_uuid(pid)
    store = caller.store
    p = store.project(pid)
    if not p or not caller.can_write(pid):
        raise UserQueryError("FATAL: user must be an admin")
    cols: dict[str, Any] = {}
    extra = dict(p.get("extra") or {})
    for key, value in body.items():
        if key == "project_id":
            continue
        if key in ("title", "description"):
            cols[key] = "" if value is None else str(value)
        elif key == "name":
            cols["name"] = value
        elif key == "deleted":
            cols["deleted"] = 1 if value else 0
        elif key == "compute_image":
            cols["compute_image"] = str(value)
        elif key == "users":
            _set_project_users(caller, pid, value)
        elif key == "action_request":
            _action_request(caller, p, value)
        else:
            extra[key] = value
    if extra != (p.get("extra") or {}):
        cols["extra"] = extra
    if cols:
        store.update_project(pid, **cols)  # last_edited moves only when the project is used (touch)


def _set_project_users(caller: _Caller, project_id: str, users: Any) -> None:
    """A user may change their own ``hide`` and ``upgrades`` only (CoCalc's users set hook)."""
    if not isinstance(users, dict):
        raise UserQueryError("FATAL: users must be a map")
    for acct, entry in users.items():
        if acct != caller.account_id and not caller.admin:
            raise UserQueryError("FATAL: users set queries may only change the user's own entry")
        if not isinstance(entry, dict):
            raise UserQueryError("FATAL: each entry of users must be a map")
        for k in entry:
            if k not in ("hide", "upgrades"):
                raise UserQueryError(f"FATAL: unknown field users.{k}")
        if caller.store.group(project_id, acct) is None:
            raise UserQueryError(f"FATAL: user {acct} is not on project {project_id}")
        if "hide" in entry:
            caller.store.execute(
                "UPDATE project_users SET hide=? WHERE project_id=? AND account_id=?",
                (1 if entry["hide"] else 0, project_id, acct),
            )
        if "upgrades" in entry:
            caller.store.execute(
                "UPDATE project_users SET upgrades=? WHERE project_id=? AND account_id=?",
                (json.dumps(entry["upgrades"]) if entry["upgrades"] is not None else None, project_id, acct),
            )


def _action_request(caller: _Caller, project: dict, request: Any) -> None:
    """start/stop/restart, run when ``time`` differs from the stored request's (postgres
    ``project_action``); the outcome is recorded in the row as ``started``/``finished``/``err``."""
    if not isinstance(request, dict):
        raise UserQueryError("FATAL: action_request must be a map")
    action = request.get("action")
    old = project.get("action_request") or {}
    if old.get("time") is not None and old.get("time") == request.get("time"):
        return  # same request again: nothing to do
    pid = project["project_id"]
    store, runtime = caller.store, caller.ctx.runtime
    if action == "test":
        store.update_project(pid, action_request=dict(request))
        return
    if action not in ("start", "stop", "restart"):
        raise UserQueryError(f"FATAL: action '{action}' not implemented")
    record = dict(request)
    record["started"] = iso(now_ms())
    store.update_project(pid, action_request=record)

    async def run() -> None:
        err = None
        try:
            if action == "start":
                await runtime.start(pid)
            elif action == "stop":
                await runtime.stop(pid)
            else:
                await runtime.restart(pid)
        except Exception as exc:  # noqa: BLE001 - recorded in the row, as CoCalc does
            err = str(exc)
        done = dict(record, finished=iso(now_ms()))
        if err:
            done["err"] = err
        store.update_project(pid, action_request=done)

    if action == "start":
        runtime.request_start(pid)  # the state turns "starting" before the call returns
    _schedule(caller.ctx, run())


def _schedule(ctx, coro) -> None:
    """Run ``coro`` on the server's event loop, from its thread or from another."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = ctx.caches.get("loop")
        if loop is None:
            coro.close()
            raise UserQueryError("FATAL: the server's event loop is not available") from None
        asyncio.run_coroutine_threadsafe(coro, loop)
        return
    loop.create_task(coro)


# ---------------------------------------------------------------------------- accounts
def _account_value(acct: dict, field: str) -> Any:
    if field in ("created", "last_active"):
        return iso(acct.get(field))
    if field in ACCOUNT_COLUMNS:
        return acct.get(field)
    settings = acct.get("settings") or {}
    default = ACCOUNT_DEFAULTS.get(field)
    if field in ACCOUNT_JSON_FIELDS and isinstance(default, dict):
        merged = dict(default)
        merged.update(settings.get(field) or {})
        return merged
    return settings.get(field, copy.deepcopy(default))


def _get_accounts(caller: _Caller, table: str, body: dict, multi: bool) -> list[dict]:
    _check_fields(table, body, ACCOUNT_GET_FIELDS, "get")
    if not caller.account_id:
        return []
    acct = caller.store.account(caller.account_id)
    if not acct:
        return []
    full = {f: _account_value(acct, f) for f in body}
    if not _matches(full, body):
        return []
    return [{k: v for k, v in full.items() if v is not None}]


def _set_accounts(caller: _Caller, body: dict) -> None:
    _check_fields("accounts", body, ACCOUNT_SET_FIELDS, "set")
    target = body.get("account_id", caller.account_id)
    if not caller.account_id or target != caller.account_id:
        raise UserQueryError("FATAL: account_id must be the user's own")  # guess: {account_id} is forced
    store = caller.store
    acct = store.account(caller.account_id)
    settings = dict(acct.get("settings") or {})
    cols: dict[str, Any] = {}
    for key, value in body.items():
        if key == "account_id":
            continue
        if key in ("first_name", "last_name"):
            text = "" if value is None else str(value)
            if len(text) > 254:
                raise UserQueryError(f"FATAL: {key} must be at most 254 characters")  # guess
            cols[key] = text
        elif key in ACCOUNT_JSON_FIELDS:
            if value is not None and not isinstance(value, dict):
                raise UserQueryError(f"FATAL: {key} must be a map")
            merged = dict(settings.get(key) or {})
            merged.update(value or {})  # jsonb fields are merged, as CoCalc's set does
            settings[key] = merged
        else:
            settings[key] = value
    cols["settings"] = settings
    store.update_account(caller.account_id, **cols)


# ---------------------------------------------------------------------------- public paths
def public_path_id(project_id: str, path: str) -> str:
    """CoCalc's id of a public path: sha1 of project_id + path."""
    return hashlib.sha1((project_id + path).encode("utf-8")).hexdigest()


def _normalize_path(path: str) -> str:
    return path.strip("/") if isinstance(path, str) else path


def _get_public_paths(caller: _Caller, table: str, body: dict, multi: bool) -> list[dict]:
    _check_fields(table, body, PUBLIC_PATH_FIELDS, "get")
    pid = body.get("project_id")
    if not pid:
        raise UserQueryError("FATAL: project_id must be specified")  # pg_where "project_id = $::UUID"
    _pg_uuid(pid)
    if not caller.can_read(pid):
        raise UserQueryError("FATAL: you do not have read access to this project")
    out = []
    for r in caller.store.query("SELECT * FROM public_paths WHERE project_id=? ORDER BY path", (pid,)):
        extra = json.loads(r.get("extra") or "{}") if "extra" in r else {}
        full_row = {"id": r["id"], "project_id": r["project_id"], "path": r["path"],
                    "description": r["description"], "created": iso(r["created"]),
                    "last_edited": iso(extra.get("last_edited", r["created"])),
                    "disabled": extra.get("disabled"), "unlisted": extra.get("unlisted")}
        full = {f: full_row.get(f) for f in body}
        if _matches(full, body):
            out.append({k: v for k, v in full.items() if v is not None})
    return out


def _set_public_paths(caller: _Caller, body: dict) -> None:
    _check_fields("public_paths", body, PUBLIC_PATH_FIELDS, "set")
    pid, path = body.get("project_id"), body.get("path")
    if not pid or path is None:
        raise UserQueryError("FATAL: project_id and path must be specified")  # guess
    _pg_uuid(pid)
    if not caller.store.project(pid) or not caller.can_write(pid):
        raise UserQueryError("FATAL: user must be an admin")
    set_public_path(caller.store, pid, str(path), description=body.get("description"),
                    disabled=body.get("disabled"), unlisted=body.get("unlisted"))


def set_public_path(store, project_id: str, path: str, description: str | None = None,
                    disabled: bool | None = None, unlisted: bool | None = None) -> str:
    """Create or update a public path; returns its id."""
    path = _normalize_path(path)
    ppid = public_path_id(project_id, path)
    store.execute(
        "INSERT INTO public_paths (id, project_id, path, description, created) VALUES (?,?,?,?,?)"
        " ON CONFLICT(project_id, path) DO UPDATE SET description=COALESCE(excluded.description, description)",
        (ppid, project_id, path, description if description is not None else "", now_ms()),
    )
    if description is not None:
        store.execute("UPDATE public_paths SET description=? WHERE id=?", (str(description), ppid))
    if disabled:
        # A disabled public path is no longer public; the row is what makes it so, so it goes.
        store.execute("DELETE FROM public_paths WHERE id=?", (ppid,))
    return ppid


def is_public(store, project_id: str, path: str) -> bool:
    """Whether ``path`` is public in the project: it or one of its parent directories is shared."""
    path = _normalize_path(path)
    rows = store.query("SELECT path FROM public_paths WHERE project_id=?", (project_id,))
    for r in rows:
        shared = r["path"]
        if shared == "" or path == shared or path.startswith(shared + "/"):
            return True
    return False


# ---------------------------------------------------------------------------- site settings
def _get_site_settings(caller: _Caller, table: str, body: dict, multi: bool) -> list[dict]:
    _check_fields(table, body, ("name", "value", "readonly"), "get")
    if not caller.admin:
        raise UserQueryError("FATAL: user must be an admin")
    name = body.get("name")
    if name is not None:
        rows = [{"name": name, "value": caller.store.setting(name)}]
        rows = [r for r in rows if r["value"] is not None]
    else:
        rows = caller.store.query("SELECT name, value FROM site_settings ORDER BY name")
    out = []
    for r in rows:
        full = {f: r.get(f) for f in body}
        out.append({k: v for k, v in full.items() if v is not None})
    return out


def _set_site_settings(caller: _Caller, body: dict) -> None:
    _check_fields("site_settings", body, ("name", "value"), "set")
    if not caller.admin:
        raise UserQueryError("FATAL: user must be an admin")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise UserQueryError("FATAL: name must be specified")  # guess
    value = body.get("value")
    caller.store.set_setting(name, None if value is None else str(value))


_GETTERS = {
    "projects": _get_projects,
    "projects_all": _get_projects,
    "accounts": _get_accounts,
    "public_paths": _get_public_paths,
    "site_settings": _get_site_settings,
}
_SETTERS = {
    "projects": _set_projects,
    "accounts": _set_accounts,
    "public_paths": _set_public_paths,
    "site_settings": _set_site_settings,
}

__all__ = ["user_query", "UserQueryError", "iso", "parse_time", "set_public_path", "is_public", "public_path_id"]
