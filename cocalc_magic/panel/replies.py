"""What ``panel.status()``, ``closeall()``, ``open()`` and ``post()`` return: a small live view of
the answer, shown in the cell's output where the user looks, and filled in when the answer comes.

A cell never waits for the browser (the reply can only arrive after the cell has finished: the
kernel handles comm messages between cells), so the call returns at once with this view; CoCalc's
reply, or the reason none will come, replaces "waiting" as soon as the browser relays it. The
protocol has no request ids, so a reply goes to the oldest waiting call whose action it answers.
"""

from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets

from . import texts

MAX_WAITING = 50  # calls still waiting for an answer; older ones are dropped (their view says so)


class Reply(ipywidgets.HTML):
    """The answer to one protocol call: ``.reply`` (CoCalc's last message for it, or None),
    ``.text`` (one line) and ``.done``; also in ``panel.replies``."""

    def __init__(self, action: str, path: str = "", text: str = "") -> None:
        super().__init__()
        self.action = action
        self.path = path
        self.reply: dict | None = None
        self.done = False
        self.text = ""
        self.show(text or f"Sent {action} to the embedded CoCalc; its reply appears here.")

    def show(self, text: str, reply: dict | None = None, done: bool = False) -> None:
        """Replace what the view says (and remember the reply it came from)."""
        self.text = texts.one_line(text)
        if reply is not None:
            self.reply = reply
        self.done = self.done or done
        raw = ""
        if reply is not None:
            raw = f' <code class="ccp-reply-raw">{html.escape(json.dumps(reply, default=str)[:400])}</code>'
        mark = "" if self.done else " …"
        self.value = f'<span class="ccp-reply">{html.escape(self.text)}{mark}</span>{raw}'

    def accepts(self, reply: dict) -> bool:
        """Whether ``reply`` answers this call (the protocol's replies carry no request id)."""
        status, action = reply.get("status"), reply.get("action")
        if status == "error" and not action:
            return True  # argument errors and unknown actions name no action: the oldest call gets it
        if self.action == "open":
            return action == "open" and (not self.path or reply.get("path") == self.path)
        if self.action == "status":
            return "open_files" in reply
        if self.action == "closeall":
            return status == "done" and not action and "open_files" not in reply
        return True  # any other message: its first answer

    def __repr__(self) -> str:
        if self.done:
            return f"{self.action}: {self.text}"
        return f"{self.action}: {self.text} (the reply arrives in panel.replies)"

    def _repr_mimebundle_(self, **kwargs: Any):
        bundle = super()._repr_mimebundle_(**kwargs)
        data, meta = bundle if isinstance(bundle, tuple) else (bundle, {})
        return dict(data, **{"text/plain": repr(self)}), meta


class Waiting:
    """The calls still waiting for an answer, oldest first."""

    def __init__(self) -> None:
        self._calls: list[Reply] = []

    def add(self, call: Reply) -> Reply:
        if not call.done:
            self._calls.append(call)
            for old in self._calls[:-MAX_WAITING]:
                old.show("No reply was matched to this call (too many calls were waiting).", done=True)
            del self._calls[:-MAX_WAITING]
        return call

    def answer(self, reply: dict) -> None:
        """Give ``reply`` to the oldest call it answers; an ``ack`` leaves the call waiting."""
        for call in self._calls:
            if call.accepts(reply):
                final = reply.get("status") != "ack"
                call.show(texts.reply_text(reply), reply, done=final)
                if final:
                    self._calls.remove(call)
                return

    def give_up(self, text: str, action: str | None = None) -> None:
        """No answer will come (e.g. the frame's protocol never answered): say why, in each view."""
        for call in [c for c in self._calls if action is None or c.action == action]:
            call.show(text, done=True)
            self._calls.remove(call)
