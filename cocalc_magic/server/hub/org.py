"""The hub's ``org.*`` functions: organizations, their admins and members, sign-in links.

Faithful to CoCalc's ``server/conat/api/org.ts`` at 5cb3315c30 (recorded: ``hub-org-*`` in
real-hub-transcripts.md), including its order of checks and its quirks:

* site admins may do everything; an org's admins (``admin_account_ids``) may ``get``, ``set``,
  ``createUser``, ``createToken`` (for their members), ``getUsers``, ``removeUser``,
  ``removeAdmin`` and ``message``; ``getAll``, ``create``, ``addAdmin`` and ``addUser`` are for
  site admins only; a plain member may do nothing;
* ``createUser`` into an org that was never created works for a site admin (the account's ``org``
  is just a name), and it also creates the user's "My First Project" (not started);
* ``expireToken`` checks nothing (like ``system.revokeUserAuthToken``), and ``removeUser`` does not
  check that the user is in the named org (an org admin can clear anyone's membership);
* ``addAdmin`` stores the ids as ``array_agg(DISTINCT ...)`` does (sorted), ``removeAdmin`` leaves
  ``[]`` rather than ``null``.

PostgreSQL's own texts are kept where a real hub would pass them through (``error: ...``): too
long a name, a duplicate email or org name (case-insensitively), ``set`` with nothing to set.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from typing import Any

from ..core import schema
from ..core.jsvalues import RemoteError, error, js_str
from ..core.store import is_uuid, new_uuid, now_ms
from ..core.userquery import iso
from . import messages
from .accounts import AUTH_TOKEN_TTL_S  # createAuthTokenNoCheck's default (org.ts's "12 hours" is stale)

SCHEMA = (
    # CoCalc's organizations table (util/db-schema/organizations.ts); name is VARCHAR(39) with a
    # unique index on LOWER(name)
    "CREATE TABLE IF NOT EXISTS organizations (organization_id TEXT PRIMARY KEY, name TEXT,"
    " title TEXT, description TEXT, link TEXT, email_address TEXT, admin_account_ids TEXT,"
    " created REAL NOT NULL)",
    "CREATE UNIQUE INDEX IF NOT EXISTS organizations_lower_name ON organizations(lower(name))",
    # accounts.org: the name of the one org an account belongs to
    "CREATE TABLE IF NOT EXISTS account_orgs (account_id TEXT PRIMARY KEY, org TEXT NOT NULL)",
)
NAME_MAX, FIELD_MAX = 39, 254
# CoCalc names unique indexes "<table>_<make_valid_name(expr)>_unique_idx" (schema/indexes.ts);
# PostgreSQL folds the unquoted name to lower case. A guess at the exact text, from the source.
NAME_INDEX = "organizations_lower_name__unique_idx"
EMAIL_KEY = "accounts_email_address_key"  # the UNIQUE column constraint on accounts.email_address
PG_TOO_LONG = "error: value too long for type character varying({})"
NOT_ALLOWED = "user must be an admin of the organization or site-admin"
FIRST_PROJECT = "My First Project"  # accounts/first-project.ts


def _db(ctx):
    schema.ensure(ctx.store, "organizations", SCHEMA)
    return ctx.store


def _pg_text(value: Any) -> str | None:
    """A value bound to a PostgreSQL text parameter (None stays NULL)."""
    return None if value is None else js_str(value)


def get_account(ctx, user: Any) -> tuple[str | None, str | None]:
    """CoCalc's ``getAccount``: (org name, account_id) of an account id or email, else (None, None)."""
    if user is None:
        return None, None
    text = js_str(user)
    store = _db(ctx)
    acct = store.account(text) if is_uuid(text) else store.account_by_email(text)
    if acct is None:
        return None, None
    row = store.query_one("SELECT org FROM account_orgs WHERE account_id=?", (acct["account_id"],))
    return (row["org"] if row else None), acct["account_id"]


def _org(ctx, name: Any) -> dict | None:
    if name is None:
        return None
    row = _db(ctx).query_one("SELECT * FROM organizations WHERE name=?", (js_str(name),))
    if row:
        row["admin_account_ids"] = json.loads(row["admin_account_ids"]) if row["admin_account_ids"] else None
    return row


def is_org_admin(ctx, account_id: str | None, name: Any) -> bool:
    row = _org(ctx, name) if account_id else None
    return bool(row and account_id in (row["admin_account_ids"] or []))


def _assert_allowed(ctx, account_id: str | None, name: Any) -> None:
    if not account_id or not (is_org_admin(ctx, account_id, name) or ctx.store.is_admin(account_id)):
        raise error(NOT_ALLOWED)


