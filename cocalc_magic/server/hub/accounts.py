"""The hub's ``system.*`` functions: ping, test, names, user search, auth tokens, API keys,
customize.

Each function gets ``(ctx, account_id, *args)`` after CoCalc's auth transform (``authFirst``
injects the caller into ``args[0]``). Texts follow ``real-hub-transcripts.md`` §1 and CoCalc's
``server/conat/api/*`` at 5cb3315c30.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from ..core import access, throttle
from ..core.customize import customize
from ..core.jsvalues import (
    RemoteError,
    error,
    js_str,
    type_error,
)
from ..core.store import is_uuid
from ..core.userquery import iso, parse_time

AUTH_TOKEN_TTL_S = 24 * 3600  # conat era default (auth-token.ts)
BAN_TIME_S = 30.0  # wrong password: (caller, target) blocked for 30 s
USER_SEARCH_LIMIT = 50
ADMIN_SEARCH_LIMIT = 10000  # a guess; only caps admin searches


def _int_ms(v: float | None) -> int | None:
    return None if v is None else int(v)


def _pg_uuid(value: Any) -> None:
    if not is_uuid(value):
        raise RemoteError(f'error: invalid input syntax for type uuid: "{js_str(value)}"')


def _collab(ctx, account_id: str, project_id: Any, what: str) -> None:
    """CoCalc's ``isCollaborator`` followed by ``must be collaborator on project to <what>``."""
    try:
        ok = access.is_collaborator(ctx, account_id, project_id)
    except ValueError as exc:
        raise error(str(exc)) from None
    if not ok:
        raise error(f"must be collaborator on project to {what}")


# ================================================================================ system
async def ping(ctx, account_id, *args):
    return {"now": int(time.time() * 1000)}


async def test(ctx, account_id, *args):
    return {"account_id": account_id, "server_time": int(time.time() * 1000)}


def names_of(ctx, account_ids: Any) -> dict:
    """getNames: unknown ids are "Deleted User" (recorded), malformed ids PostgreSQL's error."""
    if isinstance(account_ids, str):
        raise RemoteError(f'error: malformed array literal: "{account_ids}"')
    if not isinstance(account_ids, list):
        raise type_error("account_ids is not iterable")
    out: dict[str, dict] = {}
    for a in account_ids:
        _pg_uuid(a)
    for a in account_ids:
        acct = ctx.store.account(a)
        if acct and not acct.get("deleted"):
            out[a] = {"first_name": acct["first_name"], "last_name": acct["last_name"], "profile": None}
        else:
            out[a] = {"first_name": "Deleted", "last_name": "User"}
    return out


async def get_names(ctx, account_id, account_ids=None, *args):
    return names_of(ctx, account_ids)


def _user_row(acct: dict, admin: bool, email_search: bool) -> dict:
    row: dict[str, Any] = {
        "account_id": acct["account_id"],
        "first_name": acct["first_name"],
        "last_name": acct["last_name"],
        "name": None,
    }
    if admin or email_search:
        row["email_address"] = acct["email_address"]
    row["last_active"] = _int_ms(acct["last_active"])
    row["created"] = _int_ms(acct["created"])
    if admin:
        row["banned"] = True if acct.get("banned") else None
    row["email_address_verified"] = None
    return row


def search_users(ctx, query: Any, limit: Any = None, admin: bool = False, only_email: bool = False) -> list:
    """CoCalc's accounts/search.ts: uuid, exact email, or name terms (admins: email substrings)."""
    store = ctx.store
    try:
        limit = int(limit) if limit is not None else 20
    except (TypeError, ValueError):
        limit = 20
    limit = min(limit, ADMIN_SEARCH_LIMIT if admin else USER_SEARCH_LIMIT)
    if not isinstance(query, str) or not query.strip():
        return []
    q = query.strip()
    if is_uuid(q):
        acct = store.account(q)
        return [_user_row(acct, admin, False)] if acct else []
    if "@" in q and not q.startswith("@") and "," not in q and " " not in q:
        acct = store.account_by_email(q)
        return [_user_row(acct, admin, True)] if acct else []
    string_queries: list[list[str]] = []
    emails: list[str] = []
    for part in q.replace(";", ",").replace("\n", ",").split(","):
        part = part.strip().lower()
        if not part:
            continue
        if "@" not in part or part.startswith("@"):
            string_queries.append(part.split())
        elif admin:
            string_queries.append([part])
        else:
            emails.append(part.strip("<>"))
    results = []
    for e in emails:
        acct = store.account_by_email(e)
        if acct:
            results.append(_user_row(acct, admin, True))
    if not only_email and string_queries and limit - len(results) > 0:
        rows = store.query("SELECT account_id FROM accounts ORDER BY COALESCE(last_active, created) DESC")
        found = 0
        for r in rows:
            acct = store.account(r["account_id"])
            hay = [acct["first_name"].lower(), acct["last_name"].lower()]
            if admin:
                hay.append((acct["email_address"] or "").lower())
            if any(all(any(t in h for h in hay) for t in terms) for terms in string_queries):
                results.append(_user_row(acct, admin, False))
                found += 1
                if found >= limit - len(emails):
                    break
    results.sort(key=lambda u: -max(u["last_active"] or 0, u["created"] or 0))
    return results


