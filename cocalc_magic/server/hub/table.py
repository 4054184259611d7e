"""The hub's dispatch: ``{name, args}`` to a function of ``accounts``, ``projects``, ``org``, ``messages`` or ``sync``, with
CoCalc's auth transform (``authFirst`` injects the caller into ``args[0]``)."""

from __future__ import annotations

from typing import Any

from ..core.jsvalues import inject_first, lookup, spread_args
from . import accounts as A
from . import messages as M
from . import org as O
from . import projects as P
from . import sync as S

NO_AUTH, AUTH_FIRST, REQUIRE_ACCOUNT = "noAuth", "authFirst", "requireAccount"

TABLE = {
    "system": {
        "ping": (NO_AUTH, A.ping),
        "test": (AUTH_FIRST, A.test),
        "getNames": (REQUIRE_ACCOUNT, A.get_names),
        "userSearch": (AUTH_FIRST, A.user_search),
        "generateUserAuthToken": (AUTH_FIRST, A.generate_user_auth_token),
        "revokeUserAuthToken": (NO_AUTH, A.revoke_user_auth_token),
        "manageApiKeys": (AUTH_FIRST, A.manage_api_keys_fn),
        "getCustomize": (NO_AUTH, A.get_customize),
    },
    "projects": {
        "createProject": (AUTH_FIRST, P.create_project),
        "copyPathBetweenProjects": (AUTH_FIRST, P.copy_path_between_projects),
        "addCollaborator": (AUTH_FIRST, P.add_collaborator),
        "removeCollaborator": (AUTH_FIRST, P.remove_collaborator),
        "start": (AUTH_FIRST, P.start),
        "stop": (AUTH_FIRST, P.stop),
        "touch": (AUTH_FIRST, P.touch),
        "state": (AUTH_FIRST, P.state),
        "status": (AUTH_FIRST, P.status),
        "deleteProject": (AUTH_FIRST, P.delete_project_fn),
    },
    "db": {"userQuery": (AUTH_FIRST, P.user_query)},
    # every org.*, messages.* and sync.* function is authFirst (conat/hub/api/{org,messages,sync}.ts)
    "org": {fn: (AUTH_FIRST, f) for fn, f in O.FUNCTIONS.items()},
    "messages": {fn: (AUTH_FIRST, f) for fn, f in M.FUNCTIONS.items()},
    "sync": {fn: (AUTH_FIRST, f) for fn, f in S.FUNCTIONS.items()},
    "jupyter": {"kernels": (AUTH_FIRST, P.jupyter_kernels), "execute": (AUTH_FIRST, P.jupyter_execute_hub)},
}


async def call(ctx, account_id: str, name: Any, args: Any) -> Any:
    """Dispatch like CoCalc's hub: lookup, auth transform, ``f(...args)``."""
    mode, f = lookup(TABLE, name)
    args = spread_args(args)  # a non-list raises the spread TypeError, as f(...args) would
    if mode == AUTH_FIRST:
        args = inject_first(args, "account_id", account_id)
    return await f(ctx, account_id, *args)
