"""Stateless Jupyter execution (project ``system.jupyterExecute``, ``jupyter.apiExecute`` on ai,
hub ``jupyter.execute`` and v2 ``jupyter/execute``) in real kernels, with CoCalc's semantics.

``jupyter/stateless-api/execute.ts`` and ``nbgrader/jupyter-run.ts`` (``run_cell``) at 5cb3315c30
(the same at a50170846e and in cocalc-ai): a fresh kernel per call (from the pool, see
``kernels``); ``path`` given: ``os.chdir`` to it (relative to HOME) in the kernel, its output
dropped; ``history`` joined with newlines and run as one cell, output dropped; then ``input``,
whose iopub messages become the answer: each message's content without
execution_state/execution_count/payload/code/status/source and without empty objects (so
``{"name","text"}``, ``{"data"[, "metadata"]}``, ``{"traceback","ename","evalue"}``), comm
messages skipped, ``clear_output`` emptying the list. Limits (``limits`` in the request, merged
over CoCalc's ``DEFAULT_LIMITS``; without it the stateless kernel's defaults) cut a cell at its
time limit (SIGINT, so the answer ends with a KeyboardInterrupt error) and replace output past a
size limit by CoCalc's "Output truncated" stream item.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .execute import project_env
from .jsvalues import error, js_str
from .kernels import DEFAULT_POOL_SIZE, DEFAULT_POOL_TIMEOUT_S, KernelFailed, KernelPool, Spawn

# util/jupyter/nbgrader-types.ts DEFAULT_LIMITS, and stateless-api/kernel.ts's default argument
# (used when a request sends no limits)
DEFAULT_LIMITS = {"timeout_ms_per_cell": 60_000, "max_output_per_cell": 500_000, "max_output": 4_000_000}
STATELESS_LIMITS = {"timeout_ms": 30_000, "timeout_ms_per_cell": 30_000, "max_output": 5_000_000,
                    "max_output_per_cell": 1_000_000}
DROPPED = ("execution_state", "execution_count", "payload", "code", "status", "source")


def kernel_dirs(home: Path | None) -> list[str]:
    """Where the project's kernelspecs live: its own ~/.local, then this Python's and the
    system's (the kernels installed beside the server; the server user's own ~/.local is not
    the project's)."""
    try:
        from jupyter_core.paths import ENV_JUPYTER_PATH, SYSTEM_JUPYTER_PATH
    except ImportError:
        ENV_JUPYTER_PATH = SYSTEM_JUPYTER_PATH = []
    dirs = [str(home / ".local" / "share" / "jupyter" / "kernels")] if home is not None else []
    dirs += [os.path.join(p, "kernels") for p in (*ENV_JUPYTER_PATH, *SYSTEM_JUPYTER_PATH)]
    return list(dict.fromkeys(dirs))


def _specs(home: Path | None) -> dict[str, Any]:
    try:
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError:  # no Jupyter beside the server: no kernels, as a project without specs
        return {}
    ksm = KernelSpecManager(kernel_dirs=kernel_dirs(home))
    out = {}
    for name, info in sorted(ksm.get_all_specs().items()):
        spec = info.get("spec") or {}
        argv = [sys.executable if a in ("python", "python3") and i == 0 else a
                for i, a in enumerate(spec.get("argv") or [])]
        out[name] = {"name": name, "display_name": spec.get("display_name", name),
                     "language": spec.get("language", ""), "env": spec.get("env") or {},
                     "metadata": spec.get("metadata") or {}, "resource_dir": info.get("resource_dir", ""),
                     "argv": argv}
    return out


def kernel_specs(ctx=None, project_id: str | None = None) -> list[dict]:
    """What ``jupyter.kernels`` lists for a project (without one: the server's own kernels)."""
    return list(_specs(ctx.store.home(project_id) if ctx is not None and project_id else None).values())


def _no_spec(kernel: str, names: list[str]) -> Exception:
    return error(
        "**Unable to Spawn Jupyter Kernel:**\n\n"
        f'Error: No spec available for kernel "{kernel}".  Available specs: {json.dumps(names, separators=(",", ":"))} \n\n'
        f"Try this in a terminal to help debug this (or contact support): `jupyter console --kernel={kernel}`\n\n"
        "Once you fix the problem, explicitly restart this kernel to test here."
    )


def pool(ctx) -> KernelPool:
    """The server's kernel pool (made on first use; stopped projects' kernels die with them)."""
    p = getattr(ctx.runtime, "kernel_pool", None)
    if p is None:
        p = ctx.runtime.kernel_pool = KernelPool(ctx.runtime.processes)
    return p


