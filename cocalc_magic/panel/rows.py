"""Turn the client's models into the small JSON rows the panel's JavaScript renders.

Duck-typed on purpose (ProjectInfo/FileEntry or anything with the same attributes, or dicts), so
the panel does not depend on the client's model classes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable


def get_field(obj: Any, name: str, default: Any = None) -> Any:
    """``obj[name]`` for a dict, ``obj.name`` for anything else (models or look-alikes). A row that
    fills fields lazily (cocalc.ai's projects) is read as known now: a list costs no call per row."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    peek = getattr(obj, "peek", None)
    if callable(peek):
        value = peek(name)
        return default if value is None else value
    return getattr(obj, name, default)


def _iso(value: Any) -> str:
    """ISO-8601 in UTC ("" when unknown): the browser formats it in the user's locale."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, (int, float)):  # epoch seconds or ms
        secs = value / 1000 if value > 1e11 else value
        return _iso(datetime.fromtimestamp(secs, tz=timezone.utc))
    return str(value)


def project_rows(projects: Iterable[Any]) -> list[dict]:
    """One row per project, newest first (never-edited ones last)."""
    rows = [
        {
            "project_id": str(get_field(p, "project_id", "")),
            "title": str(get_field(p, "title", "") or ""),
            "description": str(get_field(p, "description", "") or ""),
            "state": str(get_field(p, "state", "") or ""),
            "last_edited": _iso(get_field(p, "last_edited")),
        }
        for p in projects
    ]
    # ISO strings in UTC sort like the times they stand for; the stable sort keeps the server's order on ties.
    rows.sort(key=lambda r: r["last_edited"], reverse=True)
    return rows


def is_notebook(name: str) -> bool:
    return name.lower().endswith(".ipynb")


def file_rows(entries: Iterable[Any], show_hidden: bool = False) -> list[dict]:
    """Notebooks first, then folders, then other files; each group by name. Hidden files
    (CoCalc's `.x.ipynb.sage-jupyter2` and friends) are left out unless asked for."""
    rows = []
    for e in entries:
        name = str(get_field(e, "name", ""))
        if not name or (name.startswith(".") and not show_hidden):
            continue
        isdir = bool(get_field(e, "isdir", False))
        rows.append(
            {
                "name": name,
                "isdir": isdir,
                "notebook": (not isdir) and is_notebook(name),
                "size": int(get_field(e, "size", 0) or 0),
                "mtime": _iso(get_field(e, "mtime")),
            }
        )

    def order(r: dict) -> tuple:
        group = 0 if r["notebook"] else (1 if r["isdir"] else 2)
        return (group, r["name"].lower())

    rows.sort(key=order)
    return rows
