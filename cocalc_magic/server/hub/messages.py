"""The hub's ``messages.send`` and ``messages.get``: CoCalc's internal messages between accounts.

Faithful to ``server/conat/api/messages.ts``, ``server/messages/send.ts`` and ``get.ts`` at
5cb3315c30. A message row is ``{id, from_id, to_ids, subject, body, sent, thread_id}`` plus
per-recipient flag bit strings (bit 0 is the sender, bit i the i-th recipient) for read, saved,
starred, liked, deleted and expire, as in CoCalc's ``messages`` table. Nothing here sets the flags
yet (CoCalc does it through db.userQuery), so they read false; they are kept for the shape.
"""

from __future__ import annotations

import json
from typing import Any

from ..core import schema
from ..core.jsvalues import RemoteError, error, js_str, type_error
from ..core.store import is_uuid, now_ms
from ..core.userquery import iso, parse_time

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, from_id TEXT NOT NULL,"
    " to_ids TEXT NOT NULL, subject TEXT, body TEXT, sent REAL, thread_id INTEGER, read TEXT, saved TEXT,"
    " starred TEXT, liked TEXT, deleted TEXT, expire TEXT)",
)
MAX_LIMIT = 500  # util/db-schema/messages.ts
FLAGS = ("read", "saved", "deleted")  # the flags get() reports for "received" and "sent"


def _db(ctx):
    schema.ensure(ctx.store, "messages", SCHEMA)
    return ctx.store


def _pg_uuid(value: Any) -> None:
    if not is_uuid(value):
        raise RemoteError(f'error: invalid input syntax for type uuid: "{js_str(value)}"')


def send_message(ctx, *, from_id: str, to_ids: list, subject: Any, body: Any, reply_id: Any = None) -> int | None:
    """``server/messages/send.ts``: validate every recipient and the sender, then insert."""
    if not to_ids:
        return None  # "nothing to do"
    store = _db(ctx)
    for a in to_ids:
        _pg_uuid(a)
        if store.account(a) is None:
            raise error(f"invalid account_id -- {a}")
    if store.account(from_id) is None:
        raise error(f"invalid from_id account_id -- {from_id}")
    thread_id = None
    if reply_id:
        row = store.query_one("SELECT id, thread_id FROM messages WHERE id=?", (reply_id,))
        thread_id = None if row is None else (row["thread_id"] or row["id"])
    for column, value in (("subject", subject), ("body", body)):
        if value is None:
            raise RemoteError(f'error: null value in column "{column}" of relation "messages" '
                              "violates not-null constraint")
    with store.tx() as db:
        cur = db.execute("INSERT INTO messages (from_id, to_ids, subject, body, sent, thread_id) VALUES (?,?,?,?,?,?)",
                         (from_id, json.dumps(list(to_ids)), js_str(subject), js_str(body), now_ms(), thread_id))
        return cur.lastrowid


async def send(ctx, account_id, opts=None, *args):
    """``messages.send``: ``to_ids`` may hold emails of accounts (unknown emails are dropped)."""
    opts = opts or {}
    if not account_id:
        raise error("invalid account")
    to_ids = opts.get("to_ids")
    if to_ids is None:
        raise type_error("Cannot read properties of undefined (reading 'filter')")
    if not isinstance(to_ids, list):
        raise type_error("opts.to_ids.filter is not a function")
    for x in to_ids:
        if not isinstance(x, (str, list)):
            raise type_error("x.includes is not a function")
    emails = [x for x in to_ids if isinstance(x, str) and "@" in x]
    if emails:
        ids = [x for x in to_ids if is_uuid(x)]
        for e in emails:
            acct = ctx.store.account_by_email(e)
            if acct:
                ids.append(acct["account_id"])
        to_ids = ids
    return send_message(ctx, from_id=account_id, to_ids=to_ids, subject=opts.get("subject"),
                        body=opts.get("body"), reply_id=opts.get("reply_id"))


def _bit(bits: str | None, i: int) -> bool:
    return bool(bits) and len(bits) > i and bits[i] == "1"


async def get(ctx, account_id, opts=None, *args):
    """``messages.get({limit=100, offset=0, type="received", cutoff})``, newest first."""
    opts = opts or {}
    limit, offset, kind = opts.get("limit", 100), opts.get("offset", 0), opts.get("type", "received")
    limit = 100 if limit is None else limit
    if isinstance(limit, (int, float)) and not isinstance(limit, bool) and limit > MAX_LIMIT:
        raise error(f"limit must be at most {MAX_LIMIT}")
    if kind is None:
        kind = "received"
    if kind not in ("received", "sent", "new", "starred"):
        # get.ts builds no query for other types ("liked" too): "undefined WHERE ..."
        raise RemoteError('error: syntax error at or near "undefined"')
    try:
        limit, offset = int(limit), int(offset or 0)
    except (TypeError, ValueError):
        raise RemoteError(f'error: invalid input syntax for type bigint: "{js_str(limit)}"') from None
    cutoff = parse_time(opts.get("cutoff")) if opts.get("cutoff") else None
    rows = _db(ctx).query("SELECT * FROM messages WHERE sent IS NOT NULL AND (from_id=? OR to_ids LIKE ?)"
                          " ORDER BY sent DESC, id DESC", (account_id, f'%"{account_id}"%'))
    out = []
    for r in rows:
        to_ids = json.loads(r["to_ids"])
        if cutoff is not None and not r["sent"] > cutoff:
            continue
        if kind == "sent":
            pos = 0 if r["from_id"] == account_id else None
        else:
            pos = to_ids.index(account_id) + 1 if account_id in to_ids else None
        if pos is None or _bit(r["expire"], pos):
            continue
        if kind == "new" and any(_bit(r[f], pos) for f in ("read", "saved", "deleted")):
            continue
        if kind == "starred" and (not _bit(r["starred"], pos) or _bit(r["deleted"], pos)):
            continue
        row = {"id": r["id"], "subject": r["subject"], "body": r["body"], "from_id": r["from_id"],
               "to_ids": to_ids, "sent": iso(r["sent"]), "thread_id": r["thread_id"]}
        if kind in ("received", "sent"):
            row.update({f: _bit(r[f], pos) for f in FLAGS})
        out.append(row)
    return out[max(offset, 0):][:max(limit, 0)]


FUNCTIONS = {"send": send, "get": get}