def _number(value: Any, default: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return v if v == v else default


async def jupyter_execute(ctx, project_id: str, opts: dict, *, pooled: bool = True) -> list:
    """The output items of running ``opts["input"]`` in kernel ``opts["kernel"]`` of the project
    (``history``, ``path``, ``limits``, ``pool`` as CoCalc reads them). ``pooled=False`` starts a
    kernel for this call only, as cocalc-ai's ``jupyter.apiExecute`` does."""
    code = opts.get("input")
    if not isinstance(code, str):
        raise error("input must be a string")  # guess: CoCalc sends whatever it got to the kernel
    name = js_str(opts.get("kernel"))
    home = ctx.store.home(project_id)
    home.mkdir(parents=True, exist_ok=True)
    specs = _specs(home)
    if name not in specs:
        raise _no_spec(name, list(specs))
    limits = opts.get("limits") if isinstance(opts.get("limits"), dict) else None
    size, timeout_s = DEFAULT_POOL_SIZE, DEFAULT_POOL_TIMEOUT_S
    if isinstance(opts.get("pool"), dict):
        size = int(_number(opts["pool"].get("size"), size))
        timeout_s = _number(opts["pool"].get("timeout_s"), timeout_s)
    spawn = Spawn(project_id, name, project_env(home, project_id), ctx.store.data_dir / "tmp", kernel_dirs(home))
    try:
        kernel = await pool(ctx).take(spawn, size if pooled else 0, timeout_s)
    except KernelFailed as exc:
        raise error(str(exc)) from None
    try:
        outputs: list[dict] = []
        if opts.get("path") is not None:
            target = js_str(opts["path"])
            target = target if target.startswith("/") else os.path.normpath(os.path.join(home, target))
            if specs[name]["language"].lower().startswith(("python", "sage")):
                escaped = target.replace("\\", "\\\\").replace("'", "\\'")
                await kernel.execute(f"import os; os.chdir('{escaped}')", None)
            else:  # guess: other languages' chdir commands are not reproduced
                outputs.append({"name": "stderr", "text": f"Error: unable to change directory: chdir for language "
                                                          f"{specs[name]['language']} is not implemented."})
        history = opts.get("history")
        if isinstance(history, list) and history:
            await run_cell(kernel, "\n".join(js_str(h) for h in history), limits)
        outputs += await run_cell(kernel, code, limits)
        return outputs
    except KernelFailed as exc:
        raise error(str(exc)) from None
    finally:
        kernel.close()


def _merged(limits: dict | None) -> dict:
    if limits is None:
        return dict(STATELESS_LIMITS)
    return {**DEFAULT_LIMITS, **{k: v for k, v in limits.items() if v is not None}}


async def run_cell(kernel, code: str, limits: dict | None) -> list[dict]:
    """One cell's outputs under ``limits``, as ``nbgrader/jupyter-run.ts`` ``run_cell``."""
    lim = _merged(limits)
    total_ms, start = _number(lim.get("timeout_ms"), 0), lim.get("start_time")
    if total_ms and isinstance(start, (int, float)) and time.time() * 1000 - start >= total_ms:
        raise error(f"Total time limit (={round(total_ms / 1000)} seconds) exceeded")
    per_cell_ms = _number(lim.get("timeout_ms_per_cell"), 0)
    max_cell = int(_number(lim.get("max_output_per_cell"), 0))
    max_total = int(_number(lim.get("max_output"), 0))
    messages = await kernel.execute(code, per_cell_ms or None)
    outputs: list[dict] = []
    cell_chars = total = 0
    for m in messages:
        if m["msg_type"] == "clear_output":
            outputs = []
        content = dict(m.get("content") or {})
        if content.get("comm_id") is not None:
            continue
        for k in DROPPED:
            content.pop(k, None)
        for k in [k for k, v in content.items() if isinstance(v, dict) and not v]:
            del content[k]
        if not content:
            continue
        # JSON.stringify(mesg).length (UTF-16 units; code points here: a guess that differs only
        # for characters outside the BMP)
        n = len(json.dumps(content, separators=(",", ":"), ensure_ascii=False))
        total += n
        if max_cell:
            cell_chars += n
        if content.get("traceback") is not None:
            outputs.append(content)
        elif max_cell and cell_chars > max_cell:
            outputs.append({"name": "stdout", "output_type": "stream", "text": [
                f"Output truncated since it exceeded the cell output limit of {max_cell} characters"]})
        elif max_total and total > max_total:
            outputs.append({"name": "stdout", "output_type": "stream", "text": [
                f"Output truncated since it exceeded the global output limit of {max_total} characters"]})
        else:
            outputs.append(content)
    return outputs


def list_kernels(ctx, project_id: str) -> list[dict]:
    """``system.listJupyterKernels``: ``[{pid, connectionFile, kernel_name}]`` of running kernels."""
    return [{"pid": k.pid, "connectionFile": k.connection_file, "kernel_name": k.spawn.name}
            for k in pool(ctx).running(project_id)]


def stop_kernel(ctx, project_id: str, pid: Any) -> dict:
    """``system.stopJupyterKernel({pid})``."""
    return {"success": pool(ctx).stop(project_id, pid)}


__all__ = ["jupyter_execute", "kernel_specs", "list_kernels", "stop_kernel", "run_cell"]
