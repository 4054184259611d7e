"""cocalc.ai (sagemathinc/cocalc-ai): the conat bridges with account keys that carry capabilities
and allowed projects (``sk-cc-v2.<key id>.<secret>``).

What differs from ``conat`` (facts sheet and ``real-ai-transcripts.md``): a key may call only 8
hub functions; projects are listed, started and stopped through ``/api/v2/projects/*``; the
project bridge needs ``project:exec`` for every call and never starts a project (a stopped one
answers a 408 after the bridge's timeout), so the client starts it and waits; files are copied
through ``/api/v2/projects/copy-path``. What keys may not do at all (sign-in tokens, accounts,
user search, collaborators, database queries) raises ``NotSupported`` before any request.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from ...errors import (AuthenticationError, CoCalcError, NotFound, NotSupported, PermissionDenied, ProtocolError,
                       ServerTimeout)
from ..models import Account, Identity, KernelSpec, UserInfo, parse_time
from .base import ENVELOPE, kernel_specs, names
from .conat import HUB, ConatBackend

KEY_PREFIXES = ("sk-cc-v2.", "sk-cocalc-v2.")  # api-keys.ts parses the older prefix too
STOPPED = re.compile(r"operation has timed out subject:project\.([0-9a-f-]{36})\.api")  # a stopped project
BRIDGE_PING_MS = 3000  # a running project answers system.ping at once; a stopped one only times out
ALL_PROJECTS = 100_000
RECENT_PROJECTS = 50  # projects/get's default limit
AI_LIMIT = 10 * 1024 * 1024  # http-api/lib/router.ts: express.json({ limit: "10mb" })

# what the magics need, and which capability each needs (api-key-scope.ts, http-api-key-policy.ts)
CAPABILITIES = (
    ("project:list", "list projects (%cocalc projects, cc.projects())"),
    ("project:create", "create projects (%cocalc create)"),
    ("project:read", "a project's state (%cocalc state, p.state())"),
    ("project:exec", "exec, files, start/stop, Jupyter (%cocalc exec/ls/cat/write/start, p.exec/read/write)"),
    ("file:read", "copy from a project (p.copy_to: the source)"),
    ("file:write", "copy into a project (p.copy_to: the target)"),
    ("account:read", "account names (cc.get_usernames)"),
)

NO_KEYS = {
    "auth_token": ("make sign-in tokens",
                   "Open the file in CoCalc in a new tab and sign in there; the panel shows a read-only view of it"),
    "create_account": ("create accounts",
                       "New users sign up in the browser at the server's address"),
    "user_search": ("search for users",
                    "Find people in the web interface (a project's Settings → Collaborators)"),
    "add_collaborator": ("add collaborators",
                         "Add them in the web interface (the project's Settings → Collaborators)"),
    "remove_collaborator": ("remove collaborators",
                            "Remove them in the web interface (the project's Settings → Collaborators)"),
    "query": ("run database queries (db.userQuery)",
              "cc.projects() lists projects and p.state() tells a project's state with a key"),
}


def is_ai_key(key: str | None) -> bool:
    """Whether a key can only be a cocalc.ai key (no other generation makes this kind)."""
    return bool(key) and str(key).startswith(KEY_PREFIXES)


def key_id(key: str | None) -> str | None:
    """The public id part of a cocalc.ai key (``sk-cc-v2.<id>.<secret>``): not secret, it names the
    key in Account → API keys."""
    if not is_ai_key(key):
        return None
    parts = str(key).split(".")
    return parts[1] if len(parts) >= 3 else None


def not_supported(what: str, endpoint: str | None = None) -> NoReturn:
    text, instead = NO_KEYS[what]
    raise NotSupported(f"cocalc.ai does not let API keys {text}", endpoint=endpoint, hint=instead)


class AiBackend(ConatBackend):
    api = "ai"
    body_limit = AI_LIMIT
    max_write_bytes = AI_LIMIT - ENVELOPE
    makes_signin_tokens = False  # no API call signs a browser in (the panel renders the file itself)
    starts_on_bridge = False  # the project bridge never starts a project: start it through v2 first

    def __init__(self, transport: Any) -> None:
        super().__init__(transport)
        self.titles: dict[str, str] = {}  # from /api/v2/projects/get, for messages
        self.created: set[str] = set()  # projects this client made: not in the key's allowed list

    # -- errors: a refusal for a project this key made says why ----------------------------
    def check(self, data: Any, endpoint: str, status: int = 200) -> Any:
        try:
            return super().check(data, endpoint, status)
        except PermissionDenied as err:
            raise self.explain(err) from None
        except ServerTimeout as err:
            m = STOPPED.search(err.server_message or "")
            if not m:
                raise
            title = self.titles.get(m.group(1))
            raise ServerTimeout(
                f"project {repr(title) + ' ' if title else ''}({m.group(1)}) did not answer: it is not running, and "
                "cocalc.ai does not start a project for a call to it", status=err.status, endpoint=err.endpoint,
                server_message=err.server_message, hint="not_running") from None
        except AuthenticationError as err:
            if not self.t.has_key or self.t.key_starts(KEY_PREFIXES):
                raise
            raise AuthenticationError(
                "this is cocalc.ai's API, and the key is not one of its keys (they start with sk-cc-v2.; "
                "cocalc.com's keys were not carried over)", status=err.status, endpoint=err.endpoint,
                server_message=err.server_message,
                hint="Create a key in cocalc.ai's web interface (Account → API keys) and use that one") from None

    def explain(self, err: PermissionDenied) -> PermissionDenied:
        """A project refusal naming the project, and for a project this key created, why."""
        pid = err.project_id
        if not pid:
            return err
        title = self.titles.get(pid)
        name = f"'{title}' ({pid})" if title else pid
        if pid in self.created:
            return PermissionDenied(
                f"this API key created project {name}, but cocalc.ai does not add new projects to a key's allowed "
                f"projects, so the key may not use it ('{err.capability}')", capability=err.capability,
                project_id=pid, status=err.status, endpoint=err.endpoint, server_message=err.server_message,
                hint="In Account → API keys, edit the key and add this project to its allowed projects")
        if title:
            return PermissionDenied(
                f"this API key lacks the '{err.capability}' capability for project {name} (the capability, or the "
                f"project, is missing from the key)", capability=err.capability, project_id=pid, status=err.status,
                endpoint=err.endpoint, server_message=err.server_message, hint=err.hint)
        return err

    def v2(self, path: str, body: dict[str, Any], *, idempotent: bool = False, timeout: float | None = None) -> Any:
        endpoint = f"/api/v2/{path}"
        try:
            reply = self.t.post(endpoint, body, endpoint=endpoint, idempotent=idempotent, timeout=timeout,
                                limit=self.body_limit)
        except NotFound as err:
            if err.status != 404:
                raise
            # a self-hosted Launchpad started by its own launcher mounts only the auth routes of /api/v2
            raise NotSupported(f"this server does not offer {endpoint} (a CoCalc Launchpad mounts only its sign-in "
                               "routes there), so a key cannot list, start, stop or copy projects on it",
                               status=404, endpoint=endpoint,
                               hint="Do that in its web interface; on a running project p.exec, p.read and p.write "
                                    "work with the project's id") from None
        return self.check(reply.data, endpoint, reply.status)

    # -- account ------------------------------------------------------------------------------
    def whoami(self) -> Identity:
        # no call tells a key its account (system.test is refused); the facade adds the key's id
        return Identity(account_id=None, project_id=None, scope="account")

    def query(self, query: dict[str, Any], *, idempotent: bool = True) -> Any:
        not_supported("query", f"{HUB} db.userQuery")

    def list_projects(self, all: bool) -> list[dict[str, Any]]:
        # projects/get.ts: the `limit` most recently edited (default 50); the schema sets no upper bound, so
        # "every project" is a large limit (a guess at what counts as every project: 100,000)
        rows = self.v2("projects/get", {"limit": ALL_PROJECTS} if all else {}, idempotent=True)
        if not isinstance(rows, list):
            raise ProtocolError(f"unexpected answer to projects/get: {json.dumps(rows)[:200]}",
                                endpoint="/api/v2/projects/get")
        out = []
        for r in rows:
            if isinstance(r, dict) and r.get("project_id"):
                pid = str(r["project_id"])
                title = str(r.get("title") if r.get("title") is not None else "")
                self.titles[pid] = title
                # only id, title and description come back: the rest stays None (filled lazily)
                out.append({"project_id": pid, "title": title, "description": str(r.get("description") or ""),
                            "state": None, "last_edited": None, "created": None, "deleted": False})
        return out

    def project_row(self, project_id: str) -> dict[str, Any]:
        for row in self.list_projects(True):
            if row["project_id"] == project_id:
                return row
        raise NotFound(f"no project {project_id} among this account's projects",
                       hint="cc.projects() lists them (a project shared with you appears once you open it in CoCalc)")

    def created_time(self, project_id: str) -> Any:
        return parse_time(self.hub("projects.getProjectCreated", {"project_id": project_id}, idempotent=True))

    def create_project(self, title: str, description: str, start: bool) -> str:
        pid = self.hub("projects.createProject", {"title": title, "description": description})
        if not isinstance(pid, str):
            raise ProtocolError(f"createProject returned {json.dumps(pid)[:100]}, not a project id",
                                endpoint=f"{HUB} projects.createProject")
        self.created.add(pid)
        self.titles[pid] = title
        return pid

    def state(self, project_id: str) -> str | None:
        data = self.hub("projects.getProjectState", {"project_id": project_id}, idempotent=True)
        if isinstance(data, dict) and not data:
            return "opened"  # guess: {} is a project never started, i.e. stopped ("opened" as on conat)
        return data.get("state") if isinstance(data, dict) else None

    def not_running(self, err: CoCalcError) -> bool:
        return isinstance(err, ServerTimeout) and bool(STOPPED.search(err.server_message or ""))

    def bridge_up(self, project_id: str) -> bool:
        """Whether the project answers on the project bridge (needs only project:exec)."""
        try:
            self.project(project_id, "system.ping", idempotent=False, timeout=BRIDGE_PING_MS / 1000)
        except PermissionDenied:
            raise
        except CoCalcError:
            return False
        return True

    def action(self, project_id: str, action: str) -> None:
        if action == "restart":
            self.v2("projects/stop", {"project_id": project_id}, timeout=max(self.t.timeout, 60))
            action = "start"
        self.v2(f"projects/{action}", {"project_id": project_id}, timeout=max(self.t.timeout, 60))

    def auth_token(self, account_id: str | None, password: str | None) -> str:
        not_supported("auth_token", f"{HUB} system.generateUserAuthToken")

    def signin_url(self, host: str, kiosk_url: str, token: str) -> str:
        not_supported("auth_token")

    def create_account(self, email: str, password: str, first_name: str, last_name: str) -> Account:
        not_supported("create_account", "/api/v2/auth/sign-up")

    def user_search(self, query: str, limit: int | None) -> list[UserInfo]:
        not_supported("user_search", f"{HUB} system.userSearch")

    def get_usernames(self, account_ids: list[str]) -> dict[str, dict[str, str]]:
        return names(self.hub("system.getNames", list(account_ids), idempotent=True) or {})

    def add_collaborator(self, project_id: str, account_id: str) -> None:
        not_supported("add_collaborator", f"{HUB} projects.addCollaborator")

    def remove_collaborator(self, project_id: str, account_id: str) -> None:
        not_supported("remove_collaborator", f"{HUB} projects.removeCollaborator")

    def copy_path(self, src_project_id: str, src_path: str, target_project_id: str, target_path: str,
                  timeout: float | None) -> None:
        body: dict[str, Any] = {"src_project_id": src_project_id, "path": src_path,
                                "target_project_id": target_project_id, "target_path": target_path}
        wait = timeout or max(self.t.timeout, 60)
        body["timeout"] = wait  # copy-path.ts: seconds
        self.v2("projects/copy-path", body, timeout=wait + 5)

    # -- jupyter: cocalc.ai has the project's jupyter.apiExecute (system.jupyterExecute is gone)
    def jupyter_execute(self, project_id: str, opts: dict[str, Any], wait: float) -> Any:
        return self.project(project_id, "jupyter.apiExecute", opts, timeout=wait)

    def jupyter_kernels(self, project_id: str) -> list[KernelSpec]:
        return kernel_specs(self.project(project_id, "jupyter.kernels", idempotent=True))
