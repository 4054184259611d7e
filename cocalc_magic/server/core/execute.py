"""Running commands in a project, with CoCalc's exec semantics (backend/execute-code.ts).

Shared by both API generations; each formats the outcome in its own words. What is faithful:
a command with whitespace and no args runs under bash; bash mode writes the script to
``<tmpdir>/a.sh`` after a ``ulimit -t`` line; with bash and args the shell-escaped
``[command, *args]`` is the script (which breaks, as in CoCalc); a timeout kills the whole
process group; ``max_output`` cuts stdout and stderr each and appends
`` (truncated at N characters)``; no exit code observed means exit code 1. Async jobs
(``async_call``/``async_get``) live in a per-server registry.
"""

from __future__ import annotations

import asyncio
import errno as errno_mod
import math
import os
import shlex
import shutil
import signal
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import homes
from .jsvalues import RemoteError


@dataclass
class ExecOptions:
    command: str
    args: list[str] = field(default_factory=list)
    cwd: Path | None = None  # already resolved by the caller
    timeout: float = 10.0
    max_output: int | None = None
    bash: bool = False
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class ExecOutcome:
    stdout: str
    stderr: str
    exit_code: int
    killed: bool = False  # the timeout struck
    spawned: str = ""  # what was spawned, as CoCalc quotes it: "bash /tmp/cocalc-x/a.sh" or "sleep 30"
    spawn_error: dict | None = None  # {"errno","code","syscall","path","spawnargs"} when it could not run
    pid: int | None = None
    bash: bool = False  # ran as a bash script


def truncate(text: str, limit: int | None) -> str:
    if limit is None or limit < 0 or len(text) <= limit:
        return text
    return text[:limit] + f" (truncated at {limit} characters)"


def project_env(home: Path, project_id: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A clean environment: nothing of the server's own (its keys!) leaks into a project."""
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "USER": os.environ.get("USER", "user"),
        "SHELL": "/bin/bash",
        "COCALC_PROJECT_ID": project_id,
    }
    for k, v in (extra or {}).items():
        env[str(k)] = str(v)
    return env


class ProcessRegistry:
    """Process groups running per project, so that stopping a project kills them."""

    def __init__(self) -> None:
        self._pids: dict[str, set[int]] = {}

    def add(self, project_id: str, pid: int) -> None:
        self._pids.setdefault(project_id, set()).add(pid)

    def discard(self, project_id: str, pid: int) -> None:
        self._pids.get(project_id, set()).discard(pid)

    def pids(self, project_id: str) -> set[int]:
        """The process groups now running in this project (a copy)."""
        return set(self._pids.get(project_id, ()))

    def kill_all(self, project_id: str) -> int:
        pids = self._pids.pop(project_id, set())
        for pid in pids:
            killpg(pid)
        return len(pids)

    def kill_everything(self) -> None:
        """Every project's processes: a stopping server leaves nothing running."""
        for project_id in list(self._pids):
            self.kill_all(project_id)


