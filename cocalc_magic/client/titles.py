"""Finding a project by its title: exact, then case-insensitive, then a unique prefix; or, for a
get-or-create, the exact title only. Pure: works on the backend's project rows."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..errors import InvalidRequest, NotFound


def match_title(rows: list[dict[str, Any]], ref: str, create: bool = False) -> dict[str, Any] | None:
    """The row titled ``ref``. ``create``: exact titles only, the most recently edited one if
    several are, None if none is (the caller creates it). Otherwise a unique match by exact title,
    case-insensitive title, prefix, case-insensitive prefix, in that order; several: InvalidRequest
    naming them with their ids; none: NotFound naming a few titles there are."""
    if create:
        exact = [r for r in rows if r["title"] == ref]
        if not exact:
            return None
        epoch = datetime.fromtimestamp(0, tz=timezone.utc)
        return max(exact, key=lambda r: r["last_edited"] or r["created"] or epoch)
    for matcher in (
        lambda r: r["title"] == ref,
        lambda r: r["title"].lower() == ref.lower(),
        lambda r: r["title"].startswith(ref),
        lambda r: r["title"].lower().startswith(ref.lower()),
    ):
        hits = [r for r in rows if matcher(r)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            listed = ", ".join(f"{h['title']!r} ({h['project_id']})" for h in hits[:8])
            more = f" and {len(hits) - 8} more" if len(hits) > 8 else ""
            raise InvalidRequest(f"{ref!r} matches {len(hits)} projects: {listed}{more}", hint="project_ambiguous")
    known = ", ".join(repr(r["title"]) for r in rows[:8]) or "none"
    raise NotFound(f"no project titled {ref!r} (or starting so); your projects: {known}"
                   f"{' …' if len(rows) > 8 else ''}", hint="project_title")
