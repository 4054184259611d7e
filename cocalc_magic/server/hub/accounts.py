"""The hub's conat API (what ``POST /api/conat/hub`` forwards to): system.*, projects.*,
db.userQuery, org.createToken, jupyter.*.

Each function gets ``(ctx, account_id, *args)`` after CoCalc's auth transform (``authFirst``
injects the caller into ``args[0]``). Texts follow ``real-hub-transcripts.md`` §1 and CoCalc's
``server/conat/api/*`` at 5cb3315c30.
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
import secrets
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from . import access, homes
from .conat import RemoteError, error, inject_first, js_str, lookup, read_prop, spread_args, type_error
from .store import is_uuid, now_ms
from .userquery import iso

AUTH_TOKEN_TTL_S = 24 * 3600  # conat era default (auth-token.ts)
BAN_TIME_S = 30.0  # wrong password: (caller, target) blocked for 30 s
USER_SEARCH_LIMIT = 50
ADMIN_SEARCH_LIMIT = 10000  # a guess; only caps admin searches


def _int_ms(v: float | None) -> int | None:
    return None if v is None else int(v)


def _pg_uuid(value: Any) -> None:
    if not is_uuid(value):
        raise RemoteError(f'error: invalid input syntax for type uuid: "{js_str(value)}"')


def _collab(ctx, account_id: str, project_id: Any, what: str) -> None:
    """CoCalc's ``isCollaborator`` followed by ``must be collaborator on project to <what>``."""
    try:
        ok = access.is_collaborator(ctx, account_id, project_id)
    except ValueError as exc:
        raise error(str(exc)) from None
    if not ok:
        raise error(f"must be collaborator on project to {what}")


# ================================================================================ system
async def ping(ctx, account_id, *args):
    return {"now": int(time.time() * 1000)}


async def test(ctx, account_id, *args):
    return {"account_id": account_id, "server_time": int(time.time() * 1000)}


def names_of(ctx, account_ids: Any) -> dict:
    """getNames: unknown ids are "Deleted User" (recorded), malformed ids PostgreSQL's error."""
    if isinstance(account_ids, str):
        raise RemoteError(f'error: malformed array literal: "{account_ids}"')
    if not isinstance(account_ids, list):
        raise type_error("account_ids is not iterable")
    out: dict[str, dict] = {}
    for a in account_ids:
        _pg_uuid(a)
    for a in account_ids:
        acct = ctx.store.account(a)
        if acct and not acct.get("deleted"):
            out[a] = {"first_name": acct["first_name"], "last_name": acct["last_name"], "profile": None}
        else:
            out[a] = {"first_name": "Deleted", "last_name": "User"}
    return out


async def get_names(ctx, account_id, account_ids=None, *args):
    return names_of(ctx, account_ids)


def _user_row(acct: dict, admin: bool, email_search: bool) -> dict:
    row: dict[str, Any] = {
        "account_id": acct["account_id"],
        "first_name": acct["first_name"],
        "last_name": acct["last_name"],
        "name": None,
    }
    if admin or email_search:
        row["email_address"] = acct["email_address"]
    row["last_active"] = _int_ms(acct["last_active"])
    row["created"] = _int_ms(acct["created"])
    if admin:
        row["banned"] = True if acct.get("banned") else None
    row["email_address_verified"] = None
    return row