def _set_org(ctx, account_id: str, name: str | None) -> None:
    if name is None:
        _db(ctx).execute("DELETE FROM account_orgs WHERE account_id=?", (account_id,))
    else:
        _db(ctx).execute("INSERT INTO account_orgs (account_id, org) VALUES (?,?)"
                         " ON CONFLICT(account_id) DO UPDATE SET org=excluded.org", (account_id, name))


def _check_len(value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise RemoteError(PG_TOO_LONG.format(limit))


# ================================================================================ functions
async def get_all(ctx, account_id, opts=None, *args):
    if not ctx.store.is_admin(account_id):
        raise error("must be a site admin")
    rows = _db(ctx).query("SELECT name, title, admin_account_ids FROM organizations ORDER BY created")
    for r in rows:
        r["admin_account_ids"] = json.loads(r["admin_account_ids"]) if r["admin_account_ids"] else None
    return rows


async def create(ctx, account_id, opts=None, *args):
    name = _pg_text((opts or {}).get("name"))
    if not ctx.store.is_admin(account_id):
        raise error("only admins may create organizations")
    store = _db(ctx)
    # isNameAvailable compares exactly (accounts.name is a username; this server has none)
    if name is not None and store.query_one("SELECT 1 AS x FROM organizations WHERE name=?", (name,)):
        raise error(f"name {name} is already used by some account or organization")
    _check_len(name, NAME_MAX)
    organization_id = new_uuid()
    try:
        store.execute("INSERT INTO organizations (organization_id, name, created) VALUES (?,?,?)",
                      (organization_id, name, now_ms()))
    except sqlite3.IntegrityError:  # the same name in other letter case
        raise RemoteError(f'error: duplicate key value violates unique constraint "{NAME_INDEX}"') from None
    return organization_id


async def get(ctx, account_id, opts=None, *args):
    name = (opts or {}).get("name")
    _assert_allowed(ctx, account_id, name)
    row = _org(ctx, name)
    if row is None:
        raise error(f"no org named '{js_str(name)}'")
    return {k: row[k] for k in ("name", "title", "description", "link", "email_address", "admin_account_ids")}


async def set_(ctx, account_id, opts=None, *args):
    opts = opts or {}
    name = opts.get("name")
    _assert_allowed(ctx, account_id, name)
    fields = {f: js_str(opts[f]) for f in ("title", "description", "link", "email_address") if opts.get(f) is not None}
    if not fields:  # CoCalc builds "UPDATE organizations SET  WHERE name=$1"
        raise RemoteError('error: syntax error at or near "WHERE"')
    for v in fields.values():
        _check_len(v, FIELD_MAX)
    cols = ", ".join(f"{f}=?" for f in fields)
    _db(ctx).execute(f"UPDATE organizations SET {cols} WHERE name=?", (*fields.values(), _pg_text(name)))
    return None


async def add_admin(ctx, account_id, opts=None, *args):
    opts = opts or {}
    name, user = opts.get("name"), opts.get("user")
    users_org, target = get_account(ctx, user)
    if not target:
        raise error(f"no such account '{js_str(user)}'")
    if users_org is not None and users_org != _pg_text(name):
        raise error(f"User '{js_str(user)}' is already member of another organization")
    if not ctx.store.is_admin(account_id):
        raise error("only site admins can make a user an organization admin right now")
    row = _org(ctx, name)
    if row is not None:  # UPDATE ... WHERE name=$1 changes nothing for an unknown org
        ids = sorted(set((row["admin_account_ids"] or []) + [target]))  # array_agg(DISTINCT x) sorts
        _db(ctx).execute("UPDATE organizations SET admin_account_ids=? WHERE organization_id=?",
                         (json.dumps(ids), row["organization_id"]))
    return await add_user(ctx, account_id, {"account_id": account_id, "name": name, "user": target})


async def add_user(ctx, account_id, opts=None, *args):
    opts = opts or {}
    if not ctx.store.is_admin(account_id):
        raise error("only site admins can add/move a user to an org right now")
    user = opts.get("user")
    _, target = get_account(ctx, user)
    if not target:
        raise error(f"cannot find user '{js_str(user)}'")
    name = _pg_text(opts.get("name"))
    _set_org(ctx, target, name)
    return None


async def create_user(ctx, account_id, opts=None, *args):
    opts = opts or {}
    name = opts.get("name")
    password = opts.get("password")
    if password is None:
        password = secrets.token_urlsafe(12)  # secureRandomString(16)
    _assert_allowed(ctx, account_id, name)
    email = _pg_text(opts.get("email"))
    _check_len(email, FIELD_MAX)
    store = _db(ctx)
    if email and store.account_by_email(email):
        raise RemoteError(f'error: duplicate key value violates unique constraint "{EMAIL_KEY}"')
    new_id = store.create_account(email or None, js_str(password) or None,
                                  _pg_text(opts.get("firstName")) or "", _pg_text(opts.get("lastName")) or "")
    _set_org(ctx, new_id, _pg_text(name))
    # createAccount({dontStartProject: true}): "a first project will be created, though"
    store.create_project(new_id, FIRST_PROJECT, "")
    return new_id


def _allowed_target(ctx, account_id: str, opts: dict | None) -> tuple[Any, str]:
    """removeUser/removeAdmin's start: the caller may manage the org, and the user exists."""
    opts = opts or {}
    name, user = opts.get("name"), opts.get("user")
    _assert_allowed(ctx, account_id, name)
    _, target = get_account(ctx, user)
    if not target:
        raise error(f"cannot find user '{js_str(user)}'")
    return name, target


async def remove_user(ctx, account_id, opts=None, *args):
    name, target = _allowed_target(ctx, account_id, opts)
    if is_org_admin(ctx, target, name):
        raise error("admin cannot be removed from org; first remove them from being an admin")
    _set_org(ctx, target, None)  # CoCalc: "UPDATE accounts SET org=NULL", whichever org it was
    return None


async def remove_admin(ctx, account_id, opts=None, *args):
    name, target = _allowed_target(ctx, account_id, opts)
    row = _org(ctx, name)
    if row is not None and row["admin_account_ids"] is not None:  # array_remove(NULL, x) is NULL
        ids = [a for a in row["admin_account_ids"] if a != target]
        _db(ctx).execute("UPDATE organizations SET admin_account_ids=? WHERE organization_id=?",
                         (json.dumps(ids), row["organization_id"]))
    return None


async def create_token(ctx, account_id, opts=None, *args):
    opts = opts or {}
    name, target = get_account(ctx, opts.get("user"))
    if not name:
        raise error("user is not in an org")
    if not account_id:
        raise error("must be signed in")
    _assert_allowed(ctx, account_id, name)
    expire = opts.get("expire")
    ttl = AUTH_TOKEN_TTL_S
    if isinstance(expire, (int, float)) and not isinstance(expire, bool):
        ttl = (float(expire) - now_ms()) / 1000  # an expiry in the past makes a dead token, as in CoCalc
    token = ctx.store.create_auth_token(target, account_id, ttl, is_admin=ctx.store.is_admin(account_id))
    # siteUrl(): the site's dns setting; this server's own URL plays that part
    return {"token": token, "url": f"{ctx.base_url}/auth/impersonate?auth_token={token}"}


async def expire_token(ctx, account_id, opts=None, *args):
    token = (opts or {}).get("token")
    if token is not None:
        ctx.store.revoke_auth_token(js_str(token))
    return None


async def get_users(ctx, account_id, opts=None, *args):
    name = (opts or {}).get("name")
    _assert_allowed(ctx, account_id, name)
    return [{"first_name": a["first_name"], "last_name": a["last_name"], "account_id": a["account_id"],
             "email_address": a["email_address"], "last_active": iso(a["last_active"])}
            for a in members(ctx, name)]


def members(ctx, name: Any) -> list[dict]:
    """The accounts whose org is ``name``, oldest first."""
    if name is None:
        return []
    rows = _db(ctx).query("SELECT o.account_id FROM account_orgs o JOIN accounts a ON a.account_id=o.account_id"
                          " WHERE o.org=? ORDER BY a.created", (js_str(name),))
    return [ctx.store.account(r["account_id"]) for r in rows]


async def message(ctx, account_id, opts=None, *args):
    opts = opts or {}
    name = opts.get("name")
    _assert_allowed(ctx, account_id, name)
    to_ids = [a["account_id"] for a in members(ctx, name)]
    messages.send_message(ctx, from_id=account_id, to_ids=to_ids, subject=opts.get("subject"), body=opts.get("body"))
    return None


FUNCTIONS = {
    "getAll": get_all, "create": create, "get": get, "set": set_, "addAdmin": add_admin, "addUser": add_user,
    "createUser": create_user, "createToken": create_token, "expireToken": expire_token, "getUsers": get_users,
    "message": message, "removeUser": remove_user, "removeAdmin": remove_admin,
}
