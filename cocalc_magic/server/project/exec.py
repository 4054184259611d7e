"""The project's own conat API (what ``POST /api/conat/project`` forwards to), running in the
project's HOME: ping, test, version, exec (blocking and async jobs), text files, listing, file
operations, realpath, signal, jupyterExecute.

Texts follow the recordings of ``real-hub-transcripts.md`` §2 and CoCalc's
``project/conat/api/system.ts`` and ``backend/execute-code.ts``. Exec errors are plain strings in
CoCalc (no ``Error: `` prefix); file-system errors are Node's ``Error: ENOENT: …`` texts.
Where CoCalc would act outside HOME we refuse with Node's EACCES text (a guess: a real project
is a Linux user who may read outside HOME; here HOME is the project's whole world).
"""

from __future__ import annotations

import asyncio
import errno as errno_mod
import json
import os
import shlex
import shutil
import signal as signal_mod
import stat as stat_mod
import time
from pathlib import Path
from typing import Any

from . import homes
from .conat import RemoteError, error, js_str, lookup, read_prop, type_error
from .execute import ExecOptions, project_env, run

# system.version: CoCalc reports its build time in seconds; this is the build the recordings
# come from (5cb3315c30, 2026-07-03), the generation this server plays.
VERSION = 1783081032
EXEC_DEFAULT_TIMEOUT_S = 60  # PROJECT_EXEC_DEFAULT_TIMEOUT_S
ASYNC_MAX_OUTPUT = 1024 * 1024  # execute-code.ts: async jobs keep at most 1 MB
STATS_MAX = 100
ASYNC_CACHE_MAX = 100  # execute-code.ts keeps at most 100 jobs per project ...
ASYNC_CACHE_TTL_S = 3600  # ... for an hour

NODE_TEXT = {
    errno_mod.ENOENT: ("ENOENT", "no such file or directory"),
    errno_mod.EISDIR: ("EISDIR", "illegal operation on a directory"),
    errno_mod.ENOTDIR: ("ENOTDIR", "not a directory"),
    errno_mod.EACCES: ("EACCES", "permission denied"),
    errno_mod.EPERM: ("EPERM", "operation not permitted"),
    errno_mod.EEXIST: ("EEXIST", "file already exists"),
    errno_mod.ENOTEMPTY: ("ENOTEMPTY", "directory not empty"),
    errno_mod.EINVAL: ("EINVAL", "invalid argument"),
}


def fs_error(exc: OSError | int, syscall: str, path: str | None = None) -> RemoteError:
    """Node's fs error text: ``Error: ENOENT: no such file or directory, open 'x'``."""
    num = exc if isinstance(exc, int) else (exc.errno or errno_mod.EIO)
    code, text = NODE_TEXT.get(num, (errno_mod.errorcode.get(num, "EIO"), os.strerror(num).lower()))
    where = f" '{path}'" if path is not None else ""
    return error(f"{code}: {text}, {syscall}{where}")


def _ms() -> int:
    return int(time.time() * 1000)


def _destructure(opts: Any, prop: str) -> dict:
    if opts is None:
        raise type_error(f"Cannot destructure property '{prop}' of 'undefined' as it is undefined.")
    return opts if isinstance(opts, dict) else {}


class Project:
    """One call's view of a project: its id, HOME and the server's runtime."""

    def __init__(self, ctx, project_id: str):
        self.ctx = ctx
        self.project_id = project_id
        self.home = ctx.store.home(project_id)
        self.home.mkdir(parents=True, exist_ok=True)
        self.home_real = Path(os.path.realpath(self.home))

    def abs_display(self, path: str) -> str:
        return homes.display_path(self.home, path)

    def inside(self, path: str, syscall: str, shown: str | None = None) -> Path:
        """The real path of ``path`` inside HOME, or Node's EACCES text."""
        try:
            return homes.resolve(self.home, path)
        except homes.PathOutsideHome:
            raise fs_error(errno_mod.EACCES, syscall, shown if shown is not None else path) from None

    def lexical(self, path: str, syscall: str) -> Path:
        """``path`` under HOME without following a final symlink (for lstat, unlink, rename)."""
        p = Path(os.path.normpath(self.home_real / path))
        if p == self.home_real:
            return p
        parent = Path(os.path.realpath(p.parent))
        if parent != self.home_real and self.home_real not in parent.parents:
            raise fs_error(errno_mod.EACCES, syscall, str(p))
        return parent / p.name


# ---------------------------------------------------------------------------------- exec
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


# ---------------------------------------------------------------------------------- files
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


def project_pids(ctx, project_id: str) -> set[int]:
    """Process groups this project runs (exec, async jobs, jupyter); see execute.ProcessRegistry."""
    return ctx.runtime.processes.pids(project_id)


async def send_signal(ctx, project_id: str, opts: Any) -> None:
    """``system.signal``: signal processes of THIS project only; anything else is ESRCH.

    Each exec runs in its own session, so the pid is a process group: we signal the group, which
    is what a client cancelling a job wants (bash and its children stop together).
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
        except (TypeError, ValueError):
            last = RemoteError('TypeError [ERR_INVALID_ARG_TYPE]: The "pid" argument must be of type number.')
            continue
        if pid not in mine:
            last = error("kill ESRCH")
            continue
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            last = error("kill ESRCH")
        except PermissionError:
            last = error("kill EPERM")
    if last is not None:
        raise last
    return None


# ---------------------------------------------------------------------------------- table
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
    from .jupyter_exec import jupyter_execute

    return await jupyter_execute(ctx, project_id, _destructure(opts, "input"))


async def _list_kernels(ctx, project_id, *args):
    return []  # kernels are not kept running between calls (each jupyterExecute is stateless)


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
    }
}


async def call(ctx, project_id: str, name: Any, args: list) -> Any:
    """Run project function ``name``; raises RemoteError with the reply's error text."""
    f = lookup(TABLE, name)
    return await f(ctx, project_id, *args)