async def user_search(ctx, account_id, opts=None, *args):
    opts = opts or {}
    admin = bool(opts.get("admin"))
    if admin and not ctx.store.is_admin(account_id):
        raise error("Must be an admin to do admin search.")
    return search_users(ctx, opts.get("query"), opts.get("limit"), admin, bool(opts.get("only_email")))


async def generate_user_auth_token(ctx, account_id, opts=None, *args):
    opts = opts or {}
    target = opts.get("user_account_id")
    password = opts.get("password") or ""
    bans = throttle.ban_list(ctx, "current.auth_token_bans", BAN_TIME_S)
    if bans.count((account_id, target), BAN_TIME_S):
        # CoCalc's template bug, kept: the text is literally "#{BAN_TIME_MS/1000}s"
        raise error("banned -- please wait at least #{BAN_TIME_MS/1000}s before trying again")
    if target is not None:
        _pg_uuid(target)
    is_admin = ctx.store.is_admin(account_id)
    if not is_admin:
        # Beyond CoCalc's per-(caller, target) ban: the target's own sign-in limit, which every
        # caller shares (fresh accounts or project keys would otherwise buy fresh guesses).
        limits, who = throttle.sign_in_throttle(ctx), f"account:{target}"
        refusal = limits.refusal(who, None, js_str(target))
        if refusal:
            raise error(refusal)
        ok = bool(target) and bool(password) and ctx.store.account(target) is not None and \
            ctx.store.check_password(target, js_str(password))
        if not ok:
            bans.record((account_id, target))
            limits.failed(who, None)
            raise error("incorrect password")
    return ctx.store.create_auth_token(target, account_id, AUTH_TOKEN_TTL_S, is_admin=is_admin)


async def revoke_user_auth_token(ctx, account_id, token=None, *args):
    # recorded: no ownership check, null for unknown tokens and for the wrong arg shape
    if isinstance(token, str):
        ctx.store.revoke_auth_token(token)
    return None


def key_row(row: dict | None, secret: str | None = None) -> dict | None:
    """An api-keys row as CoCalc answers it (the conat hub and ``/api/v2/api-keys`` alike)."""
    if row is None:
        return None
    out = {"id": row["id"], "account_id": row["account_id"], "expire": iso(row["expire"]),
           "created": iso(row["created"]), "name": row["name"]}
    if secret is not None:
        out.update(last_active=iso(row["last_active"]), trunc=row["trunc"], secret=secret)
    else:
        out.update(trunc=row["trunc"], last_active=iso(row["last_active"]))
    return out


def _expire_ms(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        ms = parse_time(value)
        if ms is None:  # what no Date holds (1e300): refused before anything is stored
            raise error(f"invalid expire date '{js_str(value)}'")
        return ms
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000
    except ValueError:
        return None


def manage_api_keys(ctx, account_id: str, opts: dict) -> list | None:
    """CoCalc's server/api/manage.ts (shared with signin.py's /api/v2/api-keys if it wants)."""
    store = ctx.store
    if not is_uuid(account_id) or store.account(account_id) is None:
        raise error("account_id is not a valid account")
    project_id = opts.get("project_id")
    if project_id is not None:
        try:
            ok = access.is_collaborator(ctx, account_id, project_id)
        except ValueError as exc:
            raise error(str(exc)) from None
        if not ok:
            raise error("user must be collaborator on project to manage project_id api keys")
    action, key_id = opts.get("action"), opts.get("id")

    def one(kid) -> dict | None:
        if project_id:
            return store.query_one("SELECT * FROM api_keys WHERE id=? AND project_id=?", (kid, project_id))
        return store.query_one("SELECT * FROM api_keys WHERE id=? AND account_id=?", (kid, account_id))

    if action == "get":
        if not key_id:
            if project_id:
                rows = store.query("SELECT * FROM api_keys WHERE project_id=? ORDER BY created DESC", (project_id,))
            else:
                rows = store.query(
                    "SELECT * FROM api_keys WHERE account_id=? AND project_id IS NULL ORDER BY created DESC",
                    (account_id,),
                )
            return [key_row(r) for r in rows]
        return [key_row(one(key_id))]
    if action == "delete":
        if project_id:
            store.execute("DELETE FROM api_keys WHERE id=? AND project_id=?", (key_id, project_id))
        else:
            store.execute("DELETE FROM api_keys WHERE id=? AND account_id=?", (key_id, account_id))
        return None
    if action == "create":
        name = js_str(opts.get("name")) if opts.get("name") is not None else ""
        row, secret = store.create_api_key(account_id, project_id=project_id, name=name,
                                           expire=_expire_ms(opts.get("expire")))
        return [key_row(row, secret)]
    if action == "edit":
        row = one(key_id)
        if row is None:
            raise error(f"no api key with id {js_str(key_id)}")
        name = js_str(opts["name"]) if opts.get("name") is not None else row["name"]
        expire = _expire_ms(opts["expire"]) if "expire" in opts else row["expire"]
        store.execute("UPDATE api_keys SET name=?, expire=? WHERE id=?", (name, expire, row["id"]))
        return None
    return None


async def manage_api_keys_fn(ctx, account_id, opts=None, *args):
    return manage_api_keys(ctx, account_id, opts or {})


async def get_customize(ctx, account_id, fields=None, *args):
    return customize(ctx, fields)
