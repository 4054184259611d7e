"""What both API generations must provide to the facade, plus the pieces they share.

A backend speaks one generation's protocol and returns plain values or models; it holds no
display code and never touches HTTP itself (``Transport`` does).
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from ...errors import CoCalcError, InvalidRequest, NotFound, NotSupported, ServerTimeout
from ..models import Account, ExecResult, FileEntry, Identity, JupyterLimits, KernelSpec, UserInfo, parse_time
from ..transport import Transport, error_in

ONE_MB = 1_000_000  # guess: Next.js/express "1mb" is 1,048,576; the smaller figure is safe for both
V1_JSON_LIMIT = 102_400  # express.json() default "100kb"
V1_FORM_LIMIT = ONE_MB  # express.urlencoded({limit: "1mb"})
CURRENT_LIMIT = ONE_MB  # Next.js API routes' default bodyParser sizeLimit "1mb"
ENVELOPE = 512  # bytes reserved for the rest of a write request (ids, path, field names)

PROJECT_FIELDS = ("project_id", "title", "description", "state", "last_edited", "created", "deleted")

_NONZERO = re.compile(r"exited with nonzero code (-?\d+) -- stderr='(.*)'", re.S)
_KILLED = re.compile(r"killed command", re.I)

# The listing of a folder through exec, for servers without a listing call (legacy v1). python3
# is on every CoCalc project image. It mirrors the current generation's system.listing: dot
# files left out, a directory's size is its number of entries, mtime in seconds.
LISTING_SCRIPT = r"""
import json, os, sys
p = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else "."
out = []
for name in os.listdir(p):
    if name.startswith("."):
        continue
    f = os.path.join(p, name)
    try:
        st = os.stat(f)
    except OSError:
        st = os.lstat(f)
    d = os.path.isdir(f)
    size = len(os.listdir(f)) if d and os.access(f, os.R_OK) else st.st_size
    out.append({"name": name, "mtime": st.st_mtime, "size": size, "isdir": d})
