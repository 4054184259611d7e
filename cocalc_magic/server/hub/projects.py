"""The hub's ``projects.*``, ``db.userQuery`` and ``jupyter.*`` functions,
called as ``accounts`` describes."""

from __future__ import annotations

import asyncio
import fnmatch
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from ..core import access, homes
from ..core.jsvalues import (
    RemoteError,
    error,
    js_str,
    read_prop,
    type_error,
)
from ..core.store import is_uuid, now_ms
from ..core.userquery import iso
from .accounts import _collab, _pg_uuid


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


def _copy_tree(src: Path, dst: Path, overwrite_newer: bool, delete_missing: bool, exclude: list,
               home: Path) -> None:
    """rsync-like: a directory's contents land in the target directory; files overwrite
    (unless the target is newer and ``overwrite_newer`` is false... rsync's default overwrites;
    CoCalc passes --update only when overwrite_newer is false, so newer targets are kept).
    Every target is placed inside ``home`` after symlinks (homes.copy_target_*): a link in the
    target is replaced, as rsync does, never written or deleted through."""

    def skip(name: str) -> bool:
        return any(fnmatch.fnmatch(name, pat) for pat in exclude)

    def copy_file(s: Path, d: Path) -> None:
        d = homes.copy_target_file(home, d)
        if d.exists() and not overwrite_newer and d.stat().st_mtime > s.stat().st_mtime:
            return
        if d.is_dir():
            shutil.rmtree(d)
        shutil.copy2(s, d, follow_symlinks=False)

    if not src.is_dir():
        copy_file(src, dst)
        return
    dst = homes.copy_target_dir(home, dst)
    names = [n for n in os.listdir(src) if not skip(n)]
    for n in names:
        s, d = src / n, dst / n
        if s.is_dir() and not s.is_symlink():
            _copy_tree(s, d, overwrite_newer, delete_missing, exclude, home)
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
    except homes.NullByte as exc:
        raise RemoteError(str(exc)) from None
    if not os.path.lexists(src):
        raise error(f"ENOENT: no such file or directory, stat '{homes.display_path(src_home, src_path)}'")
    exclude = [js_str(x) for x in opts.get("exclude") or []] if isinstance(opts.get("exclude"), list) else []
    await asyncio.to_thread(
        _copy_tree, src, dst, bool(opts.get("overwrite_newer")), bool(opts.get("delete_missing")), exclude, dst_home
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
    from ..core import userquery

    # recorded (hub-db-userQuery-projects-list-limit): the hub ignored options, so do we
    try:
        return userquery.user_query(ctx, account_id, query, None)
    except userquery.UserQueryError as exc:  # CoCalc's text; TypeErrors get their prefix here
        raise RemoteError(("TypeError: " if exc.type_error else "") + exc.text) from None


# ================================================================================ jupyter
async def jupyter_kernels(ctx, account_id, opts=None, *args):
    from ..core.jupyter import kernel_specs

    pid = (opts or {}).get("project_id")
    if pid is not None:
        _collab(ctx, account_id, pid, "get kernels")
    return kernel_specs(ctx, pid)


async def jupyter_execute_hub(ctx, account_id, opts=None, *args):
    """CoCalc's cached Jupyter API (``core.jupyter_api``): a month-old answer for the same code."""
    from ..core.jupyter_api import execute

    opts = opts or {}
    pid = opts.get("project_id")
    if pid is None:
        raise error("project_id must be given: this server has no pool of anonymous projects")
    if opts.get("hash") is None or opts.get("noCache"):
        _collab(ctx, account_id, pid, "execute code")
        await ctx.runtime.ensure_running(pid)
    return await execute(ctx, pid, opts, iso(now_ms()))
