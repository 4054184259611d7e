"""``SyncReport``: what a sync did (or, with ``dry_run``, would do), path by path."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

FIELDS = ("uploaded", "downloaded", "deleted_local", "deleted_remote", "conflicts", "skipped")
LABELS = {"uploaded": "uploaded (here → project)", "downloaded": "downloaded (project → here)",
          "deleted_local": "deleted here", "deleted_remote": "deleted in the project",
          "conflicts": "conflicts (both versions kept)", "skipped": "skipped"}
SHOWN = 5  # paths listed per row before "… and N more"


@dataclass
class SyncReport:
    """Lists of paths relative to the synced folder. ``notes`` says why a path was skipped, what
    became of a conflict (the names of the two copies) or of an edit made over a deletion;
    ``errors`` holds the one-line error of each file that failed (those are in ``skipped`` too)."""

    uploaded: list[str] = field(default_factory=list)
    downloaded: list[str] = field(default_factory=list)
    deleted_local: list[str] = field(default_factory=list)
    deleted_remote: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    dry_run: bool = False
    notes: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    local: str = ""
    remote: str = ""

    @property
    def changed(self) -> bool:
        """Whether anything was (or, in a dry run, would be) copied, deleted or kept as a conflict."""
        return any(getattr(self, f) for f in FIELDS[:5])

    @property
    def ok(self) -> bool:
        """No file failed."""
        return not self.errors

    def __repr__(self) -> str:
        counts = ", ".join(f"{f}={len(getattr(self, f))}" for f in FIELDS)
        dry = "dry_run=True, " if self.dry_run else ""
        err = f", errors={len(self.errors)}" if self.errors else ""
        return f"SyncReport({dry}{counts}{err})"

    def _rows(self) -> list[tuple[str, list[str]]]:
        return [(LABELS[f], getattr(self, f)) for f in FIELDS if getattr(self, f)]

    def _title(self) -> str:
        where = f"{self.local} ⇄ {self.remote}" if self.local or self.remote else "sync"
        return f"{'Dry run (nothing changed): ' if self.dry_run else ''}{where}"

    def text(self) -> str:
        """A few lines: one per kind of change, the first paths of each, then the errors."""
        lines = [self._title() + ("" if self.changed or self.skipped else ": already in sync")]
        for label, paths in self._rows():
            more = f" … and {len(paths) - SHOWN} more" if len(paths) > SHOWN else ""
            lines.append(f"  {label}: {len(paths)}  {', '.join(paths[:SHOWN])}{more}")
        for path, note in list(self.notes.items())[:SHOWN] + list(self.errors.items())[:SHOWN]:
            lines.append(f"  {path}: {note}")
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle: bool) -> None:
        p.text(self.text())

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        for label, paths in self._rows():
            shown = ", ".join(f"<code>{esc(x)}</code>" for x in paths[:SHOWN])
            if len(paths) > SHOWN:
                shown += f" … and {len(paths) - SHOWN} more"
            rows.append(f"<tr><td style='text-align:left'>{esc(label)}</td>"
                        f"<td style='text-align:right'>{len(paths)}</td><td style='text-align:left'>{shown}</td></tr>")
        if not rows:
            rows.append("<tr><td colspan='3' style='text-align:left'>already in sync: nothing to do</td></tr>")
        notes = "".join(f"<li><code>{esc(k)}</code>: {esc(v)}</li>"
                        for k, v in [*list(self.notes.items())[:SHOWN], *list(self.errors.items())[:SHOWN]])
        return ("<div class='cocalc-magic-sync'><table class='cocalc-magic-table'>"
                f"<caption style='text-align:left'>{esc(self._title())}</caption><tbody>{''.join(rows)}"
                f"</tbody></table>{f'<ul>{notes}</ul>' if notes else ''}</div>")
