"""The project's dispatch: conat names (``system.exec``, …) to the functions of ``exec`` and
``files``."""


from __future__ import annotations

from typing import Any

from ..core.jsvalues import lookup
from .base import VERSION, _destructure, _ms
from .exec import exec_code, send_signal
from .files import (
    delete_files,
    listing,
    move_files,
    read_text_file,
    realpath,
    rename_file,
    write_text_file,
)


async def _ping(ctx, project_id, *args):
    return {"now": _ms()}


async def _test(ctx, project_id, opts=None, *args):
    pid = opts.get("project_id") if isinstance(opts, dict) else None
    return {"project_id": pid if pid is not None else "", "server_time": _ms()}


async def _version(ctx, project_id, *args):
    return VERSION


async def _exec(ctx, project_id, opts=None, *args):
    return await exec_code(ctx, project_id, opts)


async def _write(ctx, project_id, opts=None, *args):
    return await write_text_file(ctx, project_id, opts)


async def _read(ctx, project_id, opts=None, *args):
    return await read_text_file(ctx, project_id, opts)


async def _listing(ctx, project_id, opts=None, *args):
    return await listing(ctx, project_id, opts)


async def _delete(ctx, project_id, opts=None, *args):
    return await delete_files(ctx, project_id, opts)


async def _move(ctx, project_id, opts=None, *args):
    return await move_files(ctx, project_id, opts)


async def _rename(ctx, project_id, opts=None, *args):
    return await rename_file(ctx, project_id, opts)


async def _realpath(ctx, project_id, path=None, *args):
    return await realpath(ctx, project_id, path)


async def _signal(ctx, project_id, opts=None, *args):
    return await send_signal(ctx, project_id, opts)


async def _jupyter(ctx, project_id, opts=None, *args):
    from ..core.jupyter import jupyter_execute

    return await jupyter_execute(ctx, project_id, _destructure(opts, "input"))


async def _list_kernels(ctx, project_id, *args):
    from ..core.jupyter import list_kernels

    return list_kernels(ctx, project_id)


async def _stop_kernel(ctx, project_id, opts=None, *args):
    from ..core.jupyter import stop_kernel

    return stop_kernel(ctx, project_id, (opts or {}).get("pid") if isinstance(opts, dict) else None)


TABLE = {
    "system": {
        "ping": _ping,
        "test": _test,
        "version": _version,
        "exec": _exec,
        "writeTextFileToProject": _write,
        "readTextFileFromProject": _read,
        "listing": _listing,
        "deleteFiles": _delete,
        "moveFiles": _move,
        "renameFile": _rename,
        "realpath": _realpath,
        "signal": _signal,
        "jupyterExecute": _jupyter,
        "listJupyterKernels": _list_kernels,
        "stopJupyterKernel": _stop_kernel,
    }
}


async def call(ctx, project_id: str, name: Any, args: list) -> Any:
    """Run project function ``name``; raises RemoteError with the reply's error text."""
    f = lookup(TABLE, name)
    return await f(ctx, project_id, *args)
