"""The legacy message API: ``POST /api/v1/<event>`` (self-hosted CoCalc until mid-2025).

Answers are ``{"event": <reply event>, "id", ...}``; handler failures come as HTTP 200
``{"event": "error", "error"}``, dispatcher failures as HTTP 400 ``{"error"}``. The schema is
strict: unknown or ``null`` fields are refused, so only fields with values are sent.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from ...errors import InvalidRequest, ProtocolError, classify
from ..models import Account, ExecResult, FileEntry, Identity, JupyterLimits, KernelSpec, UserInfo, parse_time
from .base import (
    ENVELOPE,
    LISTING_SCRIPT,
    V1_FORM_LIMIT,
    V1_JSON_LIMIT,
    Backend,
    exec_failure,
    exec_result,
    kernel_specs,
    listing_entries,
    names,
    user_info,
)


class V1Backend(Backend):
    api = "v1"
    # writes go form-encoded when JSON would pass the 100 kB JSON limit (forms may have 1 MB)
    max_write_bytes = V1_FORM_LIMIT - ENVELOPE

    def call(self, event: str, fields: dict[str, Any] | None = None, *, idempotent: bool = False,
             timeout: float | None = None, form: bool = False, expect: str | None = None) -> dict[str, Any]:
        """POST one message; the reply message, or the mapped error."""
        body = {k: v for k, v in (fields or {}).items() if v is not None}
        endpoint = f"/api/v1/{event}"
        reply = self.t.post(endpoint, body, endpoint=endpoint, idempotent=idempotent, timeout=timeout,
                            form=form, limit=V1_FORM_LIMIT if form else V1_JSON_LIMIT)
        data = self.check(reply.data, endpoint, reply.status)
        if not isinstance(data, dict):
            raise ProtocolError(f"unexpected answer (not a message object): {json.dumps(data)[:200]}",
                                status=reply.status, endpoint=endpoint)
        if expect and data.get("event") not in (expect, None):
            raise ProtocolError(f"expected a {expect!r} message, got {data.get('event')!r}",
                                status=reply.status, endpoint=endpoint)
        return data

    # -- embedding --------------------------------------------------------------
    signin_opens_file = True

    def signin_url(self, host: str, kiosk_url: str, token: str) -> str:
        # the legacy app reads ?auth_token= on any page, the kiosk URL included
        return f"{kiosk_url}&auth_token={quote(token)}"

    # -- account ----------------------------------------------------------------
    def ping(self) -> datetime | None:
        return parse_time(self.call("ping", idempotent=True, expect="pong").get("now"))

    def whoami(self) -> Identity:
        result = self.query({"accounts": {"account_id": None}})
        account_id = (result.get("accounts") or {}).get("account_id") if isinstance(result, dict) else None
        return Identity(account_id=account_id, project_id=None, scope="account")

    def query(self, query: dict[str, Any], *, idempotent: bool = True) -> Any:
        return self.call("query", {"query": query}, idempotent=idempotent).get("query")

    def create_project(self, title: str, description: str, start: bool) -> str:
        data = self.call("create_project", {"title": title, "description": description, "start": start},
                         expect="project_created")
        return data["project_id"]

    def state(self, project_id: str) -> str | None:
        result = self.query({"projects": {"project_id": project_id, "state": None}})
        row = result.get("projects") if isinstance(result, dict) else None
        state = (row or {}).get("state")
        if isinstance(state, dict):
            state = state.get("state")
        return state

    def action(self, project_id: str, action: str) -> None:
        # There never were start/stop/restart messages: a set query on action_request does it, and
        # it fires only when `time` differs from the stored one.
        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.query({"projects": {"project_id": project_id, "action_request": {"action": action, "time": now}}},
                   idempotent=False)

    def auth_token(self, account_id: str, password: str | None) -> str:
        data = self.call("user_auth", {"account_id": account_id, "password": password or ""},
                         expect="user_auth_token")
        return data["auth_token"]

    def create_account(self, email: str, password: str, first_name: str, last_name: str) -> Account:
        data = self.call("create_account", {
            "first_name": first_name, "last_name": last_name, "email_address": email, "password": password,
            "agreed_to_terms": True, "get_api_key": True,
        })
        if data.get("event") == "account_creation_failed":
            reason = data.get("reason")
            text = "; ".join(f"{k}: {v}" for k, v in reason.items()) if isinstance(reason, dict) else str(reason)
            raise InvalidRequest(f"the account was not created: {text}", endpoint="/api/v1/create_account",
                                 server_message=text)
        return Account(account_id=data["account_id"], api_key=data.get("api_key"))

    def user_search(self, query: str, limit: int | None) -> list[UserInfo]:
        data = self.call("user_search", {"query": query, "limit": limit}, idempotent=True)
        return [user_info(r) for r in data.get("results") or []]

    def get_usernames(self, account_ids: list[str]) -> dict[str, dict[str, str]]:
        data = self.call("get_usernames", {"account_ids": list(account_ids)}, idempotent=True)
        return names(data.get("usernames") or {})

    def add_collaborator(self, project_id: str, account_id: str) -> None:
        self.call("add_collaborator", {"project_id": project_id, "account_id": account_id})

    def remove_collaborator(self, project_id: str, account_id: str) -> None:
        self.call("remove_collaborator", {"project_id": project_id, "account_id": account_id})

    def copy_path(self, src_project_id: str, src_path: str, target_project_id: str, target_path: str,
                  timeout: float | None) -> None:
        self.call("copy_path_between_projects", {
            "src_project_id": src_project_id, "src_path": src_path, "target_project_id": target_project_id,
            "target_path": target_path, "wait_until_done": True,
        }, timeout=timeout)

    # -- project ----------------------------------------------------------------
    def exec(self, project_id: str, opts: dict[str, Any], timeout: float) -> ExecResult:
        fields = {"project_id": project_id, **opts, "err_on_exit": False}
        endpoint = "/api/v1/project_exec"
        reply = self.t.post(endpoint, {k: v for k, v in fields.items() if v is not None}, endpoint=endpoint,
                            timeout=timeout, limit=V1_JSON_LIMIT)
        data = reply.data
        if isinstance(data, dict) and data.get("event") == "error":
            result = exec_failure(str(data.get("error")), opts.get("timeout"), endpoint, reply.status)
            if result:
                return result
        return exec_result(self.check(data, endpoint, reply.status))

    def write(self, project_id: str, path: str, content: str) -> None:
        fields = {"project_id": project_id, "path": path, "content": content}
        size = len(json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode())
        # JSON up to the JSON limit; beyond it the form body (1 MB limit) - the server reads both.
        self.call("write_text_file_to_project", fields, form=size > V1_JSON_LIMIT)

    def read(self, project_id: str, path: str) -> str:
        data = self.call("read_text_file_from_project", {"project_id": project_id, "path": path},
                         idempotent=True)
        content = data.get("content")
        if not isinstance(content, str):
            raise ProtocolError("the read answer has no text content", endpoint="/api/v1/read_text_file_from_project")
        return content

    def listing(self, project_id: str, path: str) -> list[FileEntry]:
        # v1 has no listing call: run a small python3 script through project_exec.
        result = self.exec(project_id, {"command": "python3", "args": ["-c", LISTING_SCRIPT, path or "."],
                                        "timeout": 30}, timeout=self.t.timeout + 30)
        if result.exit_code != 0:
            text = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "listing failed"
            raise classify(text, endpoint="/api/v1/project_exec (listing)")
        try:
            rows = json.loads(result.stdout)
        except ValueError:
            raise ProtocolError(f"the listing script printed no JSON: {result.stdout[:100]!r}",
                                endpoint="/api/v1/project_exec (listing)") from None
        return listing_entries(rows)

    # -- jupyter ------------------------------------------------------------------
    # The 2024 hub serves /api/v2/jupyter/execute (since 2023-03) with the caller's account; its
    # v1 message has no account_id and refuses a project. The hub fixes the limits (PROJECT_LIMITS
    # of server/jupyter/execute.ts): 30 s per cell, 1,000,000 characters per cell, 5,000,000 in all.
    jupyter_limits = JupyterLimits(per_cell_s=30.0, settable=False)

    def jupyter_execute(self, project_id: str, opts: dict[str, Any], wait: float) -> Any:
        body = {k: opts[k] for k in ("input", "kernel", "history", "path") if opts.get(k) is not None}
        body.update(project_id=project_id, noCache=True)  # noCache: computed now, not a cached answer
        endpoint = "/api/v2/jupyter/execute"
        reply = self.t.post(endpoint, body, endpoint=endpoint, timeout=wait, limit=V1_FORM_LIMIT)
        data = self.check(reply.data, endpoint, reply.status)
        if not isinstance(data, dict) or not isinstance(data.get("output"), list):
            raise ProtocolError(f"unexpected answer: {json.dumps(data)[:200]}", status=reply.status, endpoint=endpoint)
        return data["output"]

    def jupyter_kernels(self, project_id: str) -> list[KernelSpec]:
        return kernel_specs(self.call("jupyter_kernels", {"project_id": project_id}, idempotent=True,
                                      expect="jupyter_kernels").get("kernels"))
