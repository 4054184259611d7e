"""What the client returns: small dataclasses with useful reprs (secrets masked) and HTML tables."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from ..settings import mask


def parse_time(value: Any) -> datetime | None:
    """CoCalc times: ISO strings (``2026-11-26T21:12:36.604Z``), ms since the epoch, or None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)):
        seconds = value / 1000.0 if value > 1e11 else float(value)
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        if text.replace(".", "", 1).isdigit():
            return parse_time(float(text))
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def _fmt_time(t: datetime | None) -> str:
    if t is None:
        return ""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _table(headers: list[str], rows: Iterable[list[Any]], caption: str | None = None) -> str:
    out = ['<table class="cocalc-magic-table">']
    if caption:
        out.append(f"<caption style='text-align:left'>{html.escape(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in headers)
               + "</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(str(c))}</td>" for c in row)
                   + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


@dataclass(frozen=True)
class Pong:
    """The answer to ``cc.ping()``: the server's clock, the round-trip time, and the API generation."""

    now: datetime | None
    latency_s: float
    api: str

    def __repr__(self) -> str:
        return f"Pong(now={_fmt_time(self.now) or None!r}, latency_s={self.latency_s:.4f}, api={self.api!r})"


@dataclass(frozen=True)
class KeyCheck:
    """One line of cocalc.ai's key doctor: a capability the magics need, whether this key has it
    (None: not checked), what it is for, and the fix when it is missing."""

    capability: str
    needed_for: str
    ok: bool | None
    fix: str = ""

    def line(self) -> str:
        if self.ok:
            return f"yes: {self.needed_for}"
        if self.ok is None:
            return f"? {self.needed_for} ({self.fix})" if self.fix else f"? {self.needed_for}"
        return f"MISSING: {self.needed_for}; fix: {self.fix}"


GENERATIONS = {  # what a user knows each generation as
    "ai": "cocalc.ai (or a server of its code: CoCalc Launchpad, Plus)",
    "conat": "a self-hosted CoCalc (2025-08 to 2026-07, conat API)",
    "v1": "an older self-hosted CoCalc (legacy /api/v1)",
}


@dataclass(frozen=True)
class Identity:
    """Whom the key belongs to: an account, or (a project-scoped key) a project; with the server's
    generation in words, the key's kind, and on cocalc.ai the key doctor's ``checks``."""

    account_id: str | None
    project_id: str | None
    scope: str  # "account" | "project"
    api: str = ""
    key_kind: str = ""
    key_id: str | None = None  # cocalc.ai: the key's public id (as Account → API keys shows it)
    checks: tuple[KeyCheck, ...] = ()

    @property
    def generation(self) -> str:
        return GENERATIONS.get(self.api, self.api)

    @property
    def missing(self) -> list[KeyCheck]:
        """The capabilities this key lacks (cocalc.ai), each with its fix."""
        return [c for c in self.checks if c.ok is False]

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) lines: what ``%cocalc whoami`` and the repr show."""
        out = [("server", self.generation), ("key", self.key_kind or self.scope)]
        if self.account_id or self.api != "ai":
            out.append(("account", self.account_id or "-"))
        if self.project_id:
            out.append(("key's project", self.project_id))
        out.extend((c.capability, c.line()) for c in self.checks)
        return out

    def __repr__(self) -> str:
        return "Identity(\n" + "".join(f"  {k}: {v}\n" for k, v in self.rows()) + ")"

    def _repr_html_(self) -> str:
        return _table(["", ""], ([k, v] for k, v in self.rows()), "Who this key is, and what it may do")


@dataclass(frozen=True)
class ProjectInfo:
    """One row of ``cc.projects()``."""

    project_id: str
    title: str
    description: str = ""
    state: str | None = None
    last_edited: datetime | None = None
    created: datetime | None = None

    def __repr__(self) -> str:
        return (f"ProjectInfo(project_id={self.project_id!r}, title={self.title!r}, state={self.peek('state')!r}, "
                f"last_edited={_fmt_time(self.last_edited) or None!r})")

    def peek(self, name: str) -> Any:
        """A field as known now, without asking the server (see LazyProjectInfo)."""
        return getattr(self, name)


_LAZY = ("state", "created")


class LazyProjectInfo(ProjectInfo):
    """A row of cocalc.ai's ``/api/v2/projects/get``, which has only id, title and description:
    ``state`` and ``created`` are asked for on first access (one call each, which needs the key's
    ``project:read`` on that project) and stay None where the key may not read them. ``peek`` reads
    without asking, which is what the list's display does."""

    def __init__(self, project_id: str, title: str, description: str = "", *,
                 fill: Callable[[str, str], Any]) -> None:
        super().__init__(project_id=project_id, title=title, description=description)
        object.__setattr__(self, "_fill", fill)
        object.__setattr__(self, "_filled", set())

    def __getattribute__(self, name: str) -> Any:
        if name in _LAZY:
            filled = object.__getattribute__(self, "_filled")
            if name not in filled:
                filled.add(name)
                value = object.__getattribute__(self, "_fill")(name, object.__getattribute__(self, "project_id"))
                object.__setattr__(self, name, value)
        return object.__getattribute__(self, name)

    def peek(self, name: str) -> Any:
        return object.__getattribute__(self, name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProjectInfo) and (other.project_id, other.title) == (self.project_id, self.title)

    __hash__ = ProjectInfo.__hash__


