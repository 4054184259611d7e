"""cocalc.ai's account API keys: ``sk-cc-v2.<key_id>.<secret>`` with capabilities and allowed projects.

The rules and texts are cocalc-ai's ``server/api/api-key-scope.ts`` and ``manage.ts`` at 0cf1d9e0bd:
a key id of 12 random bytes and a secret of 32, both base64url (16 and 43 characters); the old
``sk-cocalc-v2.`` prefix is parsed too; ``trunc`` is the first 5 and last 8 characters. Every
project, file, exec or Codex capability needs a non-empty allowed list, so no key covers all
projects. Secrets are stored as SHA-256 hashes only, like the store's other keys (cocalc-ai uses
its salted password hash; a hash of 256 random bits needs no salt).
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any, Iterable

from ..core.jsvalues import RemoteError, js_str
from ..core.store import is_uuid, now_ms, sha256
from ..core.userquery import iso

PREFIX = "sk-cc-v2"
LEGACY_PREFIXES = ("sk-cocalc-v2",)

# api-key-scope.ts CAPABILITY_SET, in its order (the order keys list them in)
CAPABILITIES = (
    "account:read",
    "project:create",
    "project:list",
    "project:read",
    "project:write",
    "file:read",
    "file:write",
    "project:exec",
    "codex:run",
)
NEEDS_PROJECTS = frozenset(
    ("project:read", "project:write", "file:read", "file:write", "project:exec", "codex:run")
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS ai_api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    trunc TEXT NOT NULL,
    hash TEXT NOT NULL,
    capabilities TEXT NOT NULL DEFAULT '[]',
    allowed_project_ids TEXT NOT NULL DEFAULT '[]',
    created REAL NOT NULL,
    expire REAL,
    last_active REAL
);
"""


class ScopeError(ValueError):
    """A key's scope that cocalc-ai would refuse to store; ``str`` is its text."""


class CapabilityDenied(RemoteError):
    """``requireApiKeyCapability`` failed; ``.text`` is the reply's error text."""

    def __init__(self, capability: str, project_id: str | None = None):
        text = f"API key lacks required capability '{capability}'"
        if project_id is not None:
            text += f" for project {project_id}"
        super().__init__(text)
        self.capability, self.project_id = capability, project_id


@dataclass(frozen=True)
class Principal:
    """Who a valid key belongs to, and what it may do (cocalc-ai's ApiKeyPrincipal)."""

    account_id: str
    api_key_id: int
    key_id: str
    capabilities: tuple[str, ...]
    allowed_project_ids: tuple[str, ...]

    def require(self, capability: str) -> None:
        if capability not in self.capabilities:
            raise CapabilityDenied(capability)

    def require_project(self, capability: str, project_id: Any) -> None:
        """``requireApiKeyProjectCapability``: the capability AND the project in the allowed list."""
        if capability not in self.capabilities or project_id not in self.allowed_project_ids:
            raise CapabilityDenied(capability, _js(project_id))


def _js(value: Any) -> str:
    """``${value}`` for the id shown in the refusal (a missing id prints as undefined)."""
    return "undefined" if value is None else js_str(value)


def ensure_schema(store) -> None:
    store.execute(SCHEMA)


def normalize_scope(capabilities: Any, allowed_project_ids: Any) -> tuple[list[str], list[str]]:
    """``normalizeApiKeyScope``: known capabilities, valid project ids, the allow-list rule."""
    caps: list[str] = []
    for c in capabilities if isinstance(capabilities, (list, tuple)) else []:
        value = ("" if c is None else str(c)).strip()
        if value not in CAPABILITIES:
            raise ScopeError(f"invalid API key capability '{value}'")
        if value not in caps:
            caps.append(value)
    if not caps:
        raise ScopeError("API keys must have at least one explicit capability")
    projects: list[str] = []
    for p in allowed_project_ids if isinstance(allowed_project_ids, (list, tuple)) else []:
        value = ("" if p is None else str(p)).strip()
        if not is_uuid(value):
            raise ScopeError(f"invalid allowed project id '{value}'")
        if value not in projects:
            projects.append(value)
    if any(c in NEEDS_PROJECTS for c in caps) and not projects:
        raise ScopeError(
            "API keys with project, file, Codex, or exec capabilities must include at least one allowed project id"
        )
    return caps, projects


def _b64url(n: int) -> str:
    return secrets.token_urlsafe(n)  # base64url without padding: 12 bytes -> 16 chars, 32 -> 43


