"""A small in-memory stand-in for ``cocalc_magic.CoCalc`` (the INTERFACES.md surface the panel uses),
and a fake comm that records what the widget sends to the browser."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cocalc_magic.client.models import Embed, FramingCheck
from cocalc_magic.errors import NotFound

API_KEY = "sk-FAKEKEYDONOTLEAK0123456789"


@dataclass
class Info:
    project_id: str
    title: str
    description: str = ""
    state: str | None = "running"
    last_edited: datetime | None = None
    created: datetime | None = None


@dataclass
class Entry:
    name: str
    size: int = 0
    mtime: datetime | None = None
    isdir: bool = False


@dataclass
class FakeProject:
    project_id: str
    title: str
    files: dict = field(default_factory=dict)  # folder path -> [Entry]
    contents: dict = field(default_factory=dict)  # file path -> str or bytes (what read() gives)
    reads: list = field(default_factory=list)

    def read(self, path: str) -> str:
        self.reads.append(path)
        if path not in self.contents:
            raise NotFound(f"no file {path!r} in project {self.title}", hint="")
        data = self.contents[path]
        return data.decode() if isinstance(data, bytes) else data

    def read_bytes(self, path: str) -> bytes:
        self.reads.append(path)
        data = self.contents[path]
        return data if isinstance(data, bytes) else data.encode()

    def listing(self, path: str = "") -> list[Entry]:
        if path not in self.files:
            raise NotFound(f"no such folder {path!r} in project {self.title}: check the path", hint="")
        return list(self.files[path])

    def exists(self, path: str) -> bool:
        folder, _, name = path.rpartition("/")
        return any(e.name == name for e in self.files.get(folder, []))


class FakeClient:
    def __init__(self, api: str = "conat", n_projects: int = 3, n_old: int = 2):
        self.host = "http://127.0.0.1:5999"
        self.api = api
        self.api_key = API_KEY
        self.calls: list[tuple] = []
        self.tokens: list[str] = []
        self.framing = FramingCheck(True, "")
        self.embed_error: Exception | None = None
        self.token_error: str | None = None
        self.can_sign_in = True  # False: what cocalc.ai (or a non-admin key on conat) says
        now = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
        self.infos = [
            Info(f"00000000-0000-4000-8000-{i:012d}", f"Project {i}", f"desc {i}", "running" if i % 2 else "opened",
                 now - timedelta(hours=i))
            for i in range(n_projects + n_old)
        ]
        self.infos.reverse()  # the panel sorts newest first itself
        self.n_recent = n_projects
        self.projects_obj = {
            info.project_id: FakeProject(
                info.project_id,
                info.title,
                {
                    "": [Entry("zeta.txt", 3), Entry("data", isdir=True), Entry("analysis.ipynb", 10),
                         Entry(".analysis.ipynb.sage-jupyter2", 1), Entry("Alpha.ipynb", 5)],
                    "data": [Entry("inner.ipynb", 7)],
                },
            )
            for info in self.infos
        }

    def projects(self, all: bool = False, search=None):  # noqa: A002 - the client's name
        self.calls.append(("projects", all))
        newest = sorted(self.infos, key=lambda i: i.last_edited, reverse=True)
        return newest if all else newest[: self.n_recent]

    def project(self, ref):
        self.calls.append(("project", ref))
        for p in self.projects_obj.values():
            if ref in (p.project_id, p.title) or p.title.startswith(str(ref)):
                return p
        raise NotFound(f"no project {ref!r}: use a project id, its exact title or a unique prefix", hint="")

    def default_project(self):
        raise NotFound("no default project: set COCALC_PROJECT_ID or run %cocalc use PROJECT", hint="")

    def embed(self, project_id: str, path: str, token: bool = True) -> Embed:
        self.calls.append(("embed", project_id, path, token))
        if self.embed_error:
            raise self.embed_error
        kiosk = f"{self.host}/projects/{project_id}/files/{path}?fullscreen=kiosk&session="
        signin = None
        refused = token and not self.can_sign_in
        if token and not self.token_error and not refused:
            t = secrets.token_hex(12)
            self.tokens.append(t)
            signin = (kiosk + f"&auth_token={t}") if self.api == "v1" else f"{self.host}/auth/impersonate?auth_token={t}"
        error = "cocalc.ai does not allow API keys to make sign-in tokens" if refused else self.token_error
        new_tab = signin or (f"{self.host}/projects/{project_id}/files/{path}" if refused else kiosk)
        return Embed(kiosk, signin, new_tab, self.host, self.api, self.framing,
                     error if token else None, can_sign_in=not refused, signin_opens_file=self.api == "v1")


class Recorder:
    """Captures every comm message the widget sends (trait updates and custom messages)."""

    def __init__(self, widget, monkeypatch):
        self.sent: list[dict] = []
        monkeypatch.setattr(widget.comm, "send", self._record)

    def _record(self, data=None, buffers=None, **kw) -> None:
        self.sent.append(dict(data, buffers=buffers) if isinstance(data, dict) else data)

    def custom(self, kind: str | None = None) -> list[dict]:
        out = [m["content"] for m in self.sent if m and m.get("method") == "custom"]
        return [c for c in out if kind is None or c.get("kind") == kind]

    def updates(self) -> list[dict]:
        return [m["state"] for m in self.sent if m and m.get("method") == "update"]


def from_browser(widget, content: dict) -> None:
    """What the JavaScript's model.send(content) does."""
    widget._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


def set_from_browser(widget, **state) -> None:
    """What the JavaScript's model.set(...) + save_changes() does."""
    widget._handle_msg({"content": {"data": {"method": "update", "state": state, "buffer_paths": []}}, "buffers": []})
