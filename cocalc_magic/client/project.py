"""``Project``: a handle on one project (life cycle, files, commands). It holds no connection:
every call goes through its client's backend."""

from __future__ import annotations

import base64
import logging
import re
import shlex
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar

from ..errors import (
    AuthenticationError,
    CoCalcError,
    CommandFailed,
    InvalidRequest,
    PermissionDenied,
    ServerTimeout,
    classify,
)
from .backends.base import Backend
from .jobs import ExecJob, _finish
from .models import ExecResult, KernelSpec, Listing

if TYPE_CHECKING:
    from os import PathLike

    from .cocalc import CoCalc
    from .jupyter.results import KernelSession, RunResult
    from .sync import SyncReport

log = logging.getLogger("cocalc_magic.client")
T = TypeVar("T")
RUNNING_TTL = 300.0  # seconds a "this project is running" observation is trusted
DEFAULT_EXEC_TIMEOUT = 60.0  # seconds; the same on every generation (v1's own default is 10, conat's 60)
DEFAULT_START_TIMEOUT = 120.0


class Project:
    """A handle on one project: files, commands, life cycle. Cheap to make; holds no connection."""

    created = False  # True on the handle cc.create_project (or project(..., create=True)) made it for

    def __init__(self, client: CoCalc, project_id: str, title: str | None = None) -> None:
        self.client = client
        self.project_id = project_id
        self._title = title

    @property
    def title(self) -> str | None:
        if self._title is None:
            try:
                self._title = self.client._b.project_row(self.project_id)["title"]
            except CoCalcError:
                return None
        return self._title

    def __repr__(self) -> str:
        return f"Project({self.project_id!r}, title={self._title!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Project) and other.project_id == self.project_id

    def __hash__(self) -> int:
        return hash(self.project_id)

    @property
    def _b(self) -> Backend:
        return self.client._b

    # -- life cycle -----------------------------------------------------------------
    def state(self) -> str | None:
        """The server's state string: "running", "starting", "opened" (= stopped) ..."""
        state = self._b.state(self.project_id)
        if state == "running":
            self.client._running[self.project_id] = time.monotonic()
        else:
            self.client._running.pop(self.project_id, None)
        return state

    def start(self, wait: bool = True, timeout: float | None = None) -> None:
        """Start the project; with ``wait`` return once it runs (bounded by ``timeout``)."""
        self._b.action(self.project_id, "start")
        if wait:
            self._wait_running(timeout)

    def stop(self) -> None:
        self.client._running.pop(self.project_id, None)
        self._b.action(self.project_id, "stop")

    def restart(self, wait: bool = True, timeout: float | None = None) -> None:
        self.client._running.pop(self.project_id, None)
        self._b.action(self.project_id, "restart")
        if wait:
            self._wait_running(timeout)

    def _wait_running(self, timeout: float | None = None) -> None:
        limit = self.client.start_timeout if timeout is None else float(timeout)
        deadline = time.monotonic() + limit
        delay = 0.05
        last = None
        while True:
            last = self._observed_state()
            if last == "running":
                return
            if time.monotonic() + delay > deadline:
                raise ServerTimeout(
                    f"project {self.title or ''} ({self.project_id}) did not start within {limit:g}s "
                    f"(state: {last})",
                    hint="start_timeout",
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    def _observed_state(self) -> str | None:
        """The state, or on cocalc.ai with a key that may not read it (no project:read), what the
        project bridge shows: "running" when it answers (that needs project:exec only)."""
        try:
            return self.state()
        except PermissionDenied as err:
            if self._b.starts_on_bridge or err.capability != "project:read":
                raise
            up = self._b.bridge_up(self.project_id)
            if up:
                self.client._running[self.project_id] = time.monotonic()
            return "running" if up else "starting"

    def _on_bridge(self, call: Callable[[], T]) -> T:
        """``call()`` on the project bridge. Where the bridge never starts a project (cocalc.ai), one
        that stopped since it was seen running answers nothing: start it, then call once more (the
        first call never reached the project, so nothing ran twice)."""
        try:
            return call()
        except ServerTimeout as err:
            if not self._b.not_running(err):
                raise
        log.info("project %s stopped since it was seen running; starting it", self.project_id)
        self.client._running.pop(self.project_id, None)
        self.start(wait=True)
        return call()

    def ensure_running(self) -> None:
        """Start the project (and wait for it) unless it was seen running recently."""
        seen = self.client._running.get(self.project_id)
        if seen is not None and time.monotonic() - seen < RUNNING_TTL:
            return
        try:
            state = self._observed_state()
        except AuthenticationError:
            if self.client.api != "conat":
                raise
            # a project-scoped key may not ask the hub; the project bridge starts the project itself
            self.client._running[self.project_id] = time.monotonic()
            return
        if state != "running":
            log.info("project %s is not running; starting it", self.project_id)
            self.start(wait=True)

    # -- files -------------------------------------------------------------------------
    def write(self, path: str, content: str) -> None:
        """Write a text file (parents created, overwrites). Fails before sending if over the
        server's body limit, giving the limit and the size."""
        if not isinstance(content, str):
            raise InvalidRequest(f"write() takes text (str), not {type(content).__name__}",
                                 hint="not_text")
        self._check_path(path)
        self.ensure_running()
        self._on_bridge(lambda: self._b.write(self.project_id, path, content))

    def read(self, path: str) -> str:
        """The text of a file."""
        self._check_path(path)
        self.ensure_running()
        return self._on_bridge(lambda: self._b.read(self.project_id, path))

    def exists(self, path: str) -> bool:
        self._check_path(path)
        result = self.exec("test", "-e", path)
        return result.exit_code == 0

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write binary data (sent base64 as a text file, decoded with ``base64 -d`` in the project)."""
        self._check_path(path)
        encoded = base64.b64encode(bytes(data)).decode("ascii")
        tmp = f"{path}.cocalc-magic-b64.tmp"
        self.write(tmp, encoded)
        result = self.exec(f"base64 -d {_q(tmp)} > {_q(path)}; rc=$?; rm -f {_q(tmp)}; exit $rc", bash=True)
        if result.exit_code != 0:
            raise CommandFailed(f"decoding the upload into {path!r} failed: {result.stderr.strip()}",
                                result=result)

    def read_bytes(self, path: str) -> bytes:
        """Binary content of a file (read as base64 through exec)."""
        self._check_path(path)
        result = self.exec("base64", path)
        if result.exit_code != 0:
            raise classify(result.stderr.strip() or f"could not read {path}", endpoint="exec base64")
        return base64.b64decode("".join(result.stdout.split()))

    def listing(self, path: str = "") -> Listing:
        """The entries of a folder (dot files left out), sorted by name."""
        self.ensure_running()
        try:
            return Listing(self._on_bridge(lambda: self._b.listing(self.project_id, path)), path=path)
        except InvalidRequest as err:  # every generation says ENOTDIR in its own words
            if not _NOT_A_DIR.search(err.server_message or ""):
                raise
            raise InvalidRequest(f"{path!r} is a file, not a folder", status=err.status, endpoint=err.endpoint,
                                 server_message=err.server_message, hint="is_file") from None

    def copy_to(self, target: "Project | str", src_path: str, target_path: str | None = None,
                timeout: float | None = None) -> None:
        """Copy a file or folder of this project into ``target`` (a project or its reference)."""
        tid = self.client._pid(target)
        self._b.copy_path(self.project_id, src_path, tid, target_path or src_path, timeout)

    @staticmethod
    def _check_path(path: str) -> None:
        if not isinstance(path, str) or not path.strip():
            raise InvalidRequest("the path is empty", hint="empty_path")

    def sync(self, local: "str | PathLike[str]", remote: str | None = None, dry_run: bool = False,
             delete: bool = False, exclude: "Iterable[str] | str" = (), *, workers: int = 8,
             progress: bool = True) -> "SyncReport":
        """Make a local file or folder and one of this project the same, both ways, losing no edit.

        A change on one side is copied to the other; changes on both sides are a conflict (each
        side keeps its version and gets the other's beside it, ``name.conflict-<side>-<date>.ext``);
        deletions travel only with ``delete``. ``remote`` defaults to the same relative path under
        the home; ``exclude`` adds globs to the defaults (``.git/``, ``__pycache__/``,
        ``.ipynb_checkpoints/``). ``dry_run`` changes nothing and reports what would happen.
        Run it again any time: only what changed since the last sync travels."""
        from .sync import sync

        return sync(self, local, remote, dry_run=dry_run, delete=delete, exclude=exclude, workers=workers,
                    progress=progress)

    # -- Jupyter ---------------------------------------------------------------------------
    def run(self, code: str, kernel: str = "python3", path: str | None = None, history: list[str] | None = None,
            timeout: float | None = None, variables: list[str] | None = None) -> "RunResult":
        """Run ``code`` as one cell in a fresh Jupyter kernel of the project; its outputs, in
        order. ``history`` runs first (its outputs dropped): CoCalc's execute API keeps no state,
        so that is how earlier cells' variables exist (``session()`` keeps it for you).
        ``path`` is the working directory (default: the home). ``timeout`` (s) is the cell's
        time limit (CoCalc's default: 30). ``variables`` names come back in ``.variables``
        (JSON data exactly, pandas DataFrame/Series whole; nothing else, nothing pickled)."""
        from .jupyter.runner import run

        return run(self, code, kernel=kernel, path=path, history=history, timeout=timeout, variables=variables)

    def session(self, kernel: str = "python3", path: str | None = None, name: str = "") -> "KernelSession":
        """Cells that see each other's variables: each ``.run`` replays the cells that succeeded
        before (they run again, every time: side effects repeat); ``.reset()`` forgets them."""
        from .jupyter.results import KernelSession

        return KernelSession(self, kernel=kernel, path=path, name=name)

    def kernels(self) -> list[KernelSpec]:
        """The Jupyter kernels the project offers (name, display name, language)."""
        self.ensure_running()
        return self._b.jupyter_kernels(self.project_id)

    # -- commands ------------------------------------------------------------------------
    def exec(
        self,
        command: str,
        *args: Any,
        bash: bool | None = None,
        timeout: float | None = None,
        path: str | None = None,
        err_on_exit: bool = False,
        max_output: int | None = None,
        background: bool = False,
    ) -> "ExecResult | ExecJob":
        """Run a command in the project. ``args`` go verbatim (no shell); a command with spaces
        and no args runs in bash (as CoCalc does). A non-zero exit is a result unless
        ``err_on_exit``. ``timeout`` (s, default 60) kills the command. ``background=True`` returns
        an ``ExecJob`` at once."""
        if not isinstance(command, str) or not command.strip():
            raise InvalidRequest("the command is empty", hint="empty_command")
        tmo = DEFAULT_EXEC_TIMEOUT if timeout is None else float(timeout)
        if tmo <= 0:
            raise InvalidRequest(f"timeout must be positive, not {timeout!r}")
        opts: dict[str, Any] = {
            "command": command,
            "args": [str(a) for a in args] if args else None,
            "bash": bash,
            "timeout": tmo,
            "path": path or None,
            "max_output": max_output,
        }
        self.ensure_running()
        if background:
            return ExecJob(self, opts, err_on_exit)
        result = self._on_bridge(lambda: self._b.exec(self.project_id, opts, timeout=tmo + 10))
        return _finish(result, err_on_exit, command)


_NOT_A_DIR = re.compile(r"ENOTDIR|Not a directory", re.I)


def _q(text: str) -> str:
    return shlex.quote(text)