def create_key(
    store,
    account_id: str,
    capabilities: Iterable[str],
    allowed_project_ids: Iterable[str] = (),
    name: str = "",
    expire_ms: float | None = None,
) -> tuple[dict, str]:
    """A new key; returns (its row as ``system.manageApiKeys`` lists it, the secret). Shown once."""
    caps, projects = normalize_scope(list(capabilities), list(allowed_project_ids))
    key_id = _b64url(12)
    secret = f"{PREFIX}.{key_id}.{_b64url(32)}"
    with store.tx() as db:
        cur = db.execute(
            "INSERT INTO ai_api_keys (key_id, account_id, name, trunc, hash, capabilities,"
            " allowed_project_ids, created, expire) VALUES (?,?,?,?,?,?,?,?,?)",
            (key_id, account_id, name or "", f"{secret[:5]}...{secret[-8:]}", sha256(secret),
             json.dumps(caps), json.dumps(projects), now_ms(), expire_ms),
        )
        row_id = cur.lastrowid
    return key_row(store.query_one("SELECT * FROM ai_api_keys WHERE id=?", (row_id,))), secret


def set_scope(store, row_id: int, capabilities: Any, allowed_project_ids: Any) -> None:
    """Change what a key may do (the web UI's edit), with the same validation as creation."""
    caps, projects = normalize_scope(capabilities, allowed_project_ids)
    store.execute(
        "UPDATE ai_api_keys SET capabilities=?, allowed_project_ids=? WHERE id=?",
        (json.dumps(caps), json.dumps(projects), row_id),
    )


def allow_projects(store, row_id: int, project_ids: Iterable[str]) -> None:
    """Add projects to a key's allowed list (``--demo`` seeds its projects this way)."""
    row = store.query_one("SELECT * FROM ai_api_keys WHERE id=?", (row_id,))
    if row is None:
        return
    have = json.loads(row["allowed_project_ids"])
    set_scope(store, row_id, json.loads(row["capabilities"]), have + [p for p in project_ids if p not in have])


def parse(secret: Any) -> str | None:
    """The key id of a well-formed v2 key, else None (``parseApiKeyV2``)."""
    parts = str(secret or "").split(".")
    if len(parts) != 3 or (parts[0] != PREFIX and parts[0] not in LEGACY_PREFIXES):
        return None
    key_id, rest = parts[1].strip(), parts[2].strip()
    return key_id if key_id and rest else None


def resolve(store, secret: Any) -> Principal | None:
    """``getAccountWithApiKey``: the principal of a valid key; None for a bad format, an unknown
    key id, a wrong secret, an expired key (deleted on use) or a banned account."""
    key_id = parse(secret)
    if key_id is None:
        return None
    row = store.query_one("SELECT * FROM ai_api_keys WHERE key_id=?", (key_id,))
    if row is None:
        return None
    acct = store.account(row["account_id"])
    if not acct or acct.get("banned"):
        return None
    if not hmac.compare_digest(row["hash"], sha256(str(secret))):
        return None
    if row["expire"] is not None and row["expire"] <= now_ms():
        store.execute("DELETE FROM ai_api_keys WHERE id=?", (row["id"],))
        return None
    store.execute("UPDATE ai_api_keys SET last_active=? WHERE id=?", (now_ms(), row["id"]))
    return Principal(
        account_id=row["account_id"], api_key_id=row["id"], key_id=row["key_id"],
        capabilities=tuple(json.loads(row["capabilities"])),
        allowed_project_ids=tuple(json.loads(row["allowed_project_ids"])),
    )


def key_row(row: dict | None) -> dict | None:
    """A key as cocalc-ai lists it (``/api/v2/api-keys`` get): never the secret or its hash."""
    if row is None:
        return None
    return {
        "id": row["id"], "key_id": row["key_id"], "account_id": row["account_id"],
        "expire": iso(row["expire"]), "created": iso(row["created"]), "name": row["name"],
        "trunc": row["trunc"], "capabilities": json.loads(row["capabilities"]),
        "allowed_project_ids": json.loads(row["allowed_project_ids"]), "last_active": iso(row["last_active"]),
    }


def list_keys(store, account_id: str) -> list[dict]:
    """An account's keys, newest first (``getApiKeys``: ORDER BY created DESC)."""
    rows = store.query("SELECT * FROM ai_api_keys WHERE account_id=? ORDER BY created DESC, id DESC", (account_id,))
    return [key_row(r) for r in rows]
