"""``/api/v2/jupyter/execute`` and ``/api/v2/jupyter/kernels`` (``next/pages/api/v2/jupyter/*.ts``,
both since 2023-03-31, so served by every generation here).

``execute`` is the hub's cached Jupyter API (``core.jupyter_api``): ``{input, kernel, history,
tag, noCache, hash, project_id, path}`` -> ``{output, created[, id], success: true}``; ``kernels``
-> ``{kernels, success: true}``. Errors are ``{"error": err.message}``. The collaborator check is
the one of 5cb3315c30 (at a50170846e it was not awaited, so it let anyone through; a hole this
server does not copy). Without ``project_id`` CoCalc uses its global pool project, which a
local server does not have (``jupyter_api_enabled`` false, as on a fresh self-hosted CoCalc).
"""

from __future__ import annotations

from ..core import access
from ..core.jupyter import kernel_specs
from ..core.jupyter_api import execute
from ..core.store import now_ms
from ..core.userquery import iso
from .api import V2Error, V2Handler, _uid

NOT_SIGNED_IN = "account_id must be specified -- make sure you are signed in"
NOT_ENABLED = "Jupyter API is not enabled on this server."
NOT_COLLAB = "permission denied -- user must be collaborator on project"


def _project(h: V2Handler, p: dict) -> str:
    project_id = p.get("project_id")
    if project_id is None:
        raise V2Error(NOT_ENABLED)
    who = _uid(h)
    if not who:
        raise V2Error(NOT_SIGNED_IN)
    try:
        allowed = access.is_collaborator(h.ctx, who, project_id)
    except ValueError as exc:  # a malformed id: PostgreSQL's uuid error, as CoCalc shows it
        raise V2Error(str(exc)) from None
    if not allowed:
        raise V2Error(NOT_COLLAB)
    return project_id


async def jupyter_execute(h: V2Handler, p: dict):
    opts = {k: p.get(k) for k in ("input", "kernel", "history", "tag", "noCache", "hash", "path")}
    if opts["hash"] is None or opts["noCache"]:
        project_id = _project(h, p)
        await h.ctx.runtime.ensure_running(project_id)
    else:
        project_id = p.get("project_id")
    result = await execute(h.ctx, project_id, opts, iso(now_ms()))
    return {**(result or {}), "success": True}


async def jupyter_kernels(h: V2Handler, p: dict):
    project_id = _project(h, p)
    return {"kernels": kernel_specs(h.ctx, project_id), "success": True}


ROUTES = {"jupyter/execute": jupyter_execute, "jupyter/kernels": jupyter_kernels}
