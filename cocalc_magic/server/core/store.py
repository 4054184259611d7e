"""SQLite storage of the local CoCalc: accounts, API keys, projects, collaborators, tokens.

Both API generations share this one store, so a key, project or token made through one
generation's calls is the same row the other sees. Secrets (passwords, keys, auth tokens,
sign-in cookies) are stored hashed only. One connection guarded by a lock: the tornado loop and
the worker threads that run exec both call in, and SQLite serialises writers anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import string
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

BASE62 = string.digits + string.ascii_letters  # CoCalc's encode62 alphabet (0-9, a-z, A-Z)

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    email_address TEXT UNIQUE,
    password_hash TEXT,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    last_active REAL,
    groups TEXT NOT NULL DEFAULT '[]',
    banned INTEGER NOT NULL DEFAULT 0,
    api_key_hash TEXT UNIQUE,
    settings TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    project_id TEXT,
    name TEXT NOT NULL DEFAULT '',
    trunc TEXT NOT NULL,
    hash TEXT NOT NULL,
    created REAL NOT NULL,
    expire REAL,
    last_active REAL
);
CREATE TABLE IF NOT EXISTS projects (
    project_id TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    name TEXT,
    created REAL NOT NULL,
    last_edited REAL NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'opened',
    state_time REAL NOT NULL,
    action_request TEXT,
    compute_image TEXT NOT NULL DEFAULT 'default',
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS project_users (
    project_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    grp TEXT NOT NULL,
    hide INTEGER NOT NULL DEFAULT 0,
    upgrades TEXT,
    PRIMARY KEY (project_id, account_id)
);
CREATE INDEX IF NOT EXISTS project_users_account ON project_users(account_id);
CREATE TABLE IF NOT EXISTS auth_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT,
    created_by TEXT,
    created REAL NOT NULL,
    expire REAL NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sessions (
    hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    created REAL NOT NULL,
    expire REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS copy_paths (
    id TEXT PRIMARY KEY,
    time REAL NOT NULL,
    source_project_id TEXT NOT NULL,
    source_path TEXT NOT NULL,
    target_project_id TEXT NOT NULL,
    target_path TEXT NOT NULL,
    overwrite_newer INTEGER, delete_missing INTEGER, backup INTEGER,
    started REAL, finished REAL, scheduled REAL,
    error TEXT,
    exclude TEXT
);
CREATE TABLE IF NOT EXISTS public_paths (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    path TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    UNIQUE (project_id, path)
);
CREATE TABLE IF NOT EXISTS site_settings (
    name TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE IF NOT EXISTS client_error_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT,
    time REAL NOT NULL,
    error TEXT
);
"""


def now_ms() -> float:
    return time.time() * 1000.0


def new_uuid() -> str:
    return str(uuid.uuid4())


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def random_string(n: int, alphabet: str = BASE62) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def encode62(n: int, width: int = 6) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return out.rjust(width, "0")


def decode62(text: str) -> int:
    n = 0
    for ch in text:
        i = BASE62.find(ch)
        if i < 0:
            return -1
        n = n * 62 + i
    return n


# CoCalc stores passwords as "sha512$<salt>$1000$<hash>" (pbkdf2); we keep that shape.
def hash_password(password: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt.encode(), 1000).hex()
    return f"sha512${salt}$1000${digest}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not password:
        return False
    try:
        algo, salt, rounds, digest = stored.split("$")
        got = hashlib.pbkdf2_hmac(algo, password.encode(), salt.encode(), int(rounds)).hex()
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, digest)


