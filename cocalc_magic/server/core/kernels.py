"""Real Jupyter kernels for the stateless execute API, kept warm in a pool as CoCalc keeps them.

CoCalc's project (``jupyter/stateless-api/kernel.ts`` at 5cb3315c30) keeps, per kernel name, a pool
of started kernels (``size`` 2 by default, plus the one being handed out), warms new ones a few
random seconds apart, hands one out per call and closes it after that call: every call starts
from a fresh kernel, so nothing survives between calls except what ``history`` replays. After
``timeout_s`` (default 3600) without a request the pool shrinks to one kernel. Each kernel runs
in a fresh temporary directory (its notebook path is ``<tmp>/execute.ipynb``).

Here the pool is per (project, kernel name), since all projects share one server process. The
kernels are ``jupyter_client`` kernels from the kernelspecs the project sees, started with the
project's environment; their process groups are registered with the project, so stopping the
project (or the server) kills them. Guess: at most ``MAX_IDLE`` warm kernels over all projects
(the oldest idle ones are closed first), since many projects share one small machine here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("cocalc_magic.server.kernels")

DEFAULT_POOL_SIZE = 2
DEFAULT_POOL_TIMEOUT_S = 3600
MIN_POOL_SIZE = 1
MAX_IDLE = 4  # guess: warm kernels kept over all projects of one local server (~60 MB each)
START_TIMEOUT_S = 60.0


class KernelFailed(Exception):
    """The kernel process could not start or died: CoCalc's ``failedError`` text."""


@dataclass
class Spawn:
    """What a kernel of one project starts with."""

    project_id: str
    name: str
    env: dict[str, str]
    tmp_root: Path
    kernel_dirs: list[str] = field(default_factory=list)


class Kernel:
    """One kernel process and its client; used for one call, then closed."""

    def __init__(self, spawn: Spawn, registry: Any = None) -> None:
        self.spawn = spawn
        self.registry = registry
        self.km = None
        self.kc = None
        self.pid: int | None = None
        self.tmp: str | None = None
        self.state = "new"  # new | ready | closed
        self._starting: asyncio.Task | None = None

    @property
    def connection_file(self) -> str:
        return self.km.connection_file if self.km is not None else ""

    def alive(self) -> bool:
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        return self.state != "closed" and (proc is None or proc.poll() is None)

    async def init(self) -> None:
        """Start the kernel (once; concurrent callers wait for the same start)."""
        if self.state == "closed":
            raise KernelFailed("closed")
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        await asyncio.shield(self._starting)

    async def _start(self) -> None:
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager

        sp = self.spawn
        sp.tmp_root.mkdir(parents=True, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="cocalc", dir=sp.tmp_root)
        ksm = KernelSpecManager(kernel_dirs=sp.kernel_dirs) if sp.kernel_dirs else KernelSpecManager()
        km = AsyncKernelManager(kernel_name=sp.name, kernel_spec_manager=ksm, transport="ipc",
                                ip=os.path.join(self.tmp, "kernel"))
        km.connection_file = os.path.join(self.tmp, "kernel.json")
        self.km = km
        log_path = os.path.join(self.tmp, "kernel.log")
        with open(log_path, "wb") as out:
            await km.start_kernel(cwd=self.tmp, env={**sp.env, "COCALC_JUPYTER_FILENAME": f"{self.tmp}/execute.ipynb"},
                                  stdout=out, stderr=out)
        self.pid = getattr(km.provisioner, "pid", None)
        if self.registry is not None and self.pid:
            self.registry.add(sp.project_id, self.pid)
        kc = km.client()
        kc.start_channels()
        self.kc = kc
        try:
            await kc.wait_for_ready(timeout=START_TIMEOUT_S)
        except RuntimeError:
            raise KernelFailed(self._exit_text(log_path)) from None
        if self.state == "closed":
            raise KernelFailed("closed")
        await self.execute("", None)  # as CoCalc does once started
        self.state = "ready"

    def _exit_text(self, log_path: str) -> str:
        """CoCalc's ``Kernel last exited with code N.`` and the kernel's own last words."""
        proc = getattr(self.km.provisioner, "process", None)
        code = proc.poll() if proc is not None else None
        try:
            tail = Path(log_path).read_text(errors="replace")[-2000:]
        except OSError:
            tail = ""
        self.close()
        return f"Kernel last exited with code {code if code is not None else 1}.\n{tail}"

    async def execute(self, code: str, timeout_ms: float | None) -> list[dict]:
        """The iopub messages of running ``code`` (``{msg_type, content, metadata}``), as
        CoCalc's ``execute_code_now`` collects them. At ``timeout_ms`` the kernel gets SIGINT up
        to three times (1 s, 1.3 s, 1.69 s apart), then SIGKILL (execute-code.ts ``timeout``)."""
        if self.kc is None or self.state == "closed":
            raise KernelFailed("kernel already closed")
        msg_id = self.kc.execute(code, silent=False, store_history=True, allow_stdin=False, stop_on_error=True)
        out: list[dict] = []
        loop = asyncio.get_running_loop()
        start = loop.time()
        next_signal = start + timeout_ms / 1000 if timeout_ms else None
        tries, delay = 3, 1.0
        idle = reply = False
        while not (idle and reply):
            if next_signal is not None and loop.time() >= next_signal:
                if tries > 0:
                    await self.km.interrupt_kernel()
                    tries -= 1
                    next_signal = loop.time() + delay
                    delay *= 1.3
                else:
                    self.kill()
                    break
            if not self.alive():  # "kernel crashed": CoCalc throws the kernel's failedError
                raise KernelFailed(self._exit_text(os.path.join(self.tmp or "", "kernel.log")))
            if not idle:
                try:
                    msg = await self.kc.get_iopub_msg(timeout=0.2)
                except queue.Empty:
                    continue
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                out.append({"msg_type": msg["msg_type"], "content": msg["content"]})
                if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                    idle = True
            else:
                try:
                    msg = await self.kc.get_shell_msg(timeout=0.2)
                except queue.Empty:
                    continue
                reply = msg.get("parent_header", {}).get("msg_id") == msg_id
        return out

    async def interrupt(self) -> None:
        if self.km is not None and self.alive():
            await self.km.interrupt_kernel()

    def kill(self) -> None:
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, 9)
            except OSError:
                proc.kill()

    def close(self) -> None:
        """Stop the kernel without waiting for it (CoCalc closes a used kernel the same way)."""
        if self.state == "closed":
            return
        self.state = "closed"
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        self.kill()
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        if proc is not None:
            try:
                proc.wait(timeout=2)
            except Exception:  # noqa: BLE001
                pass
        if self.registry is not None and self.pid:
            self.registry.discard(self.spawn.project_id, self.pid)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


