"""The CoCalc panel: an anywidget whose Python side fetches and whose JavaScript side renders.

Python talks to CoCalc through the client (the API key stays in the kernel); the browser gets
project and file rows through synced traits, and the kiosk URLs through custom messages. The auth
token travels only in a custom message (``{"kind": "embed", ...}``), never in a synced trait, so a
saved widget state holds no token. Replies of CoCalc's IFrame protocol come back from the browser
as custom messages (``{"kind": "reply", ...}``); Python never waits for them (a cell that waited
would deadlock the kernel), it records them and calls the ``on_reply`` callbacks.

Each displayed view has its own IFrame and says "hello" when drawn; Python answers with what that
view must show (with a fresh token), and counts replies from the newest view only, so that a panel
shown twice does not record every reply twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import anywidget
import traitlets as t

from . import readonly, rows, texts
from .replies import Reply, Waiting
from .rows import get_field

_HERE = Path(__file__).parent
MAX_REPLIES = 500  # history kept in ``panel.replies``


class CoCalcPanel(anywidget.AnyWidget):
    """Your CoCalc projects, their files, and the chosen notebook in CoCalc's kiosk mode.

    ``panel.open(project, path)``, ``panel.closeall()`` and ``panel.status()`` send CoCalc's IFrame
    protocol messages and return at once with a small view that shows the reply when it comes
    (also in ``panel.replies`` and ``panel.on_reply(callback)``). Where no API call can sign the
    kiosk in (cocalc.ai; a self-hosted CoCalc with a non-admin key) the panel shows the file
    read-only instead, read through the API and rendered safely (``panel.reload()`` re-reads it).
    """

    _esm = _HERE / "panel.js"
    _css = _HERE / "panel.css"

    # Everything synced is safe to save with the notebook: no API key, no auth token.
    mode = t.Unicode("panel").tag(sync=True)  # "panel" (projects + files + frame) or "view" (frame only)
    host = t.Unicode("").tag(sync=True)
    api = t.Unicode("").tag(sync=True)
    projects = t.List(t.Dict()).tag(sync=True)
    show_all = t.Bool(False).tag(sync=True)
    loading = t.Bool(False).tag(sync=True)
    project_id = t.Unicode("").tag(sync=True)
    project_title = t.Unicode("").tag(sync=True)
    cwd = t.Unicode("").tag(sync=True)
    files = t.List(t.Dict()).tag(sync=True)
    opened = t.Dict().tag(sync=True)  # {project_id, path, view, kiosk_url, origin, api}: never a token
    status_line = t.Unicode("").tag(sync=True)
    height = t.Int(600).tag(sync=True)
    # Browser-side timeouts of the IFrame protocol (real-iframe-protocol.md §4.5-4.6).
    status_timeout = t.Float(18.0).tag(sync=True)
    ack_timeout = t.Float(10.0).tag(sync=True)
    poll_interval = t.Float(0.75).tag(sync=True)

    def __init__(self, client: Any = None, *, mode: str = "panel", fetch: bool = True, **kwargs: Any):
        super().__init__(mode=mode, **kwargs)
        self._cc = client
        self._callbacks: list[Callable[[dict], Any]] = []
        self.replies: list[dict] = []
        self._views: list[str] = []  # browser views, oldest first; replies count from the newest only
        self._undelivered: tuple[dict, list | None] | None = None  # made before any view existed (token inside)
        self._token_wanted = True
        self._live_wanted: bool | None = None  # open()'s ``live``, kept for reload() and new views
        self._origins: dict[str, str] = {}  # view -> the origin of the page that shows it
        self._shown: tuple[dict, bytes] | None = None  # the read-only view sent last (for new views)
        self._fallback = False  # live kiosk tried without a token (same site): render if it stays signed out
        self._waiting = Waiting()
        self.on_msg(self._on_custom_msg)
        self.observe(self._on_show_all, names="show_all")
        if self._connect() and fetch and mode == "panel":
            self.refresh()

    # ------------------------------------------------------------------ public API
    def open(self, project: Any = None, path: str | None = None, *, token: bool = True, check: bool = True,
             live: bool | None = None) -> Reply | None:
        """Show ``path`` of ``project`` (a Project, id, title or title prefix) in the panel.

        Returns at once with a view of the answer (CoCalc's ``ack``/``done``/``error`` fill it in
        later; they also arrive in ``panel.replies``). ``token=False`` embeds without signing in
        (the browser's own CoCalc session is used). ``live=None`` picks the live kiosk where the
        client can sign it in, else the read-only view; ``live=True``/``False`` forces either.
        """
        if project is None and path is None:  # ipywidgets' Widget.open(): open the comm
            return super().open()
        call = Reply("open", path if isinstance(path, str) else "")
        cc = self._connect()
        if cc is None:
            return self._answered(call)
        if not isinstance(path, str) or not path.strip("/ "):
            self.status_line = "Give a file path inside the project, e.g. panel.open(project, 'work/analysis.ipynb')."
            return self._answered(call)
        path = call.path = path.strip().lstrip("/")
        try:
            project_id, title, handle = self._resolve(cc, project, need_handle=check)
            if check and hasattr(handle, "exists") and not handle.exists(path):
                # CoCalc creates a missing file when asked to open it, so say so instead.
                self.status_line = texts.one_line(
                    f"There is no {path} in project {title or project_id}: check the path "
                    "(CoCalc would create an empty file)."
                )
                return self._answered(call)
            # a fresh token for each open; none for a read-only view that was asked for
            embed = cc.embed(project_id, path, token=token and live is not False)
        except Exception as exc:  # noqa: BLE001 - shown in the status line, never as a traceback
            self.status_line = texts.error_text(exc)
            return self._answered(call)
        self._token_wanted, self._live_wanted = token, live
        view = self._choose(embed, token, live)
        self._fallback = view == "live-untokened"
        if view == "rendered":
            self._render(cc, project_id, path, title, handle, embed)
            return self._answered(call)
        if not self._embed(embed, project_id, path, title):
            return self._answered(call)
        return self._waiting.add(self._unseen(call))

    def reload(self) -> Reply | None:
        """Show the open file again: re-read it for the read-only view, or reload the live kiosk."""
        o = self.opened
        if not o:
            self.status_line = texts.event_text("no_frame", {})
            return self._answered(Reply("reload"))
        return self.open(o["project_id"], o["path"], token=self._token_wanted, check=False, live=self._live_wanted)

    def closeall(self) -> Reply:
        """Close every open file (CoCalc's ``closeall``); the panel's labels follow when it is done."""
        if self.opened.get("view") == "rendered":
            path = self.opened.get("path")
            self._closed()
            self._deliver({"kind": "closed"}, None)
            self.status_line = f"Closed {path} (the read-only view)."
            return self._answered(Reply("closeall"))
        return self.post({"action": "closeall"})

    def status(self) -> Reply:
        """Ask the embedded CoCalc for its status (open files, connection); returns a view of the reply."""
        return self.post({"action": "status"})

    def post(self, message: Any) -> Reply:
        """Send any message of CoCalc's IFrame protocol to the embedded frame (no reply waited for)."""
        action = str(message.get("action", "message")) if isinstance(message, dict) else "message"
        call = Reply(action)
        if self.opened.get("view") == "rendered":
            return self._answered(call, f"Not sent: {self.opened.get('path')} is shown read-only, without a live "
                                        "CoCalc frame to ask (“Open in CoCalc” opens it live in a new tab).")
        self.send({"kind": "post", "data": message})
        return self._waiting.add(self._unseen(call))

    def on_reply(self, callback: Callable[[dict], Any]) -> Callable[[dict], Any]:
        """Call ``callback(reply)`` for every reply from the IFrame. Usable as a decorator."""
        self._callbacks.append(callback)
        return callback

    def refresh(self) -> None:
        """Fetch the project list again (``show_all`` decides recent or all)."""
        cc = self._connect()
        if cc is None:
            return
        self.loading = True
        try:
            self.projects = rows.project_rows(cc.projects(all=self.show_all))
        except Exception as exc:  # noqa: BLE001
            self.status_line = texts.error_text(exc)
            return
        finally:
            self.loading = False
        which = "projects" if self.show_all else "recent projects"
        self.status_line = f"{len(self.projects)} {which} on {self.host}."

    def select(self, project: Any, path: str = "") -> None:
        """Show the files of ``project`` in folder ``path``."""
        cc = self._connect()
        if cc is None:
            return
        try:
            project_id, title, handle = self._resolve(cc, project, need_handle=True)
            listing = handle.listing(path.strip("/"))
        except Exception as exc:  # noqa: BLE001
            self.status_line = texts.error_text(exc)
            return
        with self.hold_sync():
            self.project_id, self.project_title, self.cwd = project_id, title, path.strip("/")
            self.files = rows.file_rows(listing)
        where = f"/{self.cwd}" if self.cwd else ""
        self.status_line = f"{title or project_id}{where}: {len(self.files)} item(s)."

    # ------------------------------------------------------------------ text without widgets
    def __repr__(self) -> str:
        bits = [f"host={self.host or '?'}"]
        if self.mode == "panel":
            bits.append(f"{len(self.projects)} projects")
        if self.opened:
            bits.append(f"open: {self.opened.get('path')} in {self.opened.get('project_id')}")
        if self.status_line:
            bits.append(f"status: {self.status_line}")
        return f"CoCalcPanel({'; '.join(bits)})"

    def _repr_mimebundle_(self, **kwargs: Any):
        bundle = super()._repr_mimebundle_(**kwargs)
        data, meta = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data)
        data["text/plain"] = self._describe()
        return data, meta

    def _describe(self) -> str:
        """What a frontend without widgets shows: the state in plain text (no secrets)."""
        lines = [f"CoCalc panel for {self.host or 'an unknown host'} ({self.api or 'api unknown'})"]
        if self.mode == "panel":
            lines.append(f"{len(self.projects)} project(s), newest first:")
            for p in self.projects[:10]:
                lines.append(f"  {p['title'] or '(untitled)'}  [{p['state'] or '?'}]  {p['last_edited'] or ''}  {p['project_id']}")
            if len(self.projects) > 10:
                lines.append(f"  … and {len(self.projects) - 10} more")
        if self.opened:
            where = self.opened.get("kiosk_url") or f"read-only view; in CoCalc: {self.opened.get('new_tab_url')}"
            lines.append(f"Open: {self.opened.get('path')}  ({where})")
        if self.status_line:
            lines.append(f"Status: {self.status_line}")
        lines.append("(Interactive in JupyterLab 4 / Notebook 7 with a live kernel.)")
        return "\n".join(lines)

    # ------------------------------------------------------------------ internals
    def _connect(self) -> Any:
        """The client, made from settings on first use; None (with the reason shown) if that fails."""
        if self._cc is None:
            try:
                from ..client import CoCalc

                self._cc = CoCalc()
            except Exception as exc:  # noqa: BLE001
                self.status_line = texts.error_text(exc)
                return None
        if not self.host:
            try:
                self.host = str(self._cc.host).rstrip("/")
                self.api = str(self._cc.api)
            except Exception as exc:  # noqa: BLE001
                self.status_line = texts.error_text(exc)
                return None
        return self._cc

    def _resolve(self, cc: Any, project: Any, need_handle: bool = False) -> tuple[str, str, Any]:
        """(project_id, title, Project handle or None) for a Project, id, title or prefix."""
        if project is None or project == "":
            handle = cc.default_project()
        elif hasattr(project, "project_id"):
            handle = project
        elif isinstance(project, str) and not need_handle and _is_uuid(project):
            title = next((p["title"] for p in self.projects if p["project_id"] == project), "")
            return project, title, None  # no lookup needed: the id is all the embed needs
        else:
            handle = cc.project(project)
        return str(handle.project_id), str(get_field(handle, "title", "") or ""), handle

    def _choose(self, embed: Any, token: bool, live: bool | None) -> str:
        """"live", "live-untokened" (same site, no token: the browser's own session may apply) or
        "rendered"; what the client can do decides, never the panel's idea of a protocol."""
        origin = self._origins.get(self._views[-1], "") if self._views else ""
        return readonly.choose(embed, token=token, live=live, page_origin=origin, host=self.host)

    def _render(self, cc: Any, project_id: str, path: str, title: str, handle: Any, embed: Any,
                for_view: str | None = None) -> None:
        """Read the file through the API and show it read-only (the page goes in a message buffer)."""
        new_tab = str(get_field(embed, "new_tab_url", "") or "")
        # shown at once (a trait update is sent when set): the first rendering loads nbconvert (1-5 s)
        self.status_line = f"Reading {path} for a read-only view …"
        page, error = readonly.read_page(cc, handle, project_id, path)
        reason = get_field(embed, "token_error") or None  # None: the read-only view was asked for
        self.status_line = error or texts.rendered_text(path, reason)
        self.opened = {"project_id": project_id, "path": path, "title": title, "view": "rendered",
                       "new_tab_url": new_tab, "api": str(get_field(embed, "api", "") or self.api)}
        msg = {"kind": "rendered", "project_id": project_id, "path": path, "new_tab_url": new_tab,
               "notice": self.status_line, "file_kind": page.kind}
        data = page.html.encode("utf-8")
        self._shown = (msg, data)
        self._deliver(msg, for_view, [data])

    def _embed(self, embed: Any, project_id: str, path: str, title: str, for_view: str | None = None) -> bool:
        """Send the live kiosk's URLs (and token) to the browser; False when framing is forbidden."""
        kiosk_url = str(embed.kiosk_url)
        origin = str(get_field(embed, "origin", "") or "")
        framing = get_field(embed, "framing")
        new_tab = get_field(embed, "new_tab_url") or kiosk_url
        self._shown = None
        if framing is not None and not get_field(framing, "allowed", True):
            self.opened = {}
            reason = get_field(framing, "reason", "") or "the server forbids framing"
            self.status_line = texts.one_line(f"CoCalc does not allow embedding here ({reason}). Use “Open in new tab”.")
            self._deliver({"kind": "blocked", "reason": self.status_line, "new_tab_url": new_tab, "path": path}, for_view)
            return False
        self.opened = {
            "project_id": project_id,
            "path": path,
            "title": title,
            "view": "live",
            "kiosk_url": kiosk_url,
            "new_tab_url": "" if get_field(embed, "signin_url") == new_tab else str(new_tab),  # never a token
            "origin": origin,
            "api": str(get_field(embed, "api", "") or self.api),
        }
        line = texts.event_text("loading", {"path": path})
        token_error = get_field(embed, "token_error")
        if token_error and not get_field(embed, "signin_url"):
            line += texts.one_line(f" Not signing in: {token_error}")
        self.status_line = line
        # The only place a token leaves the kernel: a custom message (not saved with widget state).
        self._deliver(
            {
                "kind": "embed",
                "project_id": project_id,
                "path": path,
                "kiosk_url": kiosk_url,
                "signin_url": get_field(embed, "signin_url"),
                # legacy: the sign-in URL is the kiosk URL itself; else it sets a cookie, then the kiosk
                "signin_first": not get_field(embed, "signin_opens_file", False),
                "new_tab_url": new_tab,
                "origin": origin,
                "api": self.opened["api"],
            },
            for_view,
        )
        return True

    def _deliver(self, msg: dict, for_view: str | None, buffers: list[bytes] | None = None) -> None:
        """Send to the browser; before any view has drawn itself (``open_view`` opens first and is
        displayed after), keep the message in memory (never in a trait) for the first view."""
        if for_view:
            msg = dict(msg, for_view=for_view)
        if self._views or for_view:
            self.send(msg, buffers)
        else:
            self._undelivered = (msg, buffers)

    def _greet(self, view: str) -> None:
        """A new view: give it what it must show, with a fresh token of its own."""
        if self._undelivered is not None:
            (msg, buffers), self._undelivered = self._undelivered, None
            self.send(dict(msg, for_view=view), buffers)
        elif self._shown is not None and self.opened.get("view") == "rendered":
            msg, data = self._shown
            self.send(dict(msg, for_view=view), [data])
        elif self.opened:
            cc = self._connect()
            if cc is None:
                return
            o = self.opened
            try:
                embed = cc.embed(o["project_id"], o["path"], token=self._token_wanted)
            except Exception as exc:  # noqa: BLE001
                self.status_line = texts.error_text(exc)
                return
            self._embed(embed, o["project_id"], o["path"], o.get("title", ""), for_view=view)

    def _closed(self) -> None:
        """The file is closed (CoCalc said so, or the read-only view was closed): labels follow."""
        self.opened = {}
        self._shown = None
        self._fallback = False

    def _answered(self, call: Reply, text: str | None = None) -> Reply:
        call.show(text or self.status_line, done=True)
        return call

    def _unseen(self, call: Reply) -> Reply:
        """A message to a panel no browser shows is never answered: say so instead of waiting."""
        if not self._views:  # a custom message reaches only the views that exist when it is sent
            call.show("No browser shows this panel, so CoCalc cannot answer: display the panel first "
                      "(a cell ending in `panel`), then run this again.", done=True)
        return call

    def _on_event(self, event: str, content: dict) -> None:
        """The browser noticed something (a timeout, the file closed): say it, where the user looks."""
        if event == "closed":
            self._closed()
            return
        self.status_line = texts.event_text(event, content)
        cc = self._connect()
        if event in ("no_ack", "no_status") and self._fallback and self.opened and cc is not None:
            # tried the browser's own session (same site) and it is signed out: show the file instead
            o, self._fallback = self.opened, False
            why = {"new_tab_url": o.get("new_tab_url"), "api": o.get("api"),
                   "token_error": "no sign-in token for this key, and this browser is not signed in to CoCalc"}
            self._render(cc, o["project_id"], o["path"], o.get("title", ""), None, why)
            self._waiting.give_up(self.status_line, "open")
            return
        self._waiting.give_up(self.status_line, "open" if event == "no_ack" else None)

    def _on_show_all(self, change: dict) -> None:
        if change["old"] != change["new"]:
            self.refresh()

    def _on_custom_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("kind")
        view = content.get("view")
        try:
            if kind == "hello":
                if view and view not in self._views:
                    self._views.append(view)
                if view:
                    self._origins[view] = str(content.get("origin") or "")
                    self._greet(view)
            elif kind == "bye":
                if view in self._views:
                    self._views.remove(view)
                self._origins.pop(view, None)
            elif kind == "refresh":
                self.refresh()
            elif kind == "reload":
                self.reload()
            elif kind == "closeall":  # the read-only view's Close all button (in any view)
                self.closeall()
            elif kind == "select":
                self.select(content.get("project_id", ""), content.get("path", ""))
            elif kind == "open":
                self.open(content.get("project_id", ""), content.get("path", ""), check=False)
            elif kind == "reply":
                if self._counts(view):
                    self._on_reply(content.get("data"), poll=bool(content.get("poll")))
                    if content.get("poll") and self.opened:  # the handshake's answer: `open` goes next
                        self.status_line = texts.event_text("ready", {"path": self.opened.get("path")})
            elif kind == "event":
                if self._counts(view):
                    self._on_event(str(content.get("event")), content)
        except Exception as exc:  # noqa: BLE001 - a widget must not raise into the comm handler
            self.status_line = texts.error_text(exc)

    def _counts(self, view: Any) -> bool:
        """Each displayed view embeds its own frame and relays its replies: count the newest only."""
        if view and view not in self._views:
            self._views.append(view)
        return not self._views or not view or view == self._views[-1]

    def _on_reply(self, data: Any, poll: bool = False) -> None:
        reply = data if isinstance(data, dict) else {"status": "error", "mesg": f"unexpected reply {data!r}"}
        self.replies.append(reply)
        del self.replies[:-MAX_REPLIES]
        self.status_line = texts.reply_text(reply)
        if not poll:  # the handshake's status poll is the browser's own, not an answer to a call
            self._waiting.answer(reply)
        for cb in list(self._callbacks):
            try:
                cb(reply)
            except Exception as exc:  # noqa: BLE001
                self.status_line = texts.one_line(f"on_reply callback failed: {texts.error_text(exc)}")


def _is_uuid(text: str) -> bool:
    from ..client import is_uuid

    return is_uuid(text)


def open_view(client: Any, project: Any, path: str, *, token: bool = True, height: int = 600) -> CoCalcPanel:
    """A single-file kiosk view of ``path`` (``%cocalc open PATH``): the frame with its buttons only."""
    view = CoCalcPanel(client, mode="view", fetch=False, height=height)
    view.open(project, path, token=token)
    return view
