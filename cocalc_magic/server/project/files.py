"""The project's file functions: text files, listing, delete, move, rename, realpath (Node's
fs texts)."""


from __future__ import annotations

import asyncio
import errno as errno_mod
import os
import shutil
import stat as stat_mod
from typing import Any

from ..core import history, homes
from ..core.jsvalues import RemoteError, error, js_str, read_prop, type_error
from .base import Project, _destructure, fs_error


def _content_type_error(value: Any) -> RemoteError:
    if value is None:
        got = "Received undefined"
    elif isinstance(value, bool):
        got = f"Received type boolean ({js_str(value)})"
    elif isinstance(value, (int, float)):
        got = f"Received type number ({js_str(value)})"
    else:
        got = f"Received an instance of {'Array' if isinstance(value, list) else 'Object'}"
    return RemoteError(
        'TypeError [ERR_INVALID_ARG_TYPE]: The "data" argument must be of type string or an '
        f"instance of Buffer, TypedArray, or DataView. {got}"
    )


async def write_text_file(ctx, project_id: str, opts: Any) -> None:
    opts = _destructure(opts, "path")
    path, content = opts.get("path"), opts.get("content")
    if path is None:
        raise type_error("Cannot read properties of undefined (reading 'length')")
    path = js_str(path)
    if not isinstance(content, str):
        raise _content_type_error(content)
    project = Project(ctx, project_id)
    project.inside(path, "open")
    try:
        await asyncio.to_thread(homes.write_text, project.home, path, content)
    except OSError as exc:
        raise fs_error(exc, "open", path) from None
    # a version for sync.history (conat generation; the v2 write-text-file route comes here too)
    await asyncio.to_thread(history.record, ctx.store, project_id, project.home, path, content)
    return None


async def read_text_file(ctx, project_id: str, opts: Any) -> str:
    """No size check on this path (CoCalc's conat read has none)."""
    opts = _destructure(opts, "path")
    path = opts.get("path")
    if not isinstance(path, str):
        raise RemoteError(
            'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string or an '
            f"instance of Buffer or URL. Received {'undefined' if path is None else 'type ' + type(path).__name__}"
        )
    project = Project(ctx, project_id)
    target = project.inside(path, "open")
    try:
        if target.is_dir():
            raise fs_error(errno_mod.EISDIR, "read")
        data = await asyncio.to_thread(target.read_bytes)
    except OSError as exc:
        raise fs_error(exc, "open", path) from None
    return data.decode("utf-8", "replace")


def listing_of(project: Project, path: str, hidden: bool) -> list[dict]:
    shown = project.abs_display(path)
    target = project.inside(path, "opendir", shown)
    try:
        entries = list(os.scandir(target))
    except OSError as exc:
        raise fs_error(exc, "opendir", shown) from None
    out = []
    for entry in entries:
        if not hidden and entry.name.startswith("."):
            continue
        item: dict[str, Any] = {"name": entry.name}
        try:
            lst = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        st = lst
        if entry.is_symlink():
            item["issymlink"] = True
            try:
                item["link_target"] = os.readlink(entry.path)
                st = os.stat(entry.path)
            except OSError:
                st = lst
        item["mtime"] = st.st_mtime
        if stat_mod.S_ISDIR(st.st_mode):
            item["isdir"] = True
            try:
                names = os.listdir(entry.path)
            except OSError:
                names = []
            item["size"] = len(names) if hidden else sum(1 for n in names if not n.startswith("."))
        else:
            item["size"] = st.st_size
        out.append(item)
    return out


async def listing(ctx, project_id: str, opts: Any) -> list:
    opts = _destructure(opts, "path")
    path = opts.get("path")
    return listing_of(Project(ctx, project_id), "" if path is None else js_str(path), bool(opts.get("hidden")))


async def delete_files(ctx, project_id: str, opts: Any) -> None:
    opts = _destructure(opts, "paths")
    paths = read_prop(opts, "paths") if opts else None
    if not isinstance(paths, list):
        raise type_error("Cannot read properties of undefined (reading 'map')")
    project = Project(ctx, project_id)
    for p in paths:
        target = project.lexical(js_str(p), "rm")
        if target == project.home_real:
            raise error("refusing to delete the project's home directory")
        try:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise fs_error(exc, "rm", str(target)) from None
    return None


async def move_files(ctx, project_id: str, opts: Any) -> None:
    opts = _destructure(opts, "paths")
    paths, dest = opts.get("paths"), opts.get("dest")
    if not isinstance(paths, list):
        raise type_error("Cannot read properties of undefined (reading 'map')")
    project = Project(ctx, project_id)
    dest_dir = project.inside(js_str(dest) if dest is not None else "", "mkdir")
    for p in paths:
        src = project.lexical(js_str(p), "lstat")
        try:
            os.lstat(src)
        except OSError as exc:
            raise fs_error(exc, "lstat", str(src)) from None
        try:
            dest_dir.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), str(dest_dir / src.name))
        except OSError as exc:
            raise fs_error(exc, "rename", str(src)) from None
    return None


async def rename_file(ctx, project_id: str, opts: Any) -> None:
    opts = _destructure(opts, "src")
    project = Project(ctx, project_id)
    src = project.lexical(js_str(opts.get("src")), "lstat")
    dest = project.lexical(js_str(opts.get("dest")), "rename")
    try:
        os.lstat(src)
    except OSError as exc:
        raise fs_error(exc, "lstat", str(src)) from None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(src, dest)
    except OSError as exc:
        raise fs_error(exc, "rename", str(src)) from None
    return None


async def realpath(ctx, project_id: str, path: Any = None) -> str:
    project = Project(ctx, project_id)
    text = js_str(path)
    shown = project.abs_display(text)
    real = os.path.realpath(project.home_real / text)
    if not os.path.exists(real):
        raise fs_error(errno_mod.ENOENT, "realpath", shown)
    rel = os.path.relpath(real, project.home_real)
    if rel == ".":
        return ""
    return real if rel.startswith("..") else rel
