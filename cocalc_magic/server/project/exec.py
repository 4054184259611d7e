"""The project's ``system.exec`` (blocking and async jobs, CoCalc's execute-code.ts) and
``system.signal``."""


from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal as signal_mod
import time
from pathlib import Path
from typing import Any

from ..core import homes
from ..core.execute import ExecOptions, project_env, run
from ..core.jsvalues import RemoteError, error, js_str, type_error
from .base import Project, _destructure

EXEC_DEFAULT_TIMEOUT_S = 60  # PROJECT_EXEC_DEFAULT_TIMEOUT_S
ASYNC_MAX_OUTPUT = 1024 * 1024  # execute-code.ts: async jobs keep at most 1 MB
STATS_MAX = 100
ASYNC_CACHE_MAX = 100  # execute-code.ts keeps at most 100 jobs per project ...
ASYNC_CACHE_TTL_S = 3600  # ... for an hour


def _exec_fields(opts: dict) -> dict:
    command = opts.get("command")
    if not isinstance(command, str):
        raise type_error("Cannot read properties of undefined (reading 'split')")
    args = opts.get("args")
    args = [js_str(a) for a in args] if isinstance(args, list) else []
    timeout = opts.get("timeout")
    try:
        timeout = float(timeout) if timeout is not None else EXEC_DEFAULT_TIMEOUT_S
    except (TypeError, ValueError):
        timeout = EXEC_DEFAULT_TIMEOUT_S
    if timeout <= 0:
        timeout = EXEC_DEFAULT_TIMEOUT_S
    max_output = opts.get("max_output")
    try:
        max_output = int(max_output) if max_output is not None else None
    except (TypeError, ValueError):
        max_output = None
    err_on_exit = opts.get("err_on_exit")
    env = opts.get("env") if isinstance(opts.get("env"), dict) else {}
    return {
        "command": command,
        "args": args,
        "timeout": timeout,
        "max_output": max_output,
        "bash": bool(opts.get("bash")),
        "err_on_exit": True if err_on_exit is None else bool(err_on_exit),
        "env": {str(k): js_str(v) for k, v in env.items()},
        "path": opts.get("path"),
        "cwd": opts.get("cwd"),
    }


def _cwd(project: Project, f: dict) -> Path:
    where = f["path"] if f["path"] not in (None, "") else f["cwd"]
    if where in (None, ""):
        return project.home_real
    where = js_str(where)
    try:
        return homes.resolve(project.home, where)
    except homes.PathOutsideHome as exc:
        raise error(str(exc)) from None
    except homes.NullByte:  # spawn's own check of the cwd, caught as `error ${error}`
        raise RemoteError(f"error {homes.null_byte_text('options.cwd', where)}") from None


def _described(f: dict) -> str:
    """How CoCalc names the command in its exit message: the bash script, or 'cmd' (args=…)."""
    if f["bash"] or (not f["args"] and any(c.isspace() for c in f["command"])):
        return shlex.join([f["command"], *f["args"]]) if f["args"] else f["command"]
    return f"'{f['command']}' (args={' '.join(f['args'])})"


def _trunc(text: str, n: int = 1024) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _stderr_of(outcome) -> str:
    if outcome.spawn_error:
        return json.dumps(outcome.spawn_error, separators=(",", ":"))
    return outcome.stderr


async def _run(project: Project, f: dict, on_spawn=None):
    opts = ExecOptions(
        command=f["command"],
        args=f["args"],
        cwd=_cwd(project, f),
        timeout=f["timeout"],
        max_output=f["max_output"],
        bash=f["bash"],
    )
    env = project_env(project.home_real, project.project_id, f["env"])
    return await run(opts, env, project.ctx.runtime.processes, project.project_id, on_spawn)


