"""The legacy API v1 (POST /api/v1/<event>), as a self-hosted CoCalc of 2024 answers it.

Emulated state: commit a50170846e (2024-03-13, "V1-FULL"), the last in which every API message
had a handler; the recordings in ``reference/real-v1-transcripts.md`` are from that version and
win where the facts sheet differs. Layers, in CoCalc's order:

1. body parsers (JSON 100 kB, form 1 MB; over it HTTP 413),
2. the key (``Authorization``) -> HTTP 400 ``{"error"}`` when missing or wrong,
3. the dispatcher: unknown / non-API event, strict field validation -> HTTP 400 ``{"error"}``,
4. the handler -> HTTP 200, the reply message or ``{"event":"error","id","error"}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable

from ..core.jsvalues import js_str
from ..core.store import is_uuid
from ..core.userquery import UserQueryError
from ..http import AuthProblem, BaseHandler, NotFoundHandler
from .accounts import CREATION_ACTIONS_SCHEMA, AccountMessages
from .files import ProjectMessages
from .jupyter import JupyterMessages
from .schemas import (
    BANNED,
    FORM_LIMIT,
    JSON_LIMIT,
    NO_ACCOUNT,
    NOT_API,
    SCHEMAS,
    Caller,
    Invalid,
    V1Error,
    build_message,
)

log = logging.getLogger("cocalc_magic.server")


def _too_large(kind: str, size: int) -> str:
    limit = JSON_LIMIT if kind == "json" else FORM_LIMIT
    return (f"request entity too large: the {kind} body has {size} bytes; the API v1 accepts at most "
            f"{limit} bytes ({'100kb' if kind == 'json' else '1mb'}). Send less per call, e.g. write a large "
            "file in parts.")


class V1Handler(AccountMessages, ProjectMessages, JupyterMessages, BaseHandler):
    json_limit = JSON_LIMIT
    form_limit = FORM_LIMIT

    def get(self, *_args: Any) -> None:
        # Only POST is routed; anything else falls through to the site's 404 page.
        NotFoundHandler.prepare(self)  # type: ignore[arg-type]

    head = put = delete = patch = get

    @classmethod
    def too_large_reply(cls, kind: str, size: int, limit: int) -> dict:
        return {"status": 413, "body": json.dumps({"error": _too_large(kind, size)})}

    def prepare(self) -> None:
        if self.request.method != "POST":
            return
        if self.body_too_large():
            self.write_json({"error": _too_large(self.body_kind(), len(self.request.body))}, status=413)
            self.finish()

    async def post(self, path: str) -> None:
        event = path.rsplit("/", 1)[-1]
        try:
            try:
                body = self.params()
            except (ValueError, UnicodeDecodeError) as exc:
                raise Invalid(f"invalid JSON in the request body -- {exc}") from None
            if not isinstance(body, dict):
                raise Invalid("invalid parameters 'Error: the request body must be a JSON object'")
            try:
                key = self.api_key()
            except AuthProblem as exc:
                raise Invalid(str(exc)) from None
            resolved = self.store.resolve_api_key(key)
            if not resolved:
                raise Invalid(NO_ACCOUNT)
            acct = self.store.account(resolved["account_id"])
            if acct and acct.get("banned"):
                raise Invalid(BANNED)
            if event not in SCHEMAS:
                if event in NOT_API:
                    raise Invalid(f"endpoint '{event}' is not part of the HTTP API")
                raise Invalid(f"unknown endpoint '{event}'")
            mesg = build_message(event, body)
            if event == "query" and mesg.get("multi_response"):
                raise Invalid("ReferenceError: otps is not defined")  # CoCalc's typo on this path
        except Invalid as exc:
            self.write_json({"error": str(exc)}, status=400)
            return
        caller = Caller(self.store, resolved)
        if caller.account_id:
            self.store.touch_account(caller.account_id)
        handler: Callable[[dict, Caller], Awaitable[dict]] | None = getattr(self, "m_" + event, None)
        try:
            if handler is None:
                raise V1Error(f"{event} is not available on this server (it needs a service a local CoCalc does not run)")
            reply = await handler(mesg, caller)
        except V1Error as exc:
            reply = {"event": "error", "id": mesg["id"], "error": str(exc)}
        except UserQueryError as exc:
            reply = {"event": "error", "id": mesg["id"], "error": exc.text}
        except Exception as exc:  # noqa: BLE001 - a handler error, never a traceback to the client
            log.exception("v1 %s failed", event)
            reply = {"event": "error", "id": mesg["id"], "error": f"Error: {exc}"}
        self.write_json(reply)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def ok(_event: str, _mesg: dict, **fields: Any) -> dict:
        return {"event": _event, "id": _mesg["id"], **fields}

    def access(self, caller: Caller, project_id: Any, perm: str) -> str:
        """CoCalc's ``get_project(mesg, permission)``: the project id, or V1Error with its texts."""
        if not is_uuid(project_id):
            label = "Read" if perm == "read" else "Write"
            raise V1Error(f"{label} access denied -- invalid project_id -- {js_str(project_id)}")
        allowed = self.store.project(project_id) is not None and (
            caller.admin or caller.id == project_id or self.store.group(project_id, caller.account_id) is not None
        )
        if not allowed:
            raise V1Error(f"User {caller.id} does not have {perm} access to project {project_id}")
        self.store.touch_project(project_id)
        return project_id

    def can_write(self, caller: Caller, project_id: str) -> bool:
        return bool(self.store.project(project_id)) and (
            caller.admin or caller.id == project_id or self.store.group(project_id, caller.account_id) is not None
        )

    async def in_thread(self, fn: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def routes(ctx) -> list:
    with ctx.store._lock:
        ctx.store._db.executescript(CREATION_ACTIONS_SCHEMA)
    try:
        ctx.caches.setdefault("loop", asyncio.get_running_loop())
    except RuntimeError:
        pass
    return [(r"/api/v1/(.*)", V1Handler, {"ctx": ctx})]