def search_users(ctx, query: Any, limit: Any = None, admin: bool = False, only_email: bool = False) -> list:
    """CoCalc's accounts/search.ts: uuid, exact email, or name terms (admins: email substrings)."""
    store = ctx.store
    try:
        limit = int(limit) if limit is not None else 20
    except (TypeError, ValueError):
        limit = 20
    limit = min(limit, ADMIN_SEARCH_LIMIT if admin else USER_SEARCH_LIMIT)
    if not isinstance(query, str) or not query.strip():
        return []
    q = query.strip()
    if is_uuid(q):
        acct = store.account(q)
        return [_user_row(acct, admin, False)] if acct else []
    if "@" in q and not q.startswith("@") and "," not in q and " " not in q:
        acct = store.account_by_email(q)
        return [_user_row(acct, admin, True)] if acct else []
    string_queries: list[list[str]] = []
    emails: list[str] = []
    for part in q.replace(";", ",").replace("\n", ",").split(","):
        part = part.strip().lower()
        if not part:
            continue
        if "@" not in part or part.startswith("@"):
            string_queries.append(part.split())
        elif admin:
            string_queries.append([part])
        else:
            emails.append(part.strip("<>"))
    results = []
    for e in emails:
        acct = store.account_by_email(e)
        if acct:
            results.append(_user_row(acct, admin, True))
    if not only_email and string_queries and limit - len(results) > 0:
        rows = store.query("SELECT account_id FROM accounts ORDER BY COALESCE(last_active, created) DESC")
        found = 0
        for r in rows:
            acct = store.account(r["account_id"])
            hay = [acct["first_name"].lower(), acct["last_name"].lower()]
            if admin:
                hay.append((acct["email_address"] or "").lower())
            if any(all(any(t in h for h in hay) for t in terms) for terms in string_queries):
                results.append(_user_row(acct, admin, False))
                found += 1
                if found >= limit - len(emails):
                    break
    results.sort(key=lambda u: -max(u["last_active"] or 0, u["created"] or 0))
    return results


async def user_search(ctx, account_id, opts=None, *args):
    opts = opts or {}
    admin = bool(opts.get("admin"))
    if admin and not ctx.store.is_admin(account_id):
        raise error("Must be an admin to do admin search.")
    return search_users(ctx, opts.get("query"), opts.get("limit"), admin, bool(opts.get("only_email")))


async def generate_user_auth_token(ctx, account_id, opts=None, *args):
    opts = opts or {}
    target = opts.get("user_account_id")
    password = opts.get("password") or ""
    bans = ctx.caches.setdefault("current.auth_token_bans", {})
    banned_at = bans.get((account_id, target))
    if banned_at and time.monotonic() - banned_at < BAN_TIME_S:
        # CoCalc's template bug, kept: the text is literally "#{BAN_TIME_MS/1000}s"
        raise error("banned -- please wait at least #{BAN_TIME_MS/1000}s before trying again")
    if target is not None:
        _pg_uuid(target)
    is_admin = ctx.store.is_admin(account_id)
    if not is_admin:
        ok = bool(target) and bool(password) and ctx.store.account(target) is not None and \
            ctx.store.check_password(target, js_str(password))
        if not ok:
            bans[(account_id, target)] = time.monotonic()
            raise error("incorrect password")
    return ctx.store.create_auth_token(target, account_id, AUTH_TOKEN_TTL_S, is_admin=is_admin)


async def revoke_user_auth_token(ctx, account_id, token=None, *args):
    # recorded: no ownership check, null for unknown tokens and for the wrong arg shape
    if isinstance(token, str):
        ctx.store.revoke_auth_token(token)
    return None


def key_row(row: dict | None, secret: str | None = None) -> dict | None:
    """An api-keys row as CoCalc answers it (the conat hub and ``/api/v2/api-keys`` alike)."""
    if row is None:
        return None
    out = {"id": row["id"], "account_id": row["account_id"], "expire": iso(row["expire"]),
           "created": iso(row["created"]), "name": row["name"]}
    if secret is not None:
        out.update(last_active=iso(row["last_active"]), trunc=row["trunc"], secret=secret)
    else:
        out.update(trunc=row["trunc"], last_active=iso(row["last_active"]))
    return out