async def exec_code(ctx, project_id: str, opts: Any) -> dict:
    """``system.exec``: the blocking result, an async job's state, or a RemoteError."""
    project = Project(ctx, project_id)
    opts = opts if isinstance(opts, dict) else {}
    if opts.get("async_get") is not None:
        return await _async_get(project, opts)
    f = _exec_fields(opts)
    if opts.get("async_call"):
        return await _async_call(project, f)
    outcome = await _run(project, f)
    if outcome.killed:
        raise RemoteError(f"killed command '{outcome.spawned}'")
    stderr = _stderr_of(outcome)
    code = outcome.exit_code
    if f["err_on_exit"] and code != 0:
        raise RemoteError(
            f"command '{_described(f)}' exited with nonzero code {code} -- stderr='{_trunc(stderr)}'"
        )
    if outcome.spawn_error:  # execute-code.ts: `!ran_code`, "regardless of opts.err_on_exit!"
        raise RemoteError(f"command '{_described(f)}' was not able to run -- stderr='{_trunc(stderr)}'")
    return {"type": "blocking", "stdout": outcome.stdout, "stderr": stderr, "exit_code": code}


def _sample(pid: int, last: dict) -> dict | None:
    """One stats sample of a job's process: {timestamp, mem_rss (MiB), cpu_pct, cpu_secs}."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/statm") as fh:
            rss_pages = int(fh.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    cpu_secs = (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
    now = time.time()
    prev = last.get("t"), last.get("cpu")
    cpu_pct = 0.0
    if prev[0] is not None and now > prev[0]:
        cpu_pct = 100.0 * (cpu_secs - prev[1]) / (now - prev[0])
    last.update(t=now, cpu=cpu_secs)
    # mem_rss in MiB is a guess at CoCalc's unit (process-stats.ts sums children's rss)
    mem = rss_pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    return {"timestamp": int(now * 1000), "mem_rss": round(mem, 3), "cpu_pct": round(cpu_pct, 2), "cpu_secs": round(cpu_secs, 3)}


async def _async_call(project: Project, f: dict) -> dict:
    if f["max_output"] is None:
        f["max_output"] = ASYNC_MAX_OUTPUT
    spawned = asyncio.Event()

    async def job_coro(job):
        job.err_on_exit = f["err_on_exit"]
        job.stats = []

        def on_spawn(pid: int) -> None:
            job.pid = pid
            spawned.set()
            asyncio.ensure_future(_monitor(job))

        try:
            return await _run(project, f, on_spawn)
        finally:
            spawned.set()

    _prune_jobs(project.ctx.runtime.jobs, project.project_id)
    job = project.ctx.runtime.jobs.start(project.project_id, job_coro)
    job.err_on_exit, job.stats = f["err_on_exit"], []
    try:
        await asyncio.wait_for(spawned.wait(), 5)
    except asyncio.TimeoutError:
        pass
    out = {"type": "async", "stdout": "", "stderr": "", "exit_code": 0, "start": job.start,
           "job_id": job.job_id, "status": "running"}
    if job.pid is not None:
        out["pid"] = job.pid
    return out


def _prune_jobs(registry, project_id: str) -> None:
    """Forget this project's finished jobs after an hour, and the oldest beyond 100."""
    now = time.time()
    mine = sorted((j for j in registry.jobs.values() if j.project_id == project_id), key=lambda j: j.start)
    for j in mine:
        if j.finished is not None and now - j.finished > ASYNC_CACHE_TTL_S:
            registry.jobs.pop(j.job_id, None)
    mine = [j for j in mine if j.job_id in registry.jobs]
    for j in mine[: max(0, len(mine) - ASYNC_CACHE_MAX + 1)]:
        if j.finished is not None:
            registry.jobs.pop(j.job_id, None)


async def _monitor(job) -> None:
    last: dict = {}
    while job.outcome is None and job.error is None and job.pid:
        s = _sample(job.pid, last)
        if s:
            job.stats.append(s)
            del job.stats[:-STATS_MAX]
        await asyncio.sleep(1.0)


