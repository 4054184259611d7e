"""``%cocalc sync LOCAL [REMOTE]``: a folder here and one in a project kept the same, both ways.

The work is the client's (``Project.sync``); this shows its report as a table and turns Ctrl-C
into one line saying that what finished is kept. Imported with the extension: nothing heavy here.
"""

from __future__ import annotations

import os
from typing import Any

from .display import result_fate


def sync(m: Any, a: Any) -> Any:
    """Run one sync; the report is shown (a table in a notebook) unless the caller keeps it."""
    cc = m.client()
    p = m._project(cc, a.project)
    report = m._call(
        lambda: p.sync(os.path.expanduser(a.local), a.remote, dry_run=a.dry_run, delete=a.delete,
                       exclude=a.exclude or ()),
        f"the sync of {a.local}",
        on_interrupt=lambda: "what finished is recorded: run the same %cocalc sync again to finish",
    )
    if result_fate() == "kept":
        return report
    from IPython.display import display

    display(report)
    return None
