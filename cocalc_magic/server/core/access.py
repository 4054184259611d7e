"""Who is calling and may they touch this project: key lookup and collaborator checks for the
current generation (conat bridges and /api/v2), with cocalc.com's optional lookup caching.

cocalc.com caches both lookups (recorded: a deleted key keeps working ~15 s,
``hub-system-test-deleted-key-immediately``; a removed collaborator keeps access ~30 s,
``hub-projects-state-user2-right-after-removal``). We reproduce that only when
``ServerContext.lookup_cache`` is true. It defaults to off, and the test fixture leaves it off:
a local server that reflects a change at once is what a user and a test expect, and the client
must not depend on the cache anyway. Like CoCalc's ``getPool("long")`` comment ("fine to cache
'yes, you're a collab'"), only positive answers are cached.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .store import is_uuid, sha256

KEY_CACHE_S = 15.0  # recorded: deleted key still valid right after, rejected 17 s later
COLLAB_CACHE_S = 30.0  # recorded: removed collaborator still passes, refused 31 s later

INVALID_UUIDS = "invalid account_id or project_id -- all must be valid uuid's"


@dataclass(frozen=True)
class Caller:
    """The identity behind a key: an account, or a project (project-scoped key)."""

    account_id: str | None
    project_id: str | None = None

    @property
    def id(self) -> str:
        """What CoCalc's v2 layer uses as "account_id": a project key acts as its project."""
        return self.account_id or self.project_id or ""


def _cache(ctx, name: str) -> dict:
    return ctx.caches.setdefault(name, {})


def _caching(ctx) -> bool:
    return bool(getattr(ctx, "lookup_cache", False))


def resolve_key(ctx, secret: str) -> Caller | None:
    """The caller a key belongs to, or None (unknown, expired, or a banned owner)."""
    if not secret:
        return None
    cache = _cache(ctx, "current.keys")
    digest = sha256(secret)
    if _caching(ctx):
        hit = cache.get(digest)
        if hit and hit[1] > time.monotonic():
            return hit[0]
    row = ctx.store.resolve_api_key(secret)
    if not row:
        return None
    acct = ctx.store.account(row["account_id"])
    if not acct or acct.get("banned"):
        return None
    caller = Caller(account_id=None, project_id=row["project_id"]) if row["project_id"] else Caller(row["account_id"])
    if _caching(ctx):
        cache[digest] = (caller, time.monotonic() + KEY_CACHE_S)
    return caller


def is_collaborator(ctx, account_id: str | None, project_id: str | None) -> bool:
    """CoCalc's ``isCollaborator``: raises ValueError(INVALID_UUIDS) for malformed ids; a
    project acting as its own "account" is its own collaborator."""
    if not is_uuid(account_id) or not is_uuid(project_id):
        raise ValueError(INVALID_UUIDS)
    if account_id == project_id:
        return True
    cache = _cache(ctx, "current.collab")
    key = (project_id, account_id)
    if _caching(ctx):
        hit = cache.get(key)
        if hit and hit > time.monotonic():
            return True
    ok = ctx.store.group(project_id, account_id) in ("owner", "collaborator")
    if ok and _caching(ctx):
        cache[key] = time.monotonic() + COLLAB_CACHE_S
    return ok
