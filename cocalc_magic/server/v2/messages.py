"""``/api/v2/messages/send`` and ``/api/v2/messages/get`` (next/pages/api/v2/messages/*.ts at
5cb3315c30): the same messages as the hub's ``messages.*``, in v2's envelope
(``{"status": "ok", "id"}`` / ``{"status": "ok", "messages"}``, errors ``{"error": err.message}``).

Unlike the conat ``messages.send``, ``to_ids`` must be account ids (no email lookup) and defaults
to the sender. CoCalc throttles both routes (util/api/throttle.ts); this server does not.
"""

from __future__ import annotations

from ..core.jsvalues import error
from ..hub import messages

OK = {"status": "ok"}  # lib/api/status SuccessStatus


def _caller_id(h) -> str | None:
    """``getAccountId``: a project key's "account" is its project id."""
    c = h.caller()
    return c.id if c else None


async def send(h, p: dict):
    from_id = _caller_id(h)
    if not from_id:
        raise error("Must be signed in to send messages")
    to_ids = p.get("to_ids")
    mid = messages.send_message(h.ctx, from_id=from_id, to_ids=[from_id] if to_ids is None else to_ids,
                                subject=p.get("subject"), body=p.get("body"), reply_id=p.get("reply_id"))
    return {**OK, "id": mid}


async def get(h, p: dict):
    account_id = _caller_id(h)
    if not account_id:
        raise error("Must be signed in to get messages")
    opts = {k: p[k] for k in ("limit", "offset", "type", "cutoff") if p.get(k) is not None}
    return {**OK, "messages": await messages.get(h.ctx, account_id, opts)}


ROUTES = {"messages/send": send, "messages/get": get}