print(json.dumps(out))
""".strip()


def exec_error_to_result(text: str) -> ExecResult | None:
    """A 'nonzero exit' error (spawn failure, err_on_exit) as the result it stands for."""
    m = _NONZERO.search(text)
    if not m:
        return None
    stderr = m.group(2)
    stderr = re.sub(r"', undefined, undefined$|', , $", "", stderr)
    if stderr.endswith("'"):
        stderr = stderr[:-1]
    return ExecResult(stdout="", stderr=stderr, exit_code=int(m.group(1)))


def exec_timeout_error(text: str, timeout: float | None, endpoint: str, status: int) -> CoCalcError | None:
    if _KILLED.search(text):
        return ServerTimeout(
            f"the command ran past its timeout{f' of {timeout:g}s' if timeout else ''} and was killed",
            status=status, endpoint=endpoint, server_message=text,
            hint="exec_timeout",
        )
    return None


def exec_failure(text: str, timeout: float | None, endpoint: str, status: int) -> ExecResult | None:
    """What an exec's error answer stands for: ServerTimeout raised when the command was killed
    at its timeout, the result of a non-zero exit, or None (another error, left to ``check``)."""
    err = exec_timeout_error(text, timeout, endpoint, status)
    if err:
        raise err
    return exec_error_to_result(text)


def exec_result(data: dict[str, Any]) -> ExecResult:
    """An exec answer (or a finished async job's status) as an ExecResult."""
    return ExecResult(stdout=data.get("stdout") or "", stderr=data.get("stderr") or "",
                      exit_code=int(data.get("exit_code") or 0))


def names(rows: dict[str, Any]) -> dict[str, dict[str, str]]:
    """``{account_id: {"first_name", "last_name"}}`` from a get-names answer."""
    return {k: {"first_name": v.get("first_name", ""), "last_name": v.get("last_name", "")}
            for k, v in rows.items()}


def project_info_row(row: dict[str, Any]) -> dict[str, Any]:
    """A projects-table row with the state flattened and the times parsed."""
    state = row.get("state")
    if isinstance(state, dict):
        state = state.get("state")
    return {
        "project_id": row.get("project_id"),
        "title": str(row.get("title") if row.get("title") is not None else ""),
        "description": str(row.get("description") or ""),
        "state": state,
        "last_edited": parse_time(row.get("last_edited")),
        "created": parse_time(row.get("created")),
        "deleted": bool(row.get("deleted")),
    }


def listing_entries(rows: Any) -> list[FileEntry]:
    if not isinstance(rows, list):
        raise InvalidRequest(f"unexpected listing answer: {json.dumps(rows)[:200]}")
    out = []
    for r in rows:
        if not isinstance(r, dict) or "name" not in r:
            continue
        mtime = r.get("mtime")
        out.append(FileEntry(
            name=str(r["name"]),
            size=int(r.get("size") or 0),
            mtime=parse_time(float(mtime)) if isinstance(mtime, (int, float)) else parse_time(mtime),
            isdir=bool(r.get("isdir") or r.get("isDir")),  # cocalc.ai: isDir
        ))
    out.sort(key=lambda e: e.name)
    return out


def user_info(row: dict[str, Any]) -> UserInfo:
    return UserInfo(
        account_id=row.get("account_id", ""),
        first_name=row.get("first_name") or "",
        last_name=row.get("last_name") or "",
        email_address=row.get("email_address"),
        last_active=parse_time(row.get("last_active")),
        created=parse_time(row.get("created")),
    )


class Backend(ABC):
    """The protocol of one API generation."""

    api: str = ""
    max_write_bytes: int = 0

    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def check(self, data: Any, endpoint: str, status: int = 200) -> Any:
        """``data`` unless it is an error answer, which becomes the right exception."""
        text = error_in(data)
        if text is not None:
            raise self.t.classify(text, status, endpoint)
        return data

    # -- embedding ----------------------------------------------------------
    signin_opens_file: bool = False  # whether signin_url also shows the file (a new tab can use it)
    makes_signin_tokens: bool = True  # False: no API call can sign a browser in (cocalc.ai)
    starts_on_bridge: bool = True  # False: a stopped project must be started before any project call

    def not_running(self, err: CoCalcError) -> bool:
        """Whether ``err`` says the project was not running (only where the bridge never starts one)."""
        return False

    def bridge_up(self, project_id: str) -> bool:
        """Whether the project answers its own calls now (for a key that may not ask its state)."""
        raise NotImplementedError

    @abstractmethod
    def signin_url(self, host: str, kiosk_url: str, token: str) -> str:
        """The URL that signs a browser (an IFrame) in with an auth token."""

    # -- account / hub ------------------------------------------------------
    @abstractmethod
    def ping(self) -> datetime | None: ...

    @abstractmethod
    def whoami(self) -> Identity: ...

    @abstractmethod
    def query(self, query: dict[str, Any], *, idempotent: bool = True) -> Any: ...

    def list_projects(self, all: bool) -> list[dict[str, Any]]:
        table = "projects_all" if all else "projects"
        result = self.query({table: [{f: None for f in PROJECT_FIELDS}]})
        rows = result.get(table) if isinstance(result, dict) else None
        if not isinstance(rows, list):
            raise InvalidRequest(f"unexpected answer to the {table} query: {json.dumps(result)[:200]}")
        return [project_info_row(r) for r in rows if isinstance(r, dict)]

    def project_row(self, project_id: str) -> dict[str, Any]:
        result = self.query({"projects": {f: (project_id if f == "project_id" else None)
                                          for f in PROJECT_FIELDS}})
        row = result.get("projects") if isinstance(result, dict) else None
        if not isinstance(row, dict) or not row.get("project_id"):
            raise NotFound(f"no project {project_id} is visible to this key")
        return project_info_row(row)

    @abstractmethod
    def create_project(self, title: str, description: str, start: bool) -> str: ...

    @abstractmethod
    def state(self, project_id: str) -> str | None: ...

    @abstractmethod
    def action(self, project_id: str, action: str) -> None:
        """Start, stop or restart a project (returns once the server accepted the request)."""

    @abstractmethod
    def auth_token(self, account_id: str, password: str | None) -> str: ...

    @abstractmethod
    def create_account(self, email: str, password: str, first_name: str, last_name: str) -> Account: ...

    @abstractmethod
    def user_search(self, query: str, limit: int | None) -> list[UserInfo]: ...

    @abstractmethod
    def get_usernames(self, account_ids: list[str]) -> dict[str, dict[str, str]]: ...

    @abstractmethod
    def add_collaborator(self, project_id: str, account_id: str) -> None: ...

    @abstractmethod
    def remove_collaborator(self, project_id: str, account_id: str) -> None: ...

    @abstractmethod
    def copy_path(self, src_project_id: str, src_path: str, target_project_id: str, target_path: str,
                  timeout: float | None) -> None: ...

    def org(self, fn: str, opts: dict[str, Any], *, idempotent: bool = False) -> Any:
        """The hub's ``org.<fn>(opts)`` (organizations came with the conat API of 2025)."""
        raise NotSupported(f"this server speaks the legacy {self.api or 'v1'} API, which has no organizations",
                           endpoint=f"org.{fn}", hint="no_orgs")

    # -- project --------------------------------------------------------------
    @abstractmethod
    def exec(self, project_id: str, opts: dict[str, Any], timeout: float) -> ExecResult: ...

    @abstractmethod
    def write(self, project_id: str, path: str, content: str) -> None: ...

    @abstractmethod
    def read(self, project_id: str, path: str) -> str: ...

    @abstractmethod
    def listing(self, project_id: str, path: str) -> list[FileEntry]: ...

    # background exec: None means "not supported: run the blocking call in a thread"
    def exec_async(self, project_id: str, opts: dict[str, Any]) -> dict[str, Any] | None:
        return None

    def exec_get(self, project_id: str, job_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def signal(self, project_id: str, pid: int, signal: int = 15) -> None:
        raise NotImplementedError

    # -- jupyter: a cell in a project's kernel (client/jupyter builds the opts and reads the items)
    jupyter_limits = JupyterLimits()  # what the server enforces; CoCalc's stateless kernel defaults

    def jupyter_execute(self, project_id: str, opts: dict[str, Any], wait: float) -> Any:
        """The output items of CoCalc's stateless execute (``opts``: input, kernel, history, path,
        limits), waiting at most ``wait`` seconds; never retried (the code may have run)."""
        raise NotSupported(f"this server's {self.api} API has no Jupyter execute", hint="Use exec instead")

    def jupyter_kernels(self, project_id: str) -> list[KernelSpec]:
        raise NotSupported(f"this server's {self.api} API lists no Jupyter kernels")


def kernel_specs(rows: Any) -> list[KernelSpec]:
    """``jupyter.kernels`` rows (kernelspecs) as KernelSpec, sorted by name."""
    out = [KernelSpec(name=str(r.get("name")), display_name=str(r.get("display_name") or ""),
                      language=str(r.get("language") or ""))
           for r in rows if isinstance(r, dict) and r.get("name")] if isinstance(rows, list) else []
    return sorted(out, key=lambda k: k.name)
