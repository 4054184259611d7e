"""Commands that run in the background: ``p.exec(..., background=True)`` returns an ``ExecJob``.

Current generation: ``system.exec`` with ``async_call`` and polling with ``async_get``; cancel
signals the remote process (``system.signal``). Legacy: the blocking call runs in a thread, and
``cancel()`` only stops waiting (v1 has no way to reach the process; it runs to its timeout).

Recorded behaviour of a real current server: an async job that exits non-zero may come back as
``status: "error"``, ``stderr: "No result"``, ``exit_code: 1`` with its stdout lost; the job
reports what the server says. A job killed at its timeout raises ServerTimeout, as a blocking
exec does.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from ..errors import CoCalcError, CommandFailed, ServerTimeout
from .backends.base import exec_result, exec_timeout_error
from .models import ExecResult

if TYPE_CHECKING:
    from .project import Project

log = logging.getLogger("cocalc_magic.client")


def _finish(result: ExecResult, err_on_exit: bool, command: str) -> ExecResult:
    if err_on_exit and result.exit_code != 0:
        tail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        raise CommandFailed(
            f"command {command!r} exited with code {result.exit_code}{': ' + tail if tail else ''}",
            result=result)
    return result


class ExecJob:
    """A command running in the background. ``poll()`` → result or None; ``wait()``/``result()``
    block (bounded by ``timeout``); ``cancel()`` stops it (current generation: signals the remote
    process; legacy: stops waiting — the remote command runs until its own timeout)."""

    def __init__(self, project: Project, opts: dict[str, Any], err_on_exit: bool) -> None:
        self.project = project
        self.command = opts["command"]
        self._opts = opts
        self._err_on_exit = err_on_exit
        self._result: ExecResult | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self.cancelled = False
        self.job_id: str | None = None
        self.pid: int | None = None
        self._thread: threading.Thread | None = None
        info = project._b.exec_async(project.project_id, opts)
        if info is None:  # legacy: the blocking call in a thread
            self._thread = threading.Thread(target=self._run_blocking, name="cocalc-exec", daemon=True)
            self._thread.start()
        else:
            self.job_id = info.get("job_id")
            self.pid = info.get("pid")
            self._absorb(info)

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled else ("done" if self._done.is_set() else "running")
        return f"ExecJob({self.command!r}, {state}, job_id={self.job_id!r})"

    def _run_blocking(self) -> None:
        try:
            self._result = self.project._b.exec(self.project.project_id, self._opts,
                                                timeout=float(self._opts["timeout"]) + 10)
        except BaseException as exc:  # noqa: BLE001 - handed to wait()
            self._error = exc
        self._done.set()

    def _absorb(self, info: dict[str, Any]) -> None:
        status = info.get("status")
        if status == "error":
            err = exec_timeout_error(str(info.get("stderr") or ""), self._opts.get("timeout"),
                                     "/api/conat/project system.exec (async_get)", 200)
            if err is not None:  # killed at its timeout: an error, as for a blocking exec
                self._error = err
                self._done.set()
                return
        if status in ("completed", "error"):
            self._result = exec_result(info)
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def poll(self) -> ExecResult | None:
        """The result if the command has finished, else None (one quick call on current)."""
        if not self._done.is_set() and self.job_id and not self.cancelled:
            self._absorb(self.project._b.exec_get(self.project.project_id, self.job_id))
        if self._done.is_set():
            return self._value()
        return None

    def wait(self, timeout: float | None = None) -> ExecResult:
        """Block until the command ends (at most ``timeout`` seconds, else ServerTimeout)."""
        limit = float(self._opts["timeout"]) + 30 if timeout is None else float(timeout)
        deadline = time.monotonic() + limit
        delay = 0.05
        while not self._done.is_set():
            if self.cancelled:
                raise CoCalcError(f"the background command {self.command!r} was cancelled",
                                  hint="job_gone")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerTimeout(f"the background command {self.command!r} is still running after {limit:g}s",
                                    hint="job_wait")
            if self.job_id:
                self.poll()
                if self._done.is_set():
                    break
                time.sleep(min(delay, max(remaining, 0)))
                delay = min(delay * 1.5, 0.5)
            else:
                self._done.wait(min(remaining, 0.5))
        return self._value()

    def result(self, timeout: float | None = None) -> ExecResult:
        return self.wait(timeout)

    def _value(self) -> ExecResult:
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return _finish(self._result, self._err_on_exit, self.command)

    def cancel(self) -> bool:
        """Stop the command. True if a signal reached the remote process (current generation).

        The signal goes to the command's process group (``-pid``): CoCalc runs each exec in a
        group of its own and its ``system.signal`` is ``process.kill``, so a plain pid would stop
        only the shell and leave what it started running."""
        if self._done.is_set():
            return False
        self.cancelled = True
        if self.pid:
            try:
                self.project._b.signal(self.project.project_id, -abs(int(self.pid)), 9)
                return True
            except (CoCalcError, NotImplementedError) as err:
                log.info("could not signal pid %s: %s", self.pid, err)
        return False
