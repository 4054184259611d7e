"""A small, real CoCalc on loopback: the embedded default for trying and testing everything.

``LocalServer`` runs the tornado app on its own event loop in a daemon thread, so a test, a
notebook or ``cocalc-magic serve`` can start one in a fraction of a second::

    with LocalServer(api="v1") as srv:
        print(srv.url, srv.account_id)   # srv.api_key is the admin account's key
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

API_GENERATIONS = ("v1", "conat", "ai")
ALIASES = {"current": "conat"}  # this project's first name for the conat generation
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# No route takes more than Next's 1 MiB; guard.py sets each request's own limit before its body
# is read, this is only the ceiling of a connection's.
MAX_BODY_SIZE = 2 * 1024 * 1024
ADMIN_EMAIL = "admin@cocalc.local"
ADMIN_KEY_NAME = "local server admin"  # the key each start makes (and the next start revokes)


class LocalServer:
    """A CoCalc-compatible server. ``api`` picks the generation it plays: "v1" (an older
    self-hosted CoCalc), "conat" (a self-hosted CoCalc of 2025-2026; "current" is an alias) or
    "ai" (cocalc.ai: ``api_key`` is then an ``sk-cc-v2.`` key allowed on ``project_id``)."""

    def __init__(
        self,
        data_dir: str | os.PathLike | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        api: str = "conat",
        *,
        demo: bool = False,
        start_delay: float = 0.2,
        allow_http_parents: bool = False,
        iframe_comm_hosts: str | None = None,
        allow_non_loopback: bool = False,
        frame_ancestors: str | None = None,
        allowed_hosts: list[str] | tuple[str, ...] = (),
        allow_sign_up: bool = False,
    ):
        api = ALIASES.get(api, api)
        if api not in API_GENERATIONS:
            raise ValueError(f"api must be one of {API_GENERATIONS}, not {api!r}")
        if host not in LOOPBACK and not allow_non_loopback:
            raise ValueError(
                f"refusing to bind to {host!r}: anyone who reaches it with a key can run commands. "
                "Pass allow_non_loopback=True (cocalc-magic serve --dangerously-bind-non-loopback) to do it anyway."
            )
        # Without data_dir: a temporary one, made by start() and removed by stop() (or at exit), so
        # a server that is made but never started, or fails to start, leaves nothing behind.
        self._own_data = not data_dir
        self._tmp: str | None = None
        self.data_dir: Path | None = Path(data_dir) if data_dir else None
        self.host, self.port, self.api = host, port, api
        self.demo = demo
        self.start_delay = start_delay
        self.allow_http_parents = allow_http_parents
        self.frame_ancestors = frame_ancestors  # e.g. "'none'" to test the framing-forbidden path
        self.iframe_comm_hosts = iframe_comm_hosts
        # Host names answered besides loopback and the bind address ("*": any); see guard.py
        self.allowed_hosts = tuple(allowed_hosts)
        self.allow_sign_up = allow_sign_up  # anyone reaching the port may create an account
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.ctx = None
        self.app = None  # the tornado Application, once started
        self.account_id: str = ""
        self.api_key: str = ""
        self.email: str = ""
        self.password: str = ""
        self.project_id: str = ""  # ai: the project the first key is allowed on

    # ------------------------------------------------------------------ public
    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def __repr__(self) -> str:
        state = "running" if self._thread else "stopped"
        return f"LocalServer(url={self.url!r}, api={self.api!r}, {state})"

    def start(self) -> "LocalServer":
        if self._thread:
            return self
        if self._own_data and self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="cocalc-local-")
            self.data_dir = Path(self._tmp)
            atexit.register(self._remove_tmp)  # a kernel that exits without stop()
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="cocalc-local-server", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error:
            error = self._error
            self.stop()
            raise error
        return self

    def stop(self) -> None:
        if self._loop and self._thread:
            if self.ctx:  # commands still running in projects die with the server
                self.ctx.runtime.processes.kill_everything()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._thread = None
        if self.ctx:
            self.ctx.store.close()
            self.ctx = None
        self._remove_tmp()

    def _remove_tmp(self) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            atexit.unregister(self._remove_tmp)
            self._tmp = None

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """Environment variables that point a client at this server."""
        out = {"COCALC_HOST": self.url, "COCALC_API_KEY": self.api_key}
        if self.project_id:
            out["COCALC_PROJECT_ID"] = self.project_id
        return out

    def create_key(
        self,
        capabilities: "list[str] | tuple[str, ...] | None" = None,
        projects: "list[str] | tuple[str, ...] | None" = None,
        *,
        name: str = "test key",
        expire_s: float | None = None,
        account_id: str | None = None,
    ) -> str:
        """A new cocalc.ai key (``api="ai"`` only), as Account → API keys makes one; returns it.

        ``capabilities``: default all nine; ``projects``: the allowed list, default
        ``[project_id]``; ``expire_s``: seconds until it expires; ``account_id``: default the admin.
        Raises ValueError with cocalc-ai's text for a scope it refuses (e.g. a project capability
        with no project), so tests can make a key that lacks any capability or project.
        """
        if self.api != "ai" or not self.ctx:
            raise ValueError("create_key needs a running LocalServer(api='ai')")
        from .ai import new_key

        return new_key(self.ctx.store, account_id or self.account_id, capabilities,
                       [self.project_id] if projects is None else projects, name=name, expire_s=expire_s)

    def edit_key(
        self,
        key: str | None = None,
        *,
        capabilities: "list[str] | None" = None,
        projects: "list[str] | None" = None,
        add_projects: "list[str] | tuple[str, ...]" = (),
    ) -> None:
        """Change a cocalc.ai key's scope, as Account → API keys → edit does (``api="ai"``).

        ``key`` defaults to ``api_key``; ``capabilities``/``projects`` replace (None: unchanged);
        ``add_projects`` appends, e.g. a project the key just created (cocalc.ai never adds it).
        """
        if self.api != "ai" or not self.ctx:
            raise ValueError("edit_key needs a running LocalServer(api='ai')")
        from .ai import edit_key

        edit_key(self.ctx.store, key or self.api_key, capabilities, projects, add_projects)

    # ------------------------------------------------------------------ internals
    def _run(self) -> None:
        try:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            if tasks:  # let cancelled exec calls reap their (killed) processes before the loop closes
                self._loop.run_until_complete(asyncio.wait(tasks, timeout=5))
            self._loop.close()

    async def _serve(self) -> None:
        import tornado.httpserver
        import tornado.netutil

        from .core.projects import ProjectRuntime
        from .core.store import Store
        from .http import ServerContext, install_log_masking
        from .routes import make_app

        install_log_masking()
        store = Store(self.data_dir)
        ctx = ServerContext(
            store=store,
            runtime=ProjectRuntime(store, start_delay=self.start_delay),
            api=self.api,
            allow_http_parents=self.allow_http_parents,
            frame_ancestors=self.frame_ancestors,
            bind_host=self.host,
            allowed_hosts=self.allowed_hosts,
            allow_sign_up=self.allow_sign_up,
        )
        if self.iframe_comm_hosts is not None:
            store.set_setting("iframe_comm_hosts", self.iframe_comm_hosts)
        self._load_admin(store)
        demo_ids: list[str] = []
        if self.demo:
            from .demo import seed

            demo_ids = seed(store, self.account_id)
        if self.api == "ai":  # cocalc.ai makes keys in its web UI only: start with one project and key
            from . import ai

            self.project_id, self.api_key = ai.bootstrap(store, self.data_dir, self.account_id)
            ai.allow(store, self.api_key, demo_ids)
        sockets = tornado.netutil.bind_sockets(self.port, self.host, family=socket.AF_UNSPEC)
        self.port = sockets[0].getsockname()[1]
        ctx.base_url = self.url
        self.app = make_app(ctx)
        server = tornado.httpserver.HTTPServer(self.app, max_body_size=MAX_BODY_SIZE, xheaders=False)
        server.add_sockets(sockets)
        self.ctx = ctx

    def _load_admin(self, store) -> None:
        """The admin account, with a fresh key and password for this run.

        ``admin.json`` (mode 0600) names the account and holds no secret: a command run in any
        project can read the data dir, and a key or password kept there would give every
        account, project key and script the admin's rights. The key is made anew on each start
        (the previous start's one stops working) and printed by ``serve``; the password lives
        in this object only, for signing a browser in (``srv.password``).
        """
        import secrets

        path = self.data_dir / "admin.json"
        try:
            known = json.loads(path.read_text()).get("account_id")
        except (OSError, ValueError, AttributeError):
            known = None
        self.email = ADMIN_EMAIL
        acct = (store.account(known) if known else None) or store.account_by_email(self.email)
        self.password = secrets.token_urlsafe(16)
        if acct:
            self.account_id = acct["account_id"]
            self.email = acct["email_address"] or self.email
            store.set_password(self.account_id, self.password)
        else:
            self.account_id = store.create_account(self.email, self.password, "Local", "Admin", admin=True)
        for row in store.api_keys(self.account_id):
            if row["name"] == ADMIN_KEY_NAME and not row["project_id"]:
                store.delete_api_key(row["id"])
        _, self.api_key = store.create_api_key(self.account_id, name=ADMIN_KEY_NAME)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"account_id": self.account_id, "email": self.email}, fh)


__all__ = ["LocalServer", "API_GENERATIONS"]
