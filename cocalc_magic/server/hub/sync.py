"""The hub's ``sync.history``: a file's edit history (server/conat/api/sync.ts at 5cb3315c30).

The real hub reads the file's patch stream and its syncstring record; here both come from
``core/history.py``, which records a version on each write through the API.
"""

from __future__ import annotations

from ..core import access, history as file_history
from ..core.jsvalues import error, js_str

NOT_COLLABORATOR = "user must be collaborator on source project"


async def history(ctx, account_id, opts=None, *args):
    """``{patches: [{mesg, seq, time}], info}``; no bypass for site admins."""
    opts = opts or {}
    project_id = opts.get("project_id")
    try:
        ok = bool(account_id) and access.is_collaborator(ctx, account_id, project_id)
    except ValueError as exc:
        raise error(str(exc)) from None
    if not ok:
        raise error(NOT_COLLABORATOR)
    start_seq, end_seq = opts.get("start_seq") or 0, opts.get("end_seq")
    return file_history.history(ctx.store, project_id, ctx.store.home(project_id), js_str(opts.get("path")),
                                int(start_seq), None if end_seq is None else int(end_seq))


FUNCTIONS = {"history": history}
