"""``POST /api/conat/project`` on cocalc.ai, and the project API behind it.

The bridge (cocalc-ai ``http-api/pages/api/conat/project.ts``, ``server/api/project-bridge.ts``
at 0cf1d9e0bd): an account key only (``must sign in with an account API key``), then
``must specify project_id``, then **project:exec on that project for every call** (not allowed,
nonexistent and malformed ids all give the capability text, recorded), then the collaborator
check. It never starts a project: it waits for one to run until the timeout (see ``calls``).

The project (``project/conat/api/index.ts``): ``name == "ping"`` answers ``"pong"``; otherwise
``[group, fn] = name.split(".")``; an unknown group is ``TypeError: Cannot convert undefined or
null to object`` and an unknown function lists the group's functions (both recorded). Errors are
``{"error": String(err)}``, with no callHub suffix. The functions reuse the ``conat`` project's
(same texts, recorded for both); ``listing`` names its fields ``isDir``/``isSymLink``/
``linkTarget`` here (backend/get-listing.ts, recorded).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from ..core import access
from ..core.jupyter import jupyter_execute, kernel_specs
from ..project import exec as project_exec
from ..project import files as project_files
from ..core.jsvalues import RemoteError, error, read_prop, spread_args, type_error
from . import calls, keys
from .express import ExpressHandler

log = logging.getLogger("cocalc_magic.server.ai")

NOT_SIGNED_IN = "must sign in with an account API key"
VERSION = 1786551348  # system.version of the recorded build (0cf1d9e0bd)

# project/conat/api/system.ts and jupyter.ts export these (order of the recorded list for
# system; for jupyter the order is the file's, a guess at how its CommonJS build lists them).
SYSTEM_NAMES = [
    "exec", "configuration", "sshPublicKey", "updateSshKeys", "ping", "version", "listing", "moveFiles",
    "renameFile", "writeTextFileToProject", "readTextFileFromProject", "managedVmSshPublicKey",
    "updateManagedVmSshConfig", "syncManagedVmSshConfig", "realpath", "readRootfsBuildLog",
    "readRootfsBuildEvents", "listRootfsBuilds", "signal",
]
JUPYTER_NAMES = [
    "stripNotebook", "runNotebook", "nbconvert", "formatString", "kernelLogo", "kernels", "apiExecute",
    "start", "run", "stop", "getKernelStatus", "save", "load", "set", "introspect", "complete",
    "getConnectionFile", "signal", "sendCommMessageToKernel", "ipywidgetsGetBuffer",
]
# editor.* and apps.* exist too (notebook/editor services of a real project); this server has none,
# so their names answer like an unknown group (a guess, written here and in the report).


def _ai_entry(item: dict) -> dict:
    """A conat listing entry in get-listing.ts' field names and order."""
    out: dict[str, Any] = {"name": item["name"]}
    if item.get("issymlink"):
        out["isSymLink"] = True
        if "link_target" in item:
            out["linkTarget"] = item["link_target"]
    out["mtime"] = int(item["mtime"] * 1000) / 1000  # Date.valueOf() / 1000: millisecond steps
    if item.get("isdir"):
        out["isDir"] = True
    out["size"] = item["size"]
    return out


async def _listing(ctx, project_id, opts=None, *args):
    return [_ai_entry(e) for e in await project_files.listing(ctx, project_id, opts)]


async def _ping(ctx, project_id, *args):
    return {"now": int(time.time() * 1000)}


async def _version(ctx, project_id, *args):
    return VERSION


async def _ssh_key(ctx, project_id, *args):
    """``managedVmSshPublicKey``: the project's ``~/.ssh/id_ed25519.pub``, or null."""
    path = ctx.store.home(project_id) / ".ssh" / "id_ed25519.pub"
    try:
        key = path.read_text().strip()
    except OSError:
        return None
    return key or None


async def _api_execute(ctx, project_id, opts=None, *args):
    """``jupyter.apiExecute {kernel, input, history?, path?}``: the same core function as the
    ``conat`` project's ``system.jupyterExecute`` (its internals are the kernel module's)."""
    if opts is None:
        raise type_error("Cannot read properties of undefined (reading 'kernel')")
    read_prop(opts, "kernel")
    # pooled=False: cocalc-ai's apiExecute starts a kernel per call (Kernel.create, no pool)
    return await jupyter_execute(ctx, project_id, opts if isinstance(opts, dict) else {}, pooled=False)


async def _kernels(ctx, project_id, *args):
    return kernel_specs(ctx, project_id)