def _expire_ms(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000
    except ValueError:
        return None


def manage_api_keys(ctx, account_id: str, opts: dict) -> list | None:
    """CoCalc's server/api/manage.ts (shared with signin.py's /api/v2/api-keys if it wants)."""
    store = ctx.store
    if not is_uuid(account_id) or store.account(account_id) is None:
        raise error("account_id is not a valid account")
    project_id = opts.get("project_id")
    if project_id is not None:
        try:
            ok = access.is_collaborator(ctx, account_id, project_id)
        except ValueError as exc:
            raise error(str(exc)) from None
        if not ok:
            raise error("user must be collaborator on project to manage project_id api keys")
    action, key_id = opts.get("action"), opts.get("id")

    def one(kid) -> dict | None:
        if project_id:
            return store.query_one("SELECT * FROM api_keys WHERE id=? AND project_id=?", (kid, project_id))
        return store.query_one("SELECT * FROM api_keys WHERE id=? AND account_id=?", (kid, account_id))

    if action == "get":
        if not key_id:
            if project_id:
                rows = store.query("SELECT * FROM api_keys WHERE project_id=? ORDER BY created DESC", (project_id,))
            else:
                rows = store.query(
                    "SELECT * FROM api_keys WHERE account_id=? AND project_id IS NULL ORDER BY created DESC",
                    (account_id,),
                )
            return [key_row(r) for r in rows]
        return [key_row(one(key_id))]
    if action == "delete":
        if project_id:
            store.execute("DELETE FROM api_keys WHERE id=? AND project_id=?", (key_id, project_id))
        else:
            store.execute("DELETE FROM api_keys WHERE id=? AND account_id=?", (key_id, account_id))
        return None
    if action == "create":
        name = js_str(opts.get("name")) if opts.get("name") is not None else ""
        row, secret = store.create_api_key(account_id, project_id=project_id, name=name,
                                           expire=_expire_ms(opts.get("expire")))
        return [key_row(row, secret)]
    if action == "edit":
        row = one(key_id)
        if row is None:
            raise error(f"no api key with id {js_str(key_id)}")
        name = js_str(opts["name"]) if opts.get("name") is not None else row["name"]
        expire = _expire_ms(opts["expire"]) if "expire" in opts else row["expire"]
        store.execute("UPDATE api_keys SET name=?, expire=? WHERE id=?", (name, expire, row["id"]))
        return None
    return None


async def manage_api_keys_fn(ctx, account_id, opts=None, *args):
    return manage_api_keys(ctx, account_id, opts or {})


async def get_customize(ctx, account_id, fields=None, *args):
    from . import v2

    return v2.customize(ctx, fields)


# ================================================================================ projects
def _title(value: Any) -> str:
    return "No Title" if value is None else js_str(value)


async def create_project(ctx, account_id, opts=None, *args):
    opts = opts or {}
    description = opts.get("description")
    project_id = ctx.store.create_project(
        account_id, _title(opts.get("title")), "" if description is None else js_str(description)
    )
    if opts.get("start"):
        ctx.runtime.request_start(project_id)
    return project_id


def _copy_tree(src: Path, dst: Path, overwrite_newer: bool, delete_missing: bool, exclude: list) -> None:
    """rsync-like: a directory's contents land in the target directory; files overwrite
    (unless the target is newer and ``overwrite_newer`` is false... rsync's default overwrites;
    CoCalc passes --update only when overwrite_newer is false, so newer targets are kept)."""

    def skip(name: str) -> bool:
        return any(fnmatch.fnmatch(name, pat) for pat in exclude)

    def copy_file(s: Path, d: Path) -> None:
        if d.exists() and not overwrite_newer and d.stat().st_mtime > s.stat().st_mtime:
            return
        d.parent.mkdir(parents=True, exist_ok=True)
        if d.is_dir() and not d.is_symlink():
            shutil.rmtree(d)
        shutil.copy2(s, d, follow_symlinks=False)

    if not src.is_dir():
        copy_file(src, dst)
        return
    dst.mkdir(parents=True, exist_ok=True)
    names = [n for n in os.listdir(src) if not skip(n)]
    for n in names:
        s, d = src / n, dst / n
        if s.is_dir() and not s.is_symlink():
            if d.exists() and not d.is_dir():
                d.unlink()
            _copy_tree(s, d, overwrite_newer, delete_missing, exclude)
        else:
            copy_file(s, d)
    if delete_missing:
        for n in os.listdir(dst):
            if n not in names and not skip(n):
                p = dst / n
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()


async def copy_path_between_projects(ctx, account_id, opts=None, *args):
    opts = opts or {}
    src_id, target_id = opts.get("src_project_id"), opts.get("target_project_id")
    try:
        if not access.is_collaborator(ctx, account_id, src_id):
            raise error("user must be collaborator on source project")
        if target_id and target_id != src_id and not access.is_collaborator(ctx, account_id, target_id):
            raise error("user must be collaborator on target project")
    except ValueError as exc:
        raise error(str(exc)) from None
    src_path = opts.get("src_path")
    if src_path in (None, ""):
        raise error("path must be specified")
    src_path = js_str(src_path)
    target_path = opts.get("target_path")
    target_path = src_path if target_path is None else js_str(target_path)
    target_id = target_id or src_id
    src_home, dst_home = ctx.store.home(src_id), ctx.store.home(target_id)
    dst_home.mkdir(parents=True, exist_ok=True)
    try:
        src = homes.resolve(src_home, src_path)
        dst = homes.resolve(dst_home, target_path)
    except homes.PathOutsideHome as exc:
        raise error(str(exc)) from None
    if not os.path.lexists(src):
        raise error(f"ENOENT: no such file or directory, stat '{homes.display_path(src_home, src_path)}'")
    exclude = [js_str(x) for x in opts.get("exclude") or []] if isinstance(opts.get("exclude"), list) else []
    await asyncio.to_thread(
        _copy_tree, src, dst, bool(opts.get("overwrite_newer")), bool(opts.get("delete_missing")), exclude
    )
    ctx.store.execute(
        "INSERT INTO copy_paths (id, time, source_project_id, source_path, target_project_id, target_path,"
        " overwrite_newer, delete_missing, backup, started, finished) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (secrets.token_hex(16), now_ms(), src_id, src_path, target_id, target_path,
         int(bool(opts.get("overwrite_newer"))), int(bool(opts.get("delete_missing"))),
         int(bool(opts.get("backup"))), now_ms(), now_ms()),
    )
    delay = opts.get("debug_delay_ms")  # CoCalc's own test hook (used by the recordings)
    if isinstance(delay, (int, float)) and delay > 0:
        await asyncio.sleep(min(float(delay), 600_000) / 1000)
    return None


