"""The v1 Jupyter messages (``mesg_jupyter_execute`` / ``mesg_jupyter_kernels`` of
``hub/client.coffee`` at a50170846e), a mixin of ``V1Handler``.

``jupyter_kernels`` lists a project's kernels. ``jupyter_execute`` hands the message itself to
the hub's execute (``core.jupyter_api``), and a message has no ``account_id``: so for a project
CoCalc answers "account_id must be specified" (what ran was only an answer already in the
cache), and without one it needs the global pool this server does not have. Clients of that era
use ``/api/v2/jupyter/execute`` (``v2/jupyter.py``), which knows the caller.
"""

from __future__ import annotations

from ..core import access
from ..core.jupyter import kernel_specs
from ..core.jsvalues import RemoteError
from ..core.jupyter_api import compute_hash, lookup
from .schemas import Caller, V1Error

NOT_ENABLED = "Error: Jupyter API is not enabled on this server."


class JupyterMessages:
    async def m_jupyter_kernels(self, m: dict, caller: Caller) -> dict:
        project_id = m.get("project_id")
        if project_id is None:
            raise V1Error(NOT_ENABLED)
        if not caller.account_id:
            raise V1Error("Error: account_id must be specified -- make sure you are signed in")
        try:
            allowed = access.is_collaborator(self.ctx, caller.account_id, project_id)
        except ValueError as exc:
            raise V1Error(f"Error: {exc}") from None
        if not allowed:  # guess: a50170846e did not await this check; 5cb3315c30 does
            raise V1Error("Error: permission denied -- user must be collaborator on project")
        return self.ok("jupyter_kernels", m, kernels=kernel_specs(self.ctx, project_id))

    async def m_jupyter_execute(self, m: dict, caller: Caller) -> dict:
        if not caller.account_id:
            raise V1Error("not signed in")
        if m.get("hash") is not None:
            hit = lookup(self.ctx, str(m["hash"]))
            if hit is None:  # `resp = null; resp.id = ...` in the hub
                raise V1Error("TypeError: Cannot set properties of null (setting 'id')")
            return self.ok("jupyter_execute_response", m, output=hit["output"])
        if m.get("input") is None:
            raise V1Error("Error: input or hash must not be null")
        if m.get("kernel") is None:
            raise V1Error("Error: kernel must be specified in hash is not specified")
        try:
            key = compute_hash(m.get("history"), str(m["input"]), str(m["kernel"]), m.get("project_id"), m.get("path"))
        except RemoteError as exc:
            raise V1Error(exc.text) from None
        hit = lookup(self.ctx, key)
        if hit is not None:
            return self.ok("jupyter_execute_response", m, output=hit["output"])
        if m.get("project_id") is None:
            raise V1Error(NOT_ENABLED)
        raise V1Error("Error: account_id must be specified -- make sure you are signed in")
