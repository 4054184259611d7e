"""The current API generation: the conat bridges ``/api/conat/hub`` and ``/api/conat/project``,
plus ``/api/v2`` where the bridges have no call (account sign-up).

Every bridge reply is HTTP 200: the bare return value, or ``{"error": text}``. The bridges read
a body only with ``Content-Type: application/json``. ``timeout`` in the body (ms, default 15 s)
is how long the bridge waits; it is set from the call's own timeout so long calls are not cut.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ...errors import (
    AuthenticationError,
    CoCalcError,
    InvalidRequest,
    NotSupported,
    ProtocolError,
    ServerError,
    classify,
)
from ..models import Account, ExecResult, FileEntry, Identity, KernelSpec, UserInfo, parse_time
from ..transport import error_in
from .base import (
    CURRENT_LIMIT,
    ENVELOPE,
    Backend,
    exec_failure,
    exec_result,
    kernel_specs,
    listing_entries,
    names,
    user_info,
)

# cocalc.ai (auth/sign-in asks for a second factor; api-keys refuses to create keys over HTTP)
KEYS_IN_WEB_UI = "cocalc.ai makes API keys only in its web interface, after a two-factor sign-in"
KEYS_IN_WEB_UI_HINT = ("Create a key there (Account → API keys) and paste it into `%cocalc login` "
                       "(without --email), or pass it as CoCalc(api_key=...)")

HUB = "/api/conat/hub"
PROJECT = "/api/conat/project"
SLACK = 5.0  # seconds the HTTP wait exceeds the bridge's own wait, so the bridge answers first


class ConatBackend(Backend):
    api = "conat"
    body_limit = CURRENT_LIMIT  # bytes the server reads per request (a larger body is refused before sending)
    max_write_bytes = body_limit - ENVELOPE

    # -- raw calls ----------------------------------------------------------------
    def hub(self, name: str, *args: Any, idempotent: bool = False, timeout: float | None = None,
            raw: bool = False) -> Any:
        return self._bridge(HUB, None, name, args, idempotent, timeout, raw)

    def project(self, project_id: str | None, name: str, *args: Any, idempotent: bool = False,
                timeout: float | None = None, raw: bool = False) -> Any:
        return self._bridge(PROJECT, project_id, name, args, idempotent, timeout, raw)

    def _bridge(self, bridge: str, project_id: str | None, name: str, args: tuple[Any, ...], idempotent: bool,
                timeout: float | None, raw: bool) -> Any:
        """One call on a conat bridge: the return value (or the raw answer with ``raw``)."""
        timeout = self.t.timeout if timeout is None else timeout
        body: dict[str, Any] = {"name": name, "args": list(args), "timeout": int(timeout * 1000)}
        if project_id:
            body["project_id"] = project_id
        endpoint = f"{bridge} {name}"
        reply = self.t.post(bridge, body, endpoint=endpoint, idempotent=idempotent, timeout=timeout + SLACK,
                            limit=self.body_limit)
        return reply.data if raw else self.check(reply.data, endpoint, reply.status)

    def probe(self) -> Any:
        """The detection probe: ``system.ping`` on the hub bridge, its raw answer. A server of the
        legacy generation answers it with a 404 or an HTML page (NotFound / ProtocolError)."""
        return self.t.post(HUB, {"name": "system.ping", "args": []}, endpoint=f"{HUB} system.ping (probe)",
                           idempotent=True).data

    def v2(self, path: str, body: dict[str, Any], *, idempotent: bool = False) -> Any:
        endpoint = f"/api/v2/{path}"
        reply = self.t.post(endpoint, body, endpoint=endpoint, idempotent=idempotent, limit=self.body_limit)
        return self.check(reply.data, endpoint, reply.status)

    # -- embedding --------------------------------------------------------------
    def signin_url(self, host: str, kiosk_url: str, token: str) -> str:
        # current CoCalc ignores ?auth_token= on the kiosk URL: /auth/impersonate sets the cookie
        return f"{host}/auth/impersonate?auth_token={quote(token)}"

    # -- account ----------------------------------------------------------------
    def ping(self) -> datetime | None:
        """The hub's ``system.ping``; a project-scoped key, which the hub bridge refuses like a
        wrong key, pings its project instead (every valid key pings)."""
        try:
            data = self.hub("system.ping", idempotent=True)
        except AuthenticationError as hub_err:
            try:
                data = self.project(None, "system.ping", idempotent=True)
            except CoCalcError:  # not a project key either: the hub's refusal is the answer
                raise hub_err from None
        return parse_time(data.get("now")) if isinstance(data, dict) else None

    def whoami(self) -> Identity:
        try:
            data = self.hub("system.test", idempotent=True)
            return Identity(account_id=data.get("account_id"), project_id=None, scope="account")
        except AuthenticationError as hub_err:
            # a project-scoped key is refused by the hub bridge but works on the project bridge
            try:
                data = self.project(None, "system.test", idempotent=True)
            except AuthenticationError:
                raise hub_err from None
            return Identity(account_id=None, project_id=data.get("project_id"), scope="project")

    def query(self, query: dict[str, Any], *, idempotent: bool = True) -> Any:
        return self.hub("db.userQuery", {"query": query}, idempotent=idempotent)

    def create_project(self, title: str, description: str, start: bool) -> str:
        pid = self.hub("projects.createProject", {"title": title, "description": description, "start": start})
        if not isinstance(pid, str):
            raise ProtocolError(f"createProject returned {json.dumps(pid)[:100]}, not a project id",
                                endpoint=f"{HUB} projects.createProject")
        return pid

    def state(self, project_id: str) -> str | None:
        data = self.hub("projects.state", {"project_id": project_id}, idempotent=True)
        return data.get("state") if isinstance(data, dict) else None

    def action(self, project_id: str, action: str) -> None:
        # projects.start/stop return once done (start ~2 s, stop ~8-10 s on cocalc): allow time
        if action == "restart":
            self.hub("projects.stop", {"project_id": project_id}, timeout=max(self.t.timeout, 60))
            action = "start"
        self.hub(f"projects.{action}", {"project_id": project_id}, timeout=max(self.t.timeout, 60))

    def auth_token(self, account_id: str, password: str | None) -> str:
        opts: dict[str, Any] = {"user_account_id": account_id}
        if password:
            opts["password"] = password
        token = self.hub("system.generateUserAuthToken", opts)
        if not isinstance(token, str):
            raise ProtocolError("generateUserAuthToken returned no token",
                                endpoint=f"{HUB} system.generateUserAuthToken")
        return token

    def create_account(self, email: str, password: str, first_name: str, last_name: str) -> Account:
        endpoint = "/api/v2/auth/sign-up"
        reply = self.t.post(endpoint, {"email": email, "password": password, "firstName": first_name,
                                       "lastName": last_name, "terms": True}, endpoint=endpoint)
        data = reply.data
        if isinstance(data, dict) and data.get("issues"):
            issues = data["issues"]
            text = "; ".join(f"{k}: {v}" for k, v in issues.items()) if isinstance(issues, dict) else str(issues)
            err = classify(text, status=reply.status, endpoint=endpoint, default=InvalidRequest)
            if type(err) is ServerError:
                err = InvalidRequest(f"the account was not created: {text}", endpoint=endpoint, server_message=text)
            raise err
        data = self.check(data, endpoint, reply.status)
        return Account(account_id=data["account_id"], api_key=None)

    def sign_in_for_key(self, email: str, password: str, key_name: str) -> str:
        """Sign in (the transport keeps the cookie) and create an account API key; its secret."""
        reply = self.t.post("/api/v2/auth/sign-in", {"email": email, "password": password},
                            endpoint="/api/v2/auth/sign-in")
        text = error_in(reply.data)
        if text is not None:
            raise AuthenticationError(f"sign-in failed: {text}", status=reply.status,
                                      endpoint="/api/v2/auth/sign-in", server_message=text,
                                      hint="sign_in")
        if isinstance(reply.data, dict) and reply.data.get("mfa_required"):  # cocalc.ai: a second factor
            raise NotSupported(KEYS_IN_WEB_UI, endpoint="/api/v2/auth/sign-in", hint=KEYS_IN_WEB_UI_HINT)
        reply = self.t.post("/api/v2/api-keys", {"action": "create", "name": key_name},
                            endpoint="/api/v2/api-keys")
        text = error_in(reply.data)
        if text is not None and "mutations are disabled" in text:
            raise NotSupported(KEYS_IN_WEB_UI, endpoint="/api/v2/api-keys", server_message=text,
                               hint=KEYS_IN_WEB_UI_HINT)
        if text is not None:
            raise classify(text, status=reply.status, endpoint="/api/v2/api-keys")
        rows = (reply.data or {}).get("response") if isinstance(reply.data, dict) else None
        secret = rows[0].get("secret") if isinstance(rows, list) and rows and isinstance(rows[0], dict) else None
        if not secret:
            raise ProtocolError("the server created no API key (no secret in the answer)",
                                endpoint="/api/v2/api-keys")
        return secret

    def org(self, fn: str, opts: dict[str, Any], *, idempotent: bool = False) -> Any:
        return self.hub(f"org.{fn}", opts, idempotent=idempotent)

    def user_search(self, query: str, limit: int | None) -> list[UserInfo]:
        opts: dict[str, Any] = {"query": query}
        if limit is not None:
            opts["limit"] = limit
        rows = self.hub("system.userSearch", opts, idempotent=True)
        return [user_info(r) for r in rows or []]

    def get_usernames(self, account_ids: list[str]) -> dict[str, dict[str, str]]:
        return names(self.hub("system.getNames", list(account_ids), idempotent=True) or {})

    def add_collaborator(self, project_id: str, account_id: str) -> None:
        self.hub("projects.addCollaborator", {"opts": {"project_id": project_id, "account_id": account_id}})

    def remove_collaborator(self, project_id: str, account_id: str) -> None:
        self.hub("projects.removeCollaborator", {"opts": {"project_id": project_id, "account_id": account_id}})

    def copy_path(self, src_project_id: str, src_path: str, target_project_id: str, target_path: str,
                  timeout: float | None) -> None:
        opts = {"src_project_id": src_project_id, "src_path": src_path, "target_project_id": target_project_id,
                "target_path": target_path}
        self.hub("projects.copyPathBetweenProjects", opts, timeout=timeout or max(self.t.timeout, 60))

    # -- project ----------------------------------------------------------------
    def exec(self, project_id: str, opts: dict[str, Any], timeout: float) -> ExecResult:
        # err_on_exit:false always: otherwise a non-zero exit is an error and stdout is lost
        args = {k: v for k, v in {**opts, "err_on_exit": False}.items() if v is not None}
        endpoint = f"{PROJECT} system.exec"
        data = self.project(project_id, "system.exec", args, timeout=timeout, raw=True)
        text = error_in(data)
        if text is not None:
            result = exec_failure(text, opts.get("timeout"), endpoint, 200)
            if result:
                return result
            self.check(data, endpoint)
        if not isinstance(data, dict):
            raise ProtocolError(f"unexpected exec answer: {json.dumps(data)[:200]}", endpoint=endpoint)
        return exec_result(data)

    def exec_async(self, project_id: str, opts: dict[str, Any]) -> dict[str, Any] | None:
        args = {k: v for k, v in {**opts, "err_on_exit": False, "async_call": True}.items() if v is not None}
        data = self.project(project_id, "system.exec", args)
        if not isinstance(data, dict) or not data.get("job_id"):
            raise ProtocolError(f"async exec returned no job id: {json.dumps(data)[:200]}",
                                endpoint=f"{PROJECT} system.exec")
        return data

    def exec_get(self, project_id: str, job_id: str) -> dict[str, Any]:
        data = self.project(project_id, "system.exec", {"async_get": job_id}, idempotent=True)
        if not isinstance(data, dict):
            raise ProtocolError(f"async_get returned {json.dumps(data)[:200]}", endpoint=f"{PROJECT} system.exec")
        return data

    def signal(self, project_id: str, pid: int, signal: int = 15) -> None:
        self.project(project_id, "system.signal", {"signal": signal, "pid": pid})

    def write(self, project_id: str, path: str, content: str) -> None:
        self.project(project_id, "system.writeTextFileToProject", {"path": path, "content": content})

    def read(self, project_id: str, path: str) -> str:
        data = self.project(project_id, "system.readTextFileFromProject", {"path": path}, idempotent=True)
        if not isinstance(data, str):
            raise ProtocolError("the read answer is not text", endpoint=f"{PROJECT} system.readTextFileFromProject")
        return data

    def listing(self, project_id: str, path: str) -> list[FileEntry]:
        return listing_entries(self.project(project_id, "system.listing", {"path": path}, idempotent=True))

    # -- jupyter ------------------------------------------------------------------
    def jupyter_execute(self, project_id: str, opts: dict[str, Any], wait: float) -> Any:
        # the project's own call: the hub's jupyter.execute answers identical code from a
        # month-long cache (server/jupyter/execute.ts)
        return self.project(project_id, "system.jupyterExecute", opts, timeout=wait)

    def jupyter_kernels(self, project_id: str) -> list[KernelSpec]:
        return kernel_specs(self.hub("jupyter.kernels", {"project_id": project_id}, idempotent=True))