def add_collaborators(ctx, caller: str, accounts: list, projects: list, v2: bool = False) -> None:
    """CoCalc's add_collaborators_to_projects (collab.ts), without invite tokens; the conat
    ``addCollaborator`` first runs ensureCanManageCollaborators on each project (``v2=False``)."""
    store = ctx.store
    for pid in projects if not v2 else ():
        if not is_uuid(pid):
            raise error(f"Invalid project_id: {js_str(pid)}")
        if not is_uuid(caller):
            raise error(f"Invalid account_id: {js_str(caller)}")
        if store.project(pid) is None:
            raise RemoteError("OwnershipError: Project not found")
    for pid in [q for i, q in enumerate(projects) if q not in projects[:i]]:
        if not is_uuid(pid):
            _pg_uuid(pid)
        if not access.is_collaborator(ctx, caller, pid):
            if len(accounts) == 1 and accounts[0] == caller:
                if store.project(pid) is None:
                    raise error(f'no project with id "{pid}"')
                raise error(f'cannot add self to "{pid}" -- must be an admin')
            raise error(f"user {caller} does not have write access to project {pid}")
    if len(accounts) != len(projects):
        raise error(
            f"accounts (of length {len(accounts)}) and projects (of length {len(projects)}) must be "
            "arrays of the same length"
        )
    for a in accounts:
        if not is_uuid(a):
            raise error(f"all account id's must be valid uuid's, but \"{js_str(a)}\" is not")
    for pid, a in zip(projects, accounts):
        # recorded: an account id with no account is accepted and stored
        store.add_user(pid, a, "collaborator")