async def system_exec(ctx, project_id: str, opts: Any = None, *args) -> Any:
    """``system.exec``; an ``async_call`` answer lists ``stats: []`` before ``pid`` (recorded)."""
    out = await project_exec.exec_code(ctx, project_id, opts)
    if isinstance(opts, dict) and opts.get("async_call") and opts.get("async_get") is None:
        pid = out.pop("pid", None)
        out["stats"] = []
        if pid is not None:
            out["pid"] = pid
    return out


def _wrap(fn):
    async def call(ctx, project_id, opts=None, *args):
        return await fn(ctx, project_id, opts)

    return call


def _missing(name: str):
    async def call(ctx, project_id, *args):
        # Real projects have these (ssh keys, rootfs builds, notebook services); a local server has
        # nothing behind them. The text is ours (a guess at what a caller should read).
        raise error(f"'{name}' is not available on this local CoCalc server")

    return call


SYSTEM = {n: _missing(f"system.{n}") for n in SYSTEM_NAMES}
SYSTEM.update(
    exec=system_exec, ping=_ping, version=_version, listing=_listing,
    moveFiles=_wrap(project_files.move_files), renameFile=_wrap(project_files.rename_file),
    writeTextFileToProject=_wrap(project_files.write_text_file),
    readTextFileFromProject=_wrap(project_files.read_text_file),
    managedVmSshPublicKey=_ssh_key, realpath=_wrap(project_files.realpath), signal=_wrap(project_exec.send_signal),
)
JUPYTER = {n: _missing(f"jupyter.{n}") for n in JUPYTER_NAMES}
JUPYTER.update(kernels=_kernels, apiExecute=_api_execute)
TABLE = {"system": SYSTEM, "jupyter": JUPYTER}


async def call(ctx, project_id: str, name: Any, args: Any) -> Any:
    """Run project function ``name`` (the project's ``getResponse``); raises RemoteError."""
    if name == "ping":
        return "pong"
    if name is calls.UNDEFINED or name is None:
        raise type_error(f"Cannot read properties of {calls.shown(name)} (reading 'split')")
    if not isinstance(name, str):
        raise type_error("name.split is not a function")
    group, _, rest = name.partition(".")
    fn = rest.split(".")[0] if rest else None
    functions = TABLE.get(group)
    if functions is None:
        raise type_error("Cannot convert undefined or null to object")
    f = functions.get(fn) if fn is not None else None
    if f is None:
        raise error(f"unknown function '{name}' -- available functions are {json.dumps(list(functions), separators=(',', ':'))}")
    spread = [] if args is calls.UNDEFINED else spread_args(args)
    return await f(ctx, project_id, *spread)


class ProjectBridge(ExpressHandler):
    async def post(self) -> None:
        got = self.bridge_request(NOT_SIGNED_IN)
        if got is None:
            return
        params, principal = got
        project_id = params.get("project_id")
        if not project_id:
            return self.write_json({"error": "must specify project_id"})
        try:
            principal.require_project("project:exec", project_id)
        except keys.CapabilityDenied as exc:
            return self.write_json({"error": exc.text})
        if not access.is_collaborator(self.ctx, principal.account_id, project_id):
            return self.write_json({"error": "user must be a collaborator on the project"})
        name = calls.field(params, "name")
        self.write_json(await forward(self.ctx, project_id, name, calls.field(params, "args"),
                                      calls.field(params, "timeout")))

    get = put = patch = delete = post  # Express runs the route for any method; only POST has a body


async def forward(ctx, project_id: str, name: Any, args: Any, timeout: Any) -> Any:
    """The bridge's request to the project: wait for it to run, then call, within the timeout."""
    deadline = time.monotonic() + calls.timeout_s(timeout)
    if not await calls.wait_running(ctx, project_id, deadline):
        return {"error": calls.project_timeout(project_id, name, waited_for_interest=True).text}
    try:
        done, result = await calls.run_bounded(call(ctx, project_id, name, args), deadline)
    except RemoteError as exc:
        return {"error": exc.text}
    except Exception as exc:  # noqa: BLE001 - the project answers {error: String(err)}, never a 500
        log.exception("ai project call %r failed", name)
        return {"error": f"Error: {exc}"}
    if not done:
        return {"error": calls.project_timeout(project_id, name, waited_for_interest=False).text}
    return result


def routes(ctx) -> list:
    return [(r"/api/conat/project/?", ProjectBridge, {"ctx": ctx})]
