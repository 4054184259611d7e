"""The panel's one-line texts: what a reply from CoCalc's IFrame or a browser-side timeout means.

Kept apart from the widget so the wording is in one place and testable without a browser.
"""

from __future__ import annotations

from typing import Any

from ..errors import CoCalcError


def one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_text(exc: BaseException) -> str:
    """A client error as one line: CoCalcError messages already say what to do; anything else
    gets its type so that it is recognisable (never a traceback in the widget)."""
    if isinstance(exc, CoCalcError):
        return one_line(str(exc))
    return one_line(f"{type(exc).__name__}: {exc}")


def reply_text(data: Any) -> str:
    """Summarise one reply of CoCalc's IFrame protocol (facts §6) for the status line."""
    if not isinstance(data, dict):
        return one_line(f"CoCalc replied: {data!r}")
    status = data.get("status")
    action = data.get("action")
    path = data.get("path")
    if status == "ack" and action == "open":
        return f"CoCalc is opening {path} …"
    if status == "done" and action == "open":
        return f"Opened {path}."
    if status == "error":
        return one_line(f"CoCalc error: {data.get('mesg', 'no message')}")
    if status == "done" and "open_files" in data:
        files = data.get("open_files") or {}
        paths = [p for ps in files.values() for p in (ps or [])]
        conn = (data.get("connection") or {}).get("status")
        where = f" (connection: {conn})" if conn else ""
        if not paths:
            return f"CoCalc status: no open files{where}."
        return one_line(f"CoCalc status: {len(paths)} open file(s): {', '.join(paths)}{where}.")
    if status == "done" and data.get("mesg"):
        return one_line(f"CoCalc: {data['mesg']}.".replace("..", "."))
    return one_line(f"CoCalc replied: {data}")


def rendered_text(path: str, reason: str | None) -> str:
    """Why the panel shows the file read-only (None: it was asked for), and what the user can do."""
    why = f": the embedded CoCalc cannot be signed in here ({one_line(reason, 160).rstrip('. ')})" if reason else ""
    return one_line(
        f"Read-only view of {path}{why}. "
        "Refresh re-reads the file; “Open in CoCalc” opens it in a new tab, where you sign in.",
        limit=420,
    )


def event_text(event: str, info: dict) -> str:
    """Explain what the browser side noticed (timeouts and such) in one line."""
    parent = info.get("parent_origin") or "this page"
    path = info.get("path") or "the file"
    secs = info.get("seconds")
    after = f" after {secs:g} s" if isinstance(secs, (int, float)) else ""
    if event == "no_status":
        return (
            f"CoCalc's IFrame protocol did not answer{after}: it talks only to https pages without a port "
            f"on hosts in its iframe_comm_hosts setting, and this page is {parent}. "
            "Use “Open in new tab”."
        )
    if event == "no_ack":
        return (
            f"CoCalc answered but did not open {path}{after}: the frame is signed out or this account "
            "cannot access the project. Use “Open in new tab” to sign in."
        )
    if event == "no_frame":
        return "Nothing is embedded yet: choose a notebook first (or call panel.open(project, path))."
    if event == "ready":
        return f"CoCalc is ready; opening {path} …"
    if event == "loading":
        return f"Loading {path} in CoCalc's kiosk mode …"
    return one_line(f"{event}: {info}")