def job_view(job, with_stats: bool = False) -> dict:
    """An async job as ``async_get`` reports it (CoCalc's key order)."""
    out: dict[str, Any] = {"type": "async", "stdout": "", "stderr": "", "exit_code": 0,
                           "start": job.start, "job_id": job.job_id, "status": "running"}
    finished = job.outcome is not None or job.error is not None
    if finished:
        o = job.outcome
        err_on_exit = getattr(job, "err_on_exit", True)
        if o is None:
            out.update(stderr=job.error or "No result", exit_code=1, status="error")
        elif o.killed:
            out.update(stderr=f"killed command '{o.spawned}'", exit_code=1, status="error")
        elif err_on_exit and o.exit_code != 0:
            # CoCalc calls back with the job's stderr as the error; an empty one is falsy and
            # becomes "No result" (recorded: proj-system-exec-async-get-failed), stdout is lost.
            out.update(stderr=_stderr_of(o) or "No result", exit_code=1, status="error")
        else:
            out.update(stdout=o.stdout, stderr=_stderr_of(o), exit_code=o.exit_code, status="completed")
    if job.pid is not None:
        out["pid"] = job.pid
    if with_stats:
        out["stats"] = list(getattr(job, "stats", []))
    if finished:
        out["elapsed_s"] = round(((job.finished or time.time()) * 1000 - job.start) / 1000, 3)
    return out


async def _async_get(project: Project, opts: dict) -> dict:
    job_id = opts.get("async_get")
    job = project.ctx.runtime.jobs.get(job_id)
    if job is None or job.project_id != project.project_id:
        raise error(f"Async operation '{js_str(job_id)}' does not exist.")
    if opts.get("async_await") and job.task is not None and not job.task.done():
        await asyncio.shield(job.task)
    return job_view(job, bool(opts.get("async_stats")))


def project_pids(ctx, project_id: str) -> set[int]:
    """Process groups this project runs (exec, async jobs, jupyter); see execute.ProcessRegistry."""
    return ctx.runtime.processes.pids(project_id)


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except (ProcessLookupError, OverflowError):
        return None


async def send_signal(ctx, project_id: str, opts: Any) -> None:
    """``system.signal``: CoCalc's ``process.kill(pid, signal)`` for ``pid`` and each of ``pids``.

    As there, a plain pid signals that process alone (a bash script's children live on) and a
    negative one its whole process group (each exec runs in its own group, whose id is the pid
    the exec reported). All projects here run as one user, so only processes of THIS project's
    groups may be signalled; anything else is ESRCH (as a pid the project's user cannot see).
    """
    opts = _destructure(opts, "signal")
    sig = opts.get("signal")
    try:
        sig = int(sig) if sig is not None else int(signal_mod.SIGTERM)
    except (TypeError, ValueError):
        name = js_str(sig).upper()
        sig = int(getattr(signal_mod, name if name.startswith("SIG") else "SIG" + name, signal_mod.SIGTERM))
    pids = []
    if opts.get("pid") is not None:
        pids.append(opts.get("pid"))
    if isinstance(opts.get("pids"), list):
        pids += opts["pids"]
    mine = project_pids(ctx, project_id)
    last: RemoteError | None = None
    for pid in pids:
        try:
            pid = int(pid)
        except (TypeError, ValueError, OverflowError):
            last = RemoteError('TypeError [ERR_INVALID_ARG_TYPE]: The "pid" argument must be of type number.')
            continue
        try:
            if pid < 0 and -pid in mine:
                os.killpg(-pid, sig)
            elif pid > 0 and _group_of(pid) in mine:
                os.kill(pid, sig)
            else:
                last = error("kill ESRCH")
        except (ProcessLookupError, OverflowError):
            last = error("kill ESRCH")
        except PermissionError:
            last = error("kill EPERM")
        except ValueError:  # an unknown signal number
            last = RemoteError('TypeError [ERR_UNKNOWN_SIGNAL]: Unknown signal: ' + js_str(sig))
    if last is not None:
        raise last
    return None
