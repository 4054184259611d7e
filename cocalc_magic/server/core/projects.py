"""Project life cycle: opened (stopped) -> starting -> running, and back on stop.

A real CoCalc project takes a while to start, and exec/read/write start it on demand; clients
must cope with that, so the local server reproduces it with a configurable ``start_delay``.
CoCalc has no "stopped" state: a stopped or never-started project is "opened".
"""

from __future__ import annotations

import asyncio
import os
import uuid

from .execute import JobRegistry, ProcessRegistry
from .store import Store, now_ms


class ProjectRuntime:
    def __init__(self, store: Store, start_delay: float = 0.3):
        self.store = store
        self.start_delay = start_delay
        self.processes = ProcessRegistry()
        self.jobs = JobRegistry()
        self._starting: dict[str, asyncio.Task] = {}
        self._status: dict[str, dict] = {}
        # Processes do not survive a server restart, so neither does "running".
        store.execute("UPDATE projects SET state='opened', state_time=? WHERE state!='opened'", (now_ms(),))

    def state(self, project_id: str) -> dict:
        """``{"state", "time" (ms), "ip"}`` as the hub reports it."""
        p = self.store.project(project_id)
        if not p:
            return {}
        return {"ip": "127.0.0.1", "state": p["state"], "time": p["state_time"]}

    def status(self, project_id: str) -> dict:
        """The running project's process facts (empty when not running), as projects.status gives."""
        p = self.store.project(project_id)
        if not p or p["state"] != "running":
            return {}
        return dict(self._status.get(project_id, {}))

    def _set_state(self, project_id: str, state: str) -> None:
        self.store.update_project(project_id, state=state, state_time=now_ms())

    async def start(self, project_id: str) -> None:
        """Start (idempotent); returns once the project is running."""
        p = self.store.project(project_id)
        if not p or p["state"] == "running":
            return
        task = self._starting.get(project_id)
        if task is None:
            task = asyncio.ensure_future(self._boot(project_id))
            self._starting[project_id] = task
        await asyncio.shield(task)

    def request_start(self, project_id: str) -> None:
        """Begin starting without waiting (the v1 action_request and v2 start return at once)."""
        p = self.store.project(project_id)
        if p and p["state"] != "running" and project_id not in self._starting:
            self._starting[project_id] = asyncio.ensure_future(self._boot(project_id))

    async def _boot(self, project_id: str) -> None:
        try:
            self._set_state(project_id, "starting")
            self.store.home(project_id).mkdir(parents=True, exist_ok=True)
            if self.start_delay:
                await asyncio.sleep(self.start_delay)
            self._status[project_id] = {
                "project.pid": os.getpid(),
                "hub-server.port": 0,
                "browser-server.port": 0,
                "start_ts": int(now_ms()),
                "session_id": str(uuid.uuid4()),
            }
            self._set_state(project_id, "running")
        finally:
            self._starting.pop(project_id, None)

    async def stop(self, project_id: str) -> None:
        task = self._starting.pop(project_id, None)
        if task:
            task.cancel()
        self.processes.kill_all(project_id)
        if getattr(self, "kernel_pool", None) is not None:  # core.jupyter's pool: its kernels die too
            self.kernel_pool.close_project(project_id)
        self._status.pop(project_id, None)
        if self.store.project(project_id):
            self._set_state(project_id, "opened")

    async def restart(self, project_id: str) -> None:
        await self.stop(project_id)
        await self.start(project_id)

    async def ensure_running(self, project_id: str) -> None:
        """What CoCalc does before exec/read/write: start the project if it is not running."""
        await self.start(project_id)