class KernelPool:
    """Warm kernels per (project, kernel name); one handed out per call."""

    def __init__(self, registry: Any = None) -> None:
        self.registry = registry
        self._pools: dict[tuple[str, str], list[Kernel]] = {}
        self._last_active: dict[tuple[str, str], float] = {}
        self._live: list[Kernel] = []  # every kernel not closed yet (pooled and in use)

    async def take(self, spawn: Spawn, size: int = DEFAULT_POOL_SIZE,
                   timeout_s: float = DEFAULT_POOL_TIMEOUT_S) -> Kernel:
        """A started kernel; with ``size <= 0`` one started just for this call (no pool)."""
        self._prune()
        if size <= 0:
            k = self._new(spawn)
            await self._init_or_close(k)
            return k
        key = (spawn.project_id, spawn.name)
        self._idle_timer(key, timeout_s)
        pool = self._pools.setdefault(key, [])
        pool[:] = [k for k in pool if k.alive()]
        i = 1
        while len(pool) <= size:  # <= since one is taken below
            k = self._new(spawn)
            pool.append(k)
            asyncio.get_running_loop().call_later(random.random() * 3 * i, self._prewarm, k)
            i += 1
        k = pool.pop(0)
        await self._init_or_close(k)
        self._cap_idle()
        return k

    async def _init_or_close(self, k: Kernel) -> None:
        try:
            await k.init()
        except BaseException:
            k.close()
            raise

    def _new(self, spawn: Spawn) -> Kernel:
        k = Kernel(spawn, self.registry)
        self._live.append(k)
        return k

    def _prewarm(self, k: Kernel) -> None:
        if k.state != "closed":
            task = asyncio.ensure_future(k.init())
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    def _idle_timer(self, key: tuple[str, str], timeout_s: float) -> None:
        if not timeout_s:
            return
        now = time.monotonic()
        self._last_active[key] = now

        def shrink() -> None:
            if self._last_active.get(key, 0) > now:
                return
            pool = self._pools.get(key, [])
            while len(pool) > MIN_POOL_SIZE:
                pool.pop(0).close()

        asyncio.get_running_loop().call_later(timeout_s, shrink)

    def _cap_idle(self) -> None:
        idle = [(self._last_active.get(key, 0), key) for key, pool in self._pools.items() if pool]
        count = sum(len(p) for p in self._pools.values())
        for _, key in sorted(idle):
            if count <= MAX_IDLE:
                break
            pool = self._pools[key]
            while pool and count > MAX_IDLE:
                pool.pop(0).close()
                count -= 1

    def _prune(self) -> None:
        self._live = [k for k in self._live if k.state != "closed"]

    def running(self, project_id: str) -> list[Kernel]:
        self._prune()
        return [k for k in self._live if k.spawn.project_id == project_id and k.pid and k.alive()]

    def stop(self, project_id: str, pid: Any) -> bool:
        for k in self.running(project_id):
            if k.pid == pid:
                for pool in self._pools.values():
                    if k in pool:
                        pool.remove(k)
                k.close()
                return True
        return False

    def close_project(self, project_id: str) -> None:
        for key in [k for k in self._pools if k[0] == project_id]:
            for k in self._pools.pop(key):
                k.close()
        for k in self.running(project_id):
            k.close()

    def close_all(self) -> None:
        for k in list(self._live):
            k.close()
        self._pools.clear()
        self._live.clear()
