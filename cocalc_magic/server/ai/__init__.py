"""The ``ai`` generation: the local server playing a cocalc.ai hub (sagemathinc/cocalc-ai).

cocalc.ai keeps the two conat bridges and ``/api/v2`` but changes what a key may do: account
keys ``sk-cc-v2.…`` with capabilities and allowed projects (``keys``), eight hub calls
(``hub``), ``project:exec`` for every project call and no auto-start (``project``), projects
listed, started and stopped through ``/api/v2`` (``v2``), Express' request handling
(``express``). Facts: ``reference/cocalc-ai-facts.md``; recordings: ``real-ai-transcripts.md``.

Since cocalc.ai makes keys only in its web UI (with a fresh second factor), the server starts
with one project and an all-capability key allowed on it (``bootstrap``); more keys come from
``LocalServer.create_key``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..core.store import now_ms
from . import hub, keys, project, v2, web

DEFAULT_TITLE = "My project"
DEFAULT_DESCRIPTION = "Made by cocalc-magic serve --api ai"
# the key each start makes, replacing the one of that name (the recorded name of such a key)
FIRST_KEY_NAME = "all-capabilities"


def routes(ctx) -> list:
    """Every route of the ai generation but the shared sign-in, sign-up and kiosk pages."""
    keys.ensure_schema(ctx.store)
    return hub.routes(ctx) + project.routes(ctx) + v2.routes(ctx) + web.routes(ctx)


def bootstrap(store, data_dir: Path, account_id: str) -> tuple[str, str]:
    """The first project and a fresh all-capability key on it: ``(project_id, key)``.

    ``ai.json`` (mode 0600) keeps the project's id, never the key (as ``admin.json``: commands in
    any project can read the data dir); the key is made anew on each start and the previous
    start's one stops working. Keys made with ``create_key`` stay.
    """
    keys.ensure_schema(store)
    path = Path(data_dir) / "ai.json"
    try:
        project_id = json.loads(path.read_text()).get("project_id")
    except (OSError, ValueError, AttributeError):
        project_id = None
    if not project_id or not store.project(project_id) or store.group(project_id, account_id) != "owner":
        project_id = store.create_project(account_id, DEFAULT_TITLE, DEFAULT_DESCRIPTION)
    store.execute("DELETE FROM ai_api_keys WHERE account_id=? AND name=?", (account_id, FIRST_KEY_NAME))
    _, secret = keys.create_key(store, account_id, keys.CAPABILITIES, [project_id], name=FIRST_KEY_NAME)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"project_id": project_id}, fh)
    return project_id, secret


def new_key(store, account_id: str, capabilities, projects, name: str = "", expire_s: float | None = None) -> str:
    """A key with these capabilities (None: all) on these projects; ValueError for a bad scope."""
    caps = keys.CAPABILITIES if capabilities is None else list(capabilities)
    expire = None if expire_s is None else now_ms() + expire_s * 1000
    return keys.create_key(store, account_id, caps, list(projects), name=name, expire_ms=expire)[1]


def allow(store, secret: str, project_ids: list[str]) -> None:
    """Add projects to the allowed list of the key ``secret`` (``--demo``'s projects)."""
    principal = keys.resolve(store, secret)
    if principal is not None:
        keys.allow_projects(store, principal.api_key_id, project_ids)


def edit_key(store, secret: str, capabilities=None, projects=None, add_projects=()) -> None:
    """The web UI's edit of a key: new capabilities and/or allowed projects (None: unchanged)."""
    principal = keys.resolve(store, secret)
    if principal is None:
        raise ValueError("no such API key (unknown, or expired)")
    caps = principal.capabilities if capabilities is None else capabilities
    allowed = list(principal.allowed_project_ids if projects is None else projects)
    allowed += [p for p in add_projects if p not in allowed]
    keys.set_scope(store, principal.api_key_id, list(caps), allowed)


__all__ = ["routes", "bootstrap", "new_key", "allow", "edit_key"]