class Store:
    """All persistent state of one local server, in ``<data_dir>/cocalc.sqlite3``."""

    def __init__(self, data_dir: Path | str):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.projects_dir = self.data_dir / "projects"
        self.projects_dir.mkdir(exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.data_dir / "cocalc.sqlite3", check_same_thread=False, isolation_level=None
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; all-or-nothing."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, params: tuple | list = ()) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, params).fetchall()]

    def query_one(self, sql: str, params: tuple | list = ()) -> dict | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: tuple | list = ()) -> int:
        """One write statement; returns the number of rows changed."""
        with self._lock:
            return self._db.execute(sql, params).rowcount

    # ------------------------------------------------------------------ accounts
    def create_account(
        self,
        email_address: str | None = None,
        password: str | None = None,
        first_name: str = "",
        last_name: str = "",
        admin: bool = False,
    ) -> str:
        account_id = new_uuid()
        self.execute(
            "INSERT INTO accounts (account_id, email_address, password_hash, first_name,"
            " last_name, created, groups) VALUES (?,?,?,?,?,?,?)",
            (
                account_id,
                email_address.lower() if email_address else None,
                hash_password(password) if password else None,
                first_name or "",
                last_name or "",
                now_ms(),
                json.dumps(["admin"] if admin else []),
            ),
        )
        return account_id

    def account(self, account_id: str) -> dict | None:
        row = self.query_one("SELECT * FROM accounts WHERE account_id=?", (account_id,))
        if row:
            row["groups"] = json.loads(row["groups"])
            row["settings"] = json.loads(row["settings"])
        return row

    def account_by_email(self, email_address: str) -> dict | None:
        row = self.query_one(
            "SELECT account_id FROM accounts WHERE email_address=?", ((email_address or "").lower(),)
        )
        return self.account(row["account_id"]) if row else None

    def is_admin(self, account_id: str | None) -> bool:
        acct = self.account(account_id) if account_id else None
        return bool(acct and "admin" in acct["groups"])

    def check_password(self, account_id: str, password: str) -> bool:
        row = self.query_one("SELECT password_hash FROM accounts WHERE account_id=?", (account_id,))
        return bool(row) and verify_password(password, row["password_hash"])

    def set_password(self, account_id: str, password: str) -> None:
        self.execute(
            "UPDATE accounts SET password_hash=? WHERE account_id=?", (hash_password(password), account_id)
        )

    def update_account(self, account_id: str, **fields: Any) -> None:
        if not fields:
            return
        cols = ", ".join(f"{k}=?" for k in fields)
        vals = [json.dumps(v) if k in ("groups", "settings") else v for k, v in fields.items()]
        self.execute(f"UPDATE accounts SET {cols} WHERE account_id=?", (*vals, account_id))

    def touch_account(self, account_id: str) -> None:
        self.execute("UPDATE accounts SET last_active=? WHERE account_id=?", (now_ms(), account_id))

    # ------------------------------------------------------------------ API keys
    def create_api_key(
        self,
        account_id: str,
        project_id: str | None = None,
        name: str = "",
        expire: float | None = None,
    ) -> tuple[dict, str]:
        """A new-style key ``sk-<16 random><6-char base62 row id>``; returns (row, secret)."""
        with self.tx() as db:
            cur = db.execute(
                "INSERT INTO api_keys (account_id, project_id, name, trunc, hash, created, expire)"
                " VALUES (?,?,?,?,?,?,?)",
                (account_id, project_id, name, "", "", now_ms(), expire),
            )
            key_id = cur.lastrowid
            secret = "sk-" + random_string(16) + encode62(key_id)
            trunc = secret[:3] + "..." + secret[-6:]
            db.execute("UPDATE api_keys SET trunc=?, hash=? WHERE id=?", (trunc, sha256(secret), key_id))
        return self.api_key(key_id), secret

    def set_legacy_api_key(self, account_id: str) -> str:
        """The pre-2023 per-account key (``sk_`` + 24 chars), replacing any earlier one."""
        secret = "sk_" + random_string(24)
        self.execute("UPDATE accounts SET api_key_hash=? WHERE account_id=?", (sha256(secret), account_id))
        return secret

    def api_key(self, key_id: int) -> dict | None:
        return self.query_one("SELECT * FROM api_keys WHERE id=?", (key_id,))

    def api_keys(self, account_id: str, project_id: str | None = None) -> list[dict]:
        if project_id:
            return self.query(
                "SELECT * FROM api_keys WHERE account_id=? AND project_id=? ORDER BY id",
                (account_id, project_id),
            )
        return self.query(
            "SELECT * FROM api_keys WHERE account_id=? AND project_id IS NULL ORDER BY id", (account_id,)
        )

    def delete_api_key(self, key_id: int) -> None:
        self.execute("DELETE FROM api_keys WHERE id=?", (key_id,))

    def resolve_api_key(self, secret: str) -> dict | None:
        """Who a key belongs to: ``{"account_id", "project_id" (or None), "key_id"}``.

        Expired keys, and project keys whose creator left the project, are deleted on use and
        rejected, as CoCalc's ``getAccountWithApiKey`` does.
        """
        if not secret:
            return None
        digest = sha256(secret)
        row = self.query_one("SELECT account_id, banned FROM accounts WHERE api_key_hash=?", (digest,))
        if row:
            return {"account_id": row["account_id"], "project_id": None, "key_id": None}
        key_id = decode62(secret[-6:]) if len(secret) > 6 else -1
        if key_id < 0:
            return None
        key = self.api_key(key_id)
        if not key or not hmac.compare_digest(key["hash"], digest):
            return None
        if key["expire"] is not None and key["expire"] <= now_ms():
            self.delete_api_key(key_id)
            return None
        if key["project_id"] and not self.group(key["project_id"], key["account_id"]):
            self.delete_api_key(key_id)
            return None
        self.execute("UPDATE api_keys SET last_active=? WHERE id=?", (now_ms(), key_id))
        return {"account_id": key["account_id"], "project_id": key["project_id"], "key_id": key_id}

    # ------------------------------------------------------------------ projects
    def create_project(self, owner: str, title: str = "", description: str = "", **extra: Any) -> str:
        project_id = new_uuid()
        t = now_ms()
        with self.tx() as db:
            db.execute(
                "INSERT INTO projects (project_id, title, description, created, last_edited, state,"
                " state_time, extra) VALUES (?,?,?,?,?,?,?,?)",
                (project_id, title or "", description or "", t, t, "opened", t, json.dumps(extra)),
            )
            db.execute(
                "INSERT INTO project_users (project_id, account_id, grp) VALUES (?,?,?)",
                (project_id, owner, "owner"),
            )
        self.home(project_id).mkdir(parents=True, exist_ok=True)
        return project_id

    def home(self, project_id: str) -> Path:
        return self.projects_dir / project_id

    def project(self, project_id: str) -> dict | None:
        if not is_uuid(project_id):
            return None
        row = self.query_one("SELECT * FROM projects WHERE project_id=?", (project_id,))
        if row:
            row["extra"] = json.loads(row["extra"])
            row["action_request"] = json.loads(row["action_request"]) if row["action_request"] else None
            row["users"] = self.users(project_id)
        return row

    def users(self, project_id: str) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for r in self.query("SELECT * FROM project_users WHERE project_id=?", (project_id,)):
            entry: dict[str, Any] = {"group": r["grp"]}
            if r["hide"]:
                entry["hide"] = True
            if r["upgrades"]:
                entry["upgrades"] = json.loads(r["upgrades"])
            out[r["account_id"]] = entry
        return out

    def projects_of(self, account_id: str, include_deleted: bool = True) -> list[dict]:
        """Every project the account is on, newest ``last_edited`` first."""
        rows = self.query(
            "SELECT p.project_id FROM projects p JOIN project_users u ON p.project_id=u.project_id"
            " WHERE u.account_id=?" + ("" if include_deleted else " AND p.deleted=0")
            + " ORDER BY p.last_edited DESC",
            (account_id,),
        )
        return [self.project(r["project_id"]) for r in rows]

    def update_project(self, project_id: str, **fields: Any) -> None:
        if not fields:
            return
        enc = {k: (json.dumps(v) if k in ("extra", "action_request") and v is not None else v) for k, v in fields.items()}
        cols = ", ".join(f"{k}=?" for k in enc)
        self.execute(f"UPDATE projects SET {cols} WHERE project_id=?", (*enc.values(), project_id))

    def touch_project(self, project_id: str) -> None:
        self.execute("UPDATE projects SET last_edited=? WHERE project_id=?", (now_ms(), project_id))

    def group(self, project_id: str, account_id: str | None) -> str | None:
        """'owner', 'collaborator' or None. A project key's "account" is its project id."""
        if not account_id:
            return None
        row = self.query_one(
            "SELECT grp FROM project_users WHERE project_id=? AND account_id=?", (project_id, account_id)
        )
        return row["grp"] if row else None

    def add_user(self, project_id: str, account_id: str, group: str = "collaborator") -> None:
        self.execute(
            "INSERT OR IGNORE INTO project_users (project_id, account_id, grp) VALUES (?,?,?)",
            (project_id, account_id, group),
        )

    def remove_user(self, project_id: str, account_id: str) -> None:
        """Owners are never removed (CoCalc's ``WHERE group != 'owner'``)."""
        self.execute(
            "DELETE FROM project_users WHERE project_id=? AND account_id=? AND grp != 'owner'",
            (project_id, account_id),
        )

    # ------------------------------------------------------------------ auth tokens
    def create_auth_token(
        self, account_id: str | None, created_by: str | None, ttl_s: float, is_admin: bool = False
    ) -> str:
        token = random_string(24)
        self.execute(
            "INSERT INTO auth_tokens (token_hash, account_id, created_by, created, expire, is_admin)"
            " VALUES (?,?,?,?,?,?)",
            (sha256(token), account_id, created_by, now_ms(), now_ms() + ttl_s * 1000, int(is_admin)),
        )
        return token

    def auth_token_account(self, token: str) -> str | None:
        """The account a token signs in as, or None if unknown or expired. Tokens are reusable."""
        row = self.query_one(
            "SELECT account_id FROM auth_tokens WHERE token_hash=? AND expire>?", (sha256(token or ""), now_ms())
        )
        return row["account_id"] if row else None

    def revoke_auth_token(self, token: str) -> None:
        self.execute("DELETE FROM auth_tokens WHERE token_hash=?", (sha256(token or ""),))

    # ------------------------------------------------------------------ sign-in sessions
    def create_session(self, account_id: str, ttl_s: float) -> str:
        value = secrets.token_urlsafe(32)
        self.execute(
            "INSERT INTO sessions (hash, account_id, created, expire) VALUES (?,?,?,?)",
            (sha256(value), account_id, now_ms(), now_ms() + ttl_s * 1000),
        )
        return value

    def session_account(self, value: str | None) -> str | None:
        if not value:
            return None
        row = self.query_one(
            "SELECT account_id FROM sessions WHERE hash=? AND expire>?", (sha256(value), now_ms())
        )
        return row["account_id"] if row else None

    def delete_session(self, value: str) -> None:
        self.execute("DELETE FROM sessions WHERE hash=?", (sha256(value),))

    # ------------------------------------------------------------------ site settings
    def setting(self, name: str, default: str | None = None) -> str | None:
        row = self.query_one("SELECT value FROM site_settings WHERE name=?", (name,))
        return row["value"] if row else default

    def set_setting(self, name: str, value: str | None) -> None:
        self.execute(
            "INSERT INTO site_settings (name, value) VALUES (?,?)"
            " ON CONFLICT(name) DO UPDATE SET value=excluded.value",
            (name, value),
        )