async def add_collaborator(ctx, account_id, arg=None, *args):
    opts = read_prop(arg, "opts")
    if opts is None:
        raise type_error("Cannot read properties of undefined (reading 'project_id')")
    projects, accounts = opts.get("project_id"), opts.get("account_id")
    if opts.get("token_id") is not None:
        raise error("Project invite token is not valid - invite tokens are not supported by this server")
    projects = projects if isinstance(projects, list) else [projects]
    accounts = accounts if isinstance(accounts, list) else [accounts]
    add_collaborators(ctx, account_id, accounts, projects)
    return {"project_id": projects}


def ensure_can_remove(ctx, project_id: Any, target: Any, prefix_ownership: bool = True) -> None:
    if not is_uuid(project_id):
        raise error(f"Invalid project_id: {js_str(project_id)}")
    if not is_uuid(target):
        raise error(f"Invalid account_id: {js_str(target)}")
    if ctx.store.project(project_id) is None:
        raise error(f"Project not found: {project_id}")
    if ctx.store.group(project_id, target) == "owner":
        msg = "Cannot remove an owner. Demote to collaborator first."
        raise RemoteError(f"OwnershipError: {msg}" if prefix_ownership else msg)


async def remove_collaborator(ctx, account_id, arg=None, *args):
    opts = read_prop(arg, "opts")
    if opts is None:
        raise type_error("Cannot read properties of undefined (reading 'project_id')")
    project_id, target = opts.get("project_id"), opts.get("account_id")
    try:
        if not access.is_collaborator(ctx, account_id, project_id):
            raise error("user must be a collaborator")
    except ValueError as exc:
        raise error(str(exc)) from None
    ensure_can_remove(ctx, project_id, target)
    ctx.store.remove_user(project_id, target)
    return None


async def start(ctx, account_id, opts=None, *args):
    pid = (opts or {}).get("project_id")
    _collab(ctx, account_id, pid, "start it")
    await ctx.runtime.start(pid)
    return None


async def stop(ctx, account_id, opts=None, *args):
    pid = (opts or {}).get("project_id")
    _collab(ctx, account_id, pid, "stop it")
    await ctx.runtime.stop(pid)
    return None


async def touch(ctx, account_id, opts=None, *args):
    pid = (opts or {}).get("project_id")
    _collab(ctx, account_id, pid, "touch it")
    ctx.store.touch_project(pid)
    await ctx.runtime.start(pid)  # recorded: touch starts a stopped project
    return None


def state_of(ctx, project_id: str) -> dict:
    st = ctx.runtime.state(project_id)
    if not st:
        return {}
    return {"ip": st["ip"], "state": st["state"], "time": iso(st["time"])}


async def state(ctx, account_id, opts=None, *args):
    pid = (opts or {}).get("project_id")
    _collab(ctx, account_id, pid, "get state")
    return state_of(ctx, pid)


async def status(ctx, account_id, opts=None, *args):
    pid = (opts or {}).get("project_id")
    _collab(ctx, account_id, pid, "get status")
    return ctx.runtime.status(pid)


async def delete_project(ctx, account_id: str, project_id: Any) -> None:
    """CoCalc's server/projects/delete.ts: owners, collaborators and admins; stops it first."""
    if not is_uuid(project_id):
        raise error("project_id must be a valid UUID")
    if not account_id:
        raise error("must be signed in")
    if not ctx.store.is_admin(account_id) and not access.is_collaborator(ctx, account_id, project_id):
        raise error("must be an owner to delete a project")
    if ctx.store.project(project_id) is None:
        raise RemoteError(f"FATAL: unknown project_id '{project_id}'")
    await ctx.runtime.stop(project_id)
    ctx.store.update_project(project_id, deleted=1)


async def delete_project_fn(ctx, account_id, opts=None, *args):
    await delete_project(ctx, account_id, (opts or {}).get("project_id"))
    return None


# ================================================================================ db
async def user_query(ctx, account_id, opts=None, *args):
    query = (opts or {}).get("query")
    if query is None:
        raise type_error("Cannot read properties of undefined (reading 'undefined')")
    from . import userquery

    # recorded (hub-db-userQuery-projects-list-limit): the hub ignored options, so do we
    try:
        return userquery.user_query(ctx, account_id, query, None)
    except userquery.UserQueryError as exc:  # CoCalc's text; TypeErrors get their prefix here
        raise RemoteError(("TypeError: " if exc.type_error else "") + exc.text) from None