def killpg(pid: int) -> None:
    """SIGKILL a process group (a command and its children); gone already is fine."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _refuse_null_bytes(argv: list[str], cwd: str | None, env: dict[str, str], tmpdir: str | None) -> None:
    """Node's spawn throws ERR_INVALID_ARG_VALUE for a NUL byte in the file, an argument, the cwd
    or the environment; execute-code.ts catches the throw as ``error ${error}`` (as for E2BIG)."""
    checks = [("file", argv[0]), *((f"args[{i}]", a) for i, a in enumerate(argv[1:])), ("options.cwd", cwd or "")]
    checks += [(f"options.env['{k}']", f"{k}{v}") for k, v in env.items()]
    for name, value in checks:
        if "\x00" in value:
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)
            raise RemoteError(f"error {homes.null_byte_text(name, value)}")


async def run(
    opts: ExecOptions,
    env: dict[str, str],
    registry: ProcessRegistry | None = None,
    project_id: str = "",
    on_spawn: Callable[[int], None] | None = None,
) -> ExecOutcome:
    """Run one command to completion or timeout; ``on_spawn(pid)`` is called once it runs."""
    use_bash = bool(opts.bash) or (not opts.args and any(c.isspace() for c in opts.command))
    tmpdir = None
    if use_bash:
        script = opts.command
        if opts.args:
            script = shlex.join([opts.command, *map(str, opts.args)])
        tmpdir = tempfile.mkdtemp(prefix="cocalc-")
        path = os.path.join(tmpdir, "a.sh")
        with open(path, "w") as fh:
            fh.write(f"ulimit -t {max(1, math.ceil(opts.timeout))}\n{script}\n")
        argv = ["bash", path]
    else:
        argv = [opts.command, *map(str, opts.args)]
    spawned = " ".join(argv)
    cwd = str(opts.cwd) if opts.cwd else env.get("HOME")
    _refuse_null_bytes(argv, cwd, env, tmpdir)
    try:
        if cwd and not os.path.isdir(cwd):
            raise FileNotFoundError(cwd)
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
        code = "ENOENT" if isinstance(exc, (FileNotFoundError, NotADirectoryError)) else "EACCES"
        errno = -2 if code == "ENOENT" else -13
        err = {
            "errno": errno,
            "code": code,
            "syscall": f"spawn {argv[0]}",
            "path": argv[0],
            "spawnargs": argv[1:],
        }
        return ExecOutcome("", "", 1, spawned=spawned, spawn_error=err, bash=use_bash)
    except OSError as exc:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
        if exc.errno != errno_mod.E2BIG:
            # what else spawn reports in its 'error' event (ENAMETOOLONG for a 10,000-character
            # command name, ELOOP, ENOEXEC...): exit code 1 and the error as JSON, as for ENOENT
            code = errno_mod.errorcode.get(exc.errno or errno_mod.EIO, "EIO")
            err = {"errno": -(exc.errno or errno_mod.EIO), "code": code, "syscall": f"spawn {argv[0]}",
                   "path": argv[0], "spawnargs": argv[1:]}
            return ExecOutcome("", "", 1, spawned=spawned, spawn_error=err, bash=use_bash)
        # Node's spawn throws E2BIG at once (an argument over Linux's 128 KiB MAX_ARG_STRLEN, or all of
        # them over ARG_MAX); CoCalc's execute-code.ts catches the throw as `error ${error}`
        raise RemoteError("error Error: spawn E2BIG") from None
    if registry is not None:
        registry.add(project_id, proc.pid)
    if on_spawn is not None:
        on_spawn(proc.pid)
    killed = False
    try:
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout=max(0.001, float(opts.timeout)))
        except asyncio.TimeoutError:
            killed = True
            killpg(proc.pid)
            out, err = await proc.communicate()
        except asyncio.CancelledError:
            killpg(proc.pid)
            raise
    finally:
        if registry is not None:
            registry.discard(project_id, proc.pid)
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    code = proc.returncode
    exit_code = code if code is not None and code >= 0 else 1
    return ExecOutcome(
        stdout=truncate(out.decode("utf-8", "replace"), opts.max_output),
        stderr=truncate(err.decode("utf-8", "replace"), opts.max_output),
        exit_code=exit_code,
        killed=killed,
        spawned=spawned,
        pid=proc.pid,
        bash=use_bash,
    )


@dataclass
class Job:
    """One ``async_call`` job: started now, finished later, kept for polling."""

    job_id: str
    project_id: str
    start: int  # ms
    task: asyncio.Task | None = None
    outcome: ExecOutcome | None = None
    error: str | None = None
    pid: int | None = None
    finished: float | None = None  # s since epoch

    @property
    def status(self) -> str:
        if self.outcome is None and self.error is None:
            return "running"
        if self.error is not None or (self.outcome and (self.outcome.killed or self.outcome.exit_code)):
            return "error"
        return "completed"


class JobRegistry:
    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}

    def start(self, project_id: str, coro_factory) -> Job:
        job = Job(job_id=str(uuid.uuid4()), project_id=project_id, start=int(time.time() * 1000))

        async def runner() -> None:
            try:
                job.outcome = await coro_factory(job)
            except Exception as exc:  # noqa: BLE001 - recorded for async_get
                job.error = str(exc)
            job.finished = time.time()

        job.task = asyncio.ensure_future(runner())
        self.jobs[job.job_id] = job
        return job

    def get(self, job_id: Any) -> Job | None:
        return self.jobs.get(job_id) if isinstance(job_id, str) else None