class ProjectList(list):
    """``list[ProjectInfo]``, newest first; shows as a table in a notebook."""

    def __init__(self, items: Iterable[ProjectInfo] = (), *, window: str = "", search: str | None = None) -> None:
        super().__init__(items)
        self.window = window
        self.search = search

    def empty_text(self) -> str:
        """What an empty list says: which projects were looked at, and how to get one."""
        what = f"No projects matching {self.search!r}" if self.search else "No projects"
        return (f"{what}{' ' + self.window if self.window else ''}. Create one with %cocalc create TITLE, "
                "or cc.create_project(title) in Python.")

    def __repr__(self) -> str:
        if not self:
            return self.empty_text()
        lines = [f"{len(self)} project(s){' ' + self.window if self.window else ''}:"]
        width = max(len(p.title) for p in self)
        width = min(max(width, 5), 50)
        for p in self:
            lines.append(f"  {p.project_id}  {p.title[:50]:<{width}}  {p.peek('state') or '':<8}  "
                         f"{_fmt_time(p.last_edited)}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if not self:
            from html import escape

            return f"<div>{escape(self.empty_text())}</div>"
        caption = f"{len(self)} project(s) {self.window}".strip()
        return _table(["title", "project_id", "state", "last edited", "description"],
                      ([p.title, p.project_id, p.peek("state") or "", _fmt_time(p.last_edited), p.description]
                       for p in self), caption)


@dataclass(frozen=True)
class ExecResult:
    """What a command printed and how it exited. A non-zero exit is a result, not an error."""

    stdout: str
    stderr: str
    exit_code: int

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def __str__(self) -> str:
        return self.stdout

    def __repr__(self) -> str:
        def cut(s: str) -> str:
            return s if len(s) <= 200 else s[:200] + f"… ({len(s)} chars)"
        return f"ExecResult(exit_code={self.exit_code}, stdout={cut(self.stdout)!r}, stderr={cut(self.stderr)!r})"

    def _repr_html_(self) -> str:
        color = "#2a7" if self.exit_code == 0 else "#c33"
        parts = [f"<div class='cocalc-magic-exec'><div style='color:{color}'>exit code {self.exit_code}</div>"]
        if self.stdout:
            parts.append(f"<pre style='margin:2px 0'>{html.escape(self.stdout)}</pre>")
        if self.stderr:
            parts.append(f"<pre style='margin:2px 0;color:#c33'>{html.escape(self.stderr)}</pre>")
        parts.append("</div>")
        return "".join(parts)


@dataclass(frozen=True)
class FileEntry:
    """One entry of ``p.listing()``. For a directory, ``size`` is its number of entries."""

    name: str
    size: int
    mtime: datetime | None
    isdir: bool = False

    def __repr__(self) -> str:
        kind = "dir" if self.isdir else "file"
        return f"FileEntry({self.name!r}, {kind}, size={self.size}, mtime={_fmt_time(self.mtime) or None!r})"


class Listing(list):
    """``list[FileEntry]`` sorted by name, with a table view."""

    def __init__(self, items: Iterable[FileEntry] = (), *, path: str = "") -> None:
        super().__init__(items)
        self.path = path

    def _repr_html_(self) -> str:
        return _table(["name", "size", "modified"],
                      ([e.name + ("/" if e.isdir else ""), e.size, _fmt_time(e.mtime)] for e in self),
                      f"{self.path or '~'}: {len(self)} entries")


@dataclass(frozen=True)
class Account:
    """A created account; ``api_key`` (legacy servers only) is masked in the repr."""

    account_id: str
    api_key: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        key = mask(self.api_key) if self.api_key else None
        return f"Account(account_id={self.account_id!r}, api_key={key!r})"


@dataclass(frozen=True)
class UserInfo:
    """A ``user_search`` hit."""

    account_id: str
    first_name: str = ""
    last_name: str = ""
    email_address: str | None = None
    last_active: datetime | None = None
    created: datetime | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class FramingCheck:
    """Whether the server lets a page of another origin show it in an IFrame."""

    allowed: bool
    reason: str


@dataclass(frozen=True)
class Embed:
    """Everything a panel needs to show a file in a kiosk IFrame (token masked in the repr)."""

    kiosk_url: str
    signin_url: str | None
    new_tab_url: str
    origin: str
    api: str
    framing: FramingCheck
    token_error: str | None = None  # why there is no signin_url
    can_sign_in: bool = True  # False: no API call can sign a browser in for this server and key
    signin_opens_file: bool = False  # signin_url shows the file itself (legacy), not only a cookie

    def __repr__(self) -> str:
        from ..settings import redact

        return redact(
            f"Embed(kiosk_url={self.kiosk_url!r}, signin_url={self.signin_url!r}, new_tab_url={self.new_tab_url!r}, "
            f"origin={self.origin!r}, api={self.api!r}, framing={self.framing!r}, token_error={self.token_error!r}, "
            f"can_sign_in={self.can_sign_in!r})"
        )


class MapResult(list):
    """Results of ``cc.map`` in input order; a failed item holds ``None`` and is in ``.errors``."""

    def __init__(self, items: Iterable[Any] = (), errors: list[tuple[int, Any, BaseException]] | None = None,
                 elapsed_s: float = 0.0) -> None:
        super().__init__(items)
        self.errors: list[tuple[int, Any, BaseException]] = errors or []
        self.elapsed_s = elapsed_s

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_first(self) -> None:
        """Raise the first per-item error, if any."""
        if self.errors:
            raise self.errors[0][2]

    def summary(self) -> str:
        done = len(self) - len(self.errors)
        text = f"{done}/{len(self)} ok in {self.elapsed_s:.2f}s"
        if self.errors:
            i, item, exc = self.errors[0]
            text += f"; {len(self.errors)} failed (first: item {i} {item!r}: {exc})"
        return text

    def report(self, done: str = "done", label: Callable[[Any], str] = str) -> str:
        """'28 of 30 done; 2 failed:' then one line per failure: the item (``label(item)``) and its
        error's class and one-line message. What a notebook prints after a bulk step."""
        ok = len(self) - len(self.errors)
        head = f"{ok} of {len(self)} {done}"
        if not self.errors:
            return head
        lines = [f"{head}; {len(self.errors)} failed:"]
        lines += [f"  {label(item)}: {type(exc).__name__}: {' '.join(str(exc).split())}" for _, item, exc in self.errors]
        return "\n".join(lines)

    def __repr__(self) -> str:
        if not self.errors:
            return f"MapResult({list.__repr__(self)})"
        return f"MapResult({list.__repr__(self)}, errors={len(self.errors)}: {self.summary()})"


@dataclass(frozen=True)
class OrgInfo:
    """An organization's properties (``org.get``)."""

    name: str
    title: str | None = None
    description: str | None = None
    link: str | None = None
    email_address: str | None = None
    admin_account_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignInLink:
    """A sign-in link for one account (``org.createToken``): open ``str(link.url)`` in a browser.
    The token is a credential, so the repr and notebooks only ever show it masked."""

    url: str
    token: str
    user: str

    def __repr__(self) -> str:
        from ..settings import mask

        token = mask(str.__str__(self.token))
        url = str.__str__(self.url).replace(str.__str__(self.token), token)
        return f"SignInLink(user={self.user!r}, url={url!r}, token={token!r})"


@dataclass(frozen=True)
class KernelSpec:
    """A Jupyter kernel a project offers (``p.kernels()``)."""

    name: str
    display_name: str = ""
    language: str = ""

    def __str__(self) -> str:
        return f"{self.name}  {self.display_name}  ({self.language})" if self.language else self.name


@dataclass(frozen=True)
class JupyterLimits:
    """What a server's Jupyter API enforces, known before sending: the per-cell time (s) and the
    output sizes (characters) of CoCalc's ``run_cell``; ``settable``: the call may send its own."""

    per_cell_s: float = 30.0
    settable: bool = True
    max_output_per_cell: int = 1_000_000
    max_output: int = 5_000_000