# ================================================================================ org
async def org_create_token(ctx, account_id, opts=None, *args):
    """Admins only here (CoCalc also lets org admins); ``user`` is an account id or email."""
    opts = opts or {}
    if not ctx.store.is_admin(account_id):
        raise error("must be an admin")
    user = opts.get("user")
    acct = ctx.store.account(user) if is_uuid(user) else ctx.store.account_by_email(js_str(user))
    if acct is None:
        raise error(f"no such user '{js_str(user)}'")
    ttl = AUTH_TOKEN_TTL_S
    if isinstance(opts.get("expire"), (int, float)):
        ttl = max(1.0, (float(opts["expire"]) - now_ms()) / 1000)
    token = ctx.store.create_auth_token(acct["account_id"], account_id, ttl, is_admin=True)
    return {"token": token, "url": f"{ctx.base_url}/auth/impersonate?auth_token={token}"}


# ================================================================================ jupyter
async def jupyter_kernels(ctx, account_id, opts=None, *args):
    from .jupyter_exec import kernel_specs

    pid = (opts or {}).get("project_id")
    if pid is not None:
        _collab(ctx, account_id, pid, "get kernels")
    return kernel_specs()


async def jupyter_execute_hub(ctx, account_id, opts=None, *args):
    from .jupyter_exec import jupyter_execute

    opts = opts or {}
    pid = opts.get("project_id")
    if pid is None:
        raise error("project_id must be given: this server has no pool of anonymous projects")
    _collab(ctx, account_id, pid, "execute code")
    await ctx.runtime.ensure_running(pid)
    output = await jupyter_execute(ctx, pid, opts)
    return {"output": output, "created": iso(now_ms())}


# ================================================================================ table
NO_AUTH, AUTH_FIRST, REQUIRE_ACCOUNT = "noAuth", "authFirst", "requireAccount"

TABLE = {
    "system": {
        "ping": (NO_AUTH, ping),
        "test": (AUTH_FIRST, test),
        "getNames": (REQUIRE_ACCOUNT, get_names),
        "userSearch": (AUTH_FIRST, user_search),
        "generateUserAuthToken": (AUTH_FIRST, generate_user_auth_token),
        "revokeUserAuthToken": (NO_AUTH, revoke_user_auth_token),
        "manageApiKeys": (AUTH_FIRST, manage_api_keys_fn),
        "getCustomize": (NO_AUTH, get_customize),
    },
    "projects": {
        "createProject": (AUTH_FIRST, create_project),
        "copyPathBetweenProjects": (AUTH_FIRST, copy_path_between_projects),
        "addCollaborator": (AUTH_FIRST, add_collaborator),
        "removeCollaborator": (AUTH_FIRST, remove_collaborator),
        "start": (AUTH_FIRST, start),
        "stop": (AUTH_FIRST, stop),
        "touch": (AUTH_FIRST, touch),
        "state": (AUTH_FIRST, state),
        "status": (AUTH_FIRST, status),
        "deleteProject": (AUTH_FIRST, delete_project_fn),
    },
    "db": {"userQuery": (AUTH_FIRST, user_query)},
    "org": {"createToken": (AUTH_FIRST, org_create_token)},
    "jupyter": {"kernels": (AUTH_FIRST, jupyter_kernels), "execute": (AUTH_FIRST, jupyter_execute_hub)},
}


async def call(ctx, account_id: str, name: Any, args: Any) -> Any:
    """Dispatch like CoCalc's hub: lookup, auth transform, ``f(...args)``."""
    mode, f = lookup(TABLE, name)
    args = spread_args(args)  # a non-list raises the spread TypeError, as f(...args) would
    if mode == AUTH_FIRST:
        args = inject_first(args, "account_id", account_id)
    return await f(ctx, account_id, *args)
