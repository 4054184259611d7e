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
import fnmatch
import json
import logging
import math
import os
import re
import shutil
import time
import uuid
from typing import Any, Awaitable, Callable

from . import homes
from .app import AuthProblem, BaseHandler, NotFoundHandler
from .conat import js_str
from .execute import ExecOptions, project_env, run
from .store import is_uuid, new_uuid, now_ms
from .userquery import UserQueryError, is_public, iso, parse_time, user_query

log = logging.getLogger("cocalc_magic.server")

JSON_LIMIT = 102_400  # express.json() default "100kb"
FORM_LIMIT = 1_000_000  # express.urlencoded({limit: "1mb"})

NO_ACCOUNT = "No account found. Is your API key wrong?"
BANNED = "User is BANNED.  If this is a mistake, please contact help@cocalc.com"

R = object()  # a required field
U = object()  # an optional field without default: left out of the message when absent


# ---------------------------------------------------------------------------- schemas
# Fields of each API message at V1-FULL (src/packages/util/message.js@a50170846e).
SCHEMAS: dict[str, dict[str, Any]] = {
    "ping": {},
    "create_account": {
        "first_name": U, "last_name": U, "email_address": U, "password": U, "agreed_to_terms": U,
        "token": U, "get_api_key": U, "usage_intent": U,
    },
    "change_password": {"account_id": R, "old_password": "", "new_password": R},
    "change_email_address": {"account_id": R, "old_email_address": "", "new_email_address": R, "password": ""},
    "create_project": {"title": "", "description": "", "image": U, "license": U, "start": False, "noPool": False},
    "query": {"query": R, "changes": U, "multi_response": False, "options": U},
    "project_exec": {
        "project_id": R, "path": "", "command": R, "args": [], "timeout": 10, "aggregate": U,
        "max_output": U, "bash": False, "err_on_exit": True,
    },
    "read_text_file_from_project": {"project_id": R, "path": R},
    "write_text_file_to_project": {"project_id": R, "path": R, "content": R},
    "copy_path_between_projects": {
        "src_project_id": R, "src_path": R, "target_project_id": R, "target_path": U,
        "overwrite_newer": False, "delete_missing": False, "backup": False, "timeout": U,
        "wait_until_done": False, "scheduled": U, "exclude": U,
    },
    "copy_path_status": {
        "copy_path_id": U, "src_project_id": U, "target_project_id": U, "src_path": U, "limit": 1000,
        "offset": U, "pending": True, "failed": False,
    },
    "copy_path_delete": {"copy_path_id": U},
    "copy_public_path_between_projects": {
        "src_project_id": R, "src_path": R, "target_project_id": R, "target_path": U,
        "overwrite_newer": False, "delete_missing": False, "backup": False, "timeout": U, "exclude": U,
    },
    "user_auth": {"account_id": R, "password": R},
    "add_collaborator": {"project_id": U, "account_id": R, "token_id": U},
    "remove_collaborator": {"project_id": R, "account_id": R},
    "invite_collaborator": {
        "project_id": R, "account_id": R, "title": U, "link2proj": U, "replyto": U, "replyto_name": U,
        "email": U, "subject": U,
    },
    "invite_noncloud_collaborators": {
        "project_id": R, "to": R, "email": R, "title": R, "link2proj": R, "replyto": U,
        "replyto_name": U, "subject": U,
    },
    "user_search": {"query": R, "admin": False, "active": "", "limit": 20},
    "get_usernames": {"account_ids": R},
    "disconnect_from_project": {"project_id": R},
    "touch_project": {"project_id": R},
    "get_available_upgrades": {},
    "log_client_error": {"error": R},
    "create_support_ticket": {
        "email_address": R, "subject": R, "body": R, "username": U, "tags": U, "account_id": U,
        "location": U, "info": U,
    },
    "get_support_tickets": {},
    # API messages whose handlers need services a local server does not have (billing, LLMs,
    # licenses, Jupyter pools): validated like the others, answered with a handler error.
    "add_license_to_project": {"project_id": R, "license_id": R},
    "remove_license_from_project": {"project_id": R, "license_id": R},
    "get_syncdoc_history": {"string_id": R, "patches": U},
    "purchase_license": {"info": R},
    "chatgpt": {"text": R, "system": U, "history": U, "project_id": U, "path": U, "model": U, "tag": U, "stream": U},
    "jupyter_execute": {
        "hash": U, "kernel": U, "input": U, "history": U, "project_id": U, "path": U, "tag": U, "pool": U, "limits": U,
    },
    "jupyter_kernels": {"project_id": U, "kernels": U},
    "openai_embeddings_search": {"scope": R, "text": U, "filter": U, "limit": 100, "selector": U, "offset": U},
    "openai_embeddings_save": {"project_id": R, "path": R, "data": R},
    "openai_embeddings_remove": {"project_id": R, "path": R, "data": R},
}
for _name in ("stripe_get_customer", "stripe_get_subscriptions", "stripe_get_charges", "stripe_get_invoices"):
    SCHEMAS[_name] = {"limit": U, "ending_before": U, "starting_after": U} if _name != "stripe_get_customer" else {}
for _name in ("stripe_create_source", "stripe_delete_source", "stripe_set_default_source", "stripe_update_source"):
    SCHEMAS[_name] = {"token": U, "card_id": U, "info": U}
for _name in ("stripe_create_subscription", "stripe_cancel_subscription", "stripe_update_subscription"):
    SCHEMAS[_name] = {"plan": U, "quantity": U, "coupon_id": U, "subscription_id": U, "at_period_end": U,
                      "projects": U}
SCHEMAS["stripe_get_coupon"] = {"coupon_id": R}

NO_ID_FIELD = {"copy_path_status", "copy_path_delete"}  # their schemas have no `id`
STRIPE_EVENTS = {k for k in SCHEMAS if k.startswith("stripe_")} | {"get_available_upgrades", "purchase_license"}

# Messages that exist in message.js but are not flagged API (recorded: delete_account,
# forgot_password, reset_forgot_password, unlink_passport), plus the reply-only messages.
NOT_API = {
    "delete_account", "forgot_password", "reset_forgot_password", "unlink_passport", "metrics",
    "start_metrics", "sign_in", "sign_out", "signed_in", "signed_out", "sign_in_failed",
    "sign_in_using_auth_token", "remember_me_failed", "error", "success", "pong", "account_created",
    "account_creation_failed", "changed_password", "changed_email_address", "project_created",
    "project_exec_output", "text_file_read_from_project", "file_written_to_project", "user_auth_token",
    "usernames", "user_search_results", "copy_path_between_projects_response", "copy_path_status_response",
    "invite_noncloud_collaborators_resp", "available_upgrades", "support_ticket_url", "support_tickets",
    "api_key", "api_key_info", "api_keys", "api_keys_response", "remove_all_upgrades", "cookies",
    "version", "local_hub", "send_verification_email", "admin_reset_password", "webapp_error",
    "project_set_quotas", "query_cancel", "query_get_changefeed_ids", "get_user_info",
    "jupyter_start_pool", "stripe_customer", "stripe_plans", "purchase_license_resp",
    "jupyter_execute_response", "chatgpt_response", "syncdoc_history",
}


class Invalid(Exception):
    """A dispatcher-level refusal: HTTP 400 ``{"error": text}``."""


class V1Error(Exception):
    """A handler-level failure: HTTP 200 ``{"event":"error","id","error": text}``."""


def _js_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _pg_uuid(value: Any) -> None:
    """PostgreSQL's refusal of a value that is not a UUID where one is expected."""
    if not is_uuid(value):
        raise V1Error(f'invalid input syntax for type uuid: "{js_str(value)}"')


def build_message(event: str, body: dict) -> dict:
    """CoCalc's ``message[event](body)`` in strict mode; raises Invalid with its texts."""
    if "event" in body:
        js = _js_json(body)
        raise Invalid(
            "invalid parameters 'Error: ValueError: must not define 'event' when calling message "
            f"creation function (opts={js}, obj={js})'"
        )
    fields = SCHEMAS[event]
    allowed = set(fields) if event in NO_ID_FIELD else set(fields) | {"id"}
    for key in body:
        if key not in allowed:
            raise Invalid(f"invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument '{key}' '")
    mesg: dict[str, Any] = {}
    for key, default in fields.items():
        value = body.get(key)
        if value is None:
            if default is R:
                raise Invalid(
                    f"invalid parameters 'Error: misc.defaults -- TypeError: property '{key}' must be specified: '"
                )
            if default is U:
                continue
            value = default() if callable(default) else json.loads(json.dumps(default))
        mesg[key] = value
    mesg["id"] = body["id"] if body.get("id") is not None else str(uuid.uuid4())
    return mesg


# ---------------------------------------------------------------------------- coercions
def _truthy(value: Any) -> bool:
    """JSON booleans as they are; form strings "false"/"0"/"" are false.

    (CoCalc would treat every non-empty form string as true; we read them as people mean them.)
    """
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0", "no", "off")
    return bool(value)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise V1Error(f"{name} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise V1Error(f"{name} must be a number, not '{js_str(value)}'") from None
    if not math.isfinite(number):
        raise V1Error(f"{name} must be a finite number, not '{js_str(value)}'")
    return number


class Caller:
    """The key's owner: an account, or a project (a project key acts as its project)."""

    def __init__(self, store, resolved: dict):
        self.project_id: str | None = resolved["project_id"]
        self.account_id: str | None = None if self.project_id else resolved["account_id"]
        self.id: str = self.project_id or resolved["account_id"]  # CoCalc: a project key's "account" is the project
        self.admin = bool(self.account_id) and store.is_admin(self.account_id)


# ---------------------------------------------------------------------------- the handler
class V1Handler(BaseHandler):
    json_limit = JSON_LIMIT
    form_limit = FORM_LIMIT

    def get(self, *_args: Any) -> None:
        # Only POST is routed; anything else falls through to the site's 404 page.
        NotFoundHandler.prepare(self)  # type: ignore[arg-type]

    head = put = delete = patch = get

    def prepare(self) -> None:
        if self.request.method != "POST":
            return
        reason = self.body_too_large()
        if reason:
            kind = self.body_kind()
            limit = JSON_LIMIT if kind == "json" else FORM_LIMIT
            self.write_json(
                {"error": f"request entity too large: the {kind} body has {len(self.request.body)} bytes; "
                          f"the API v1 accepts at most {limit} bytes ({'100kb' if kind == 'json' else '1mb'}). "
                          "Send less per call, e.g. write a large file in parts."},
                status=413,
            )
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

    # ------------------------------------------------------------------ messages
    async def m_ping(self, m: dict, caller: Caller) -> dict:
        return self.ok("pong", m, now=iso(now_ms()))

    async def m_create_account(self, m: dict, caller: Caller) -> dict:
        reason = self._create_account_issues(m, limit_ip=not caller.admin)
        if reason:
            return self.ok("account_creation_failed", m, reason=reason)
        email = m.get("email_address")
        account_id = self.store.create_account(
            email or None, m.get("password") or None, str(m.get("first_name") or ""), str(m.get("last_name") or "")
        )
        self._apply_creation_actions(account_id, email)
        reply = self.ok("account_created", m, account_id=account_id)
        if _truthy(m.get("get_api_key")):
            reply["api_key"] = self.store.set_legacy_api_key(account_id)
        return reply

    def _create_account_issues(self, m: dict, limit_ip: bool = True) -> dict | None:
        """CoCalc's checks in create-account.ts, in its order: input issues, the per-IP limit,
        the address taken.

        The limit (150 accounts per IP per 30 min) does not apply to an admin's key: on a local
        server an admin provisioning a class is the normal case (CoCalc raises it to 1500 for
        its ``gold`` group; exempting admins is our choice)."""
        issues: dict[str, str] = {}
        email, password = m.get("email_address"), m.get("password")
        if email and not (isinstance(email, str) and re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
            issues["email_address"] = "Email address does not appear to be valid."
        if password:
            if not isinstance(password, str):
                issues["password"] = "Password must be specified."
            elif not 6 <= len(password) <= 64:
                issues["password"] = "Password must be between 6 and 64 characters in length."
        if issues:
            return issues
        ip = self.request.remote_ip or ""
        window = self.ctx.caches.setdefault("v1_create_account_ip", {})
        now = time.time()
        recent = [t for t in window.get(ip, []) if now - t < 30 * 60]
        window[ip] = recent
        if limit_ip and len(recent) >= 150:
            return {"other": f'Unable to create account. Error: "Error: Too many accounts are being created from the '
                             f"ip address {ip}; try again later.  By default at most 150 accounts can be created "
                             "every 30 minutes from one IP; if you're using the API and need a higher limit, "
                             'contact us."'}
        if isinstance(email, str) and email and self.store.account_by_email(email):
            return {"email_address": "This e-mail address is already taken."}
        if limit_ip:  # an admin's accounts neither meet the limit nor count toward it
            recent.append(now)
        return None

    def _apply_creation_actions(self, account_id: str, email: str | None) -> None:
        """Invitations sent to this address before the account existed (14 days)."""
        if not email:
            return
        rows = self.store.query(
            "SELECT project_id, grp FROM v1_account_creation_actions WHERE email_address=? AND expire>?",
            (email.lower(), now_ms()),
        )
        for r in rows:
            if self.store.project(r["project_id"]):
                self.store.add_user(r["project_id"], account_id, r["grp"])
        self.store.execute("DELETE FROM v1_account_creation_actions WHERE email_address=?", (email.lower(),))

    async def m_change_password(self, m: dict, caller: Caller) -> dict:
        """hub/password.coffee: acts on the key owner's account (``account_id`` of the message is
        not used); the old password is checked first, unless the account has none."""
        if not caller.account_id:
            return self.ok("changed_password", m, error={"other": "no account for this key (a project key cannot change a password)"})
        acct = self.store.account(caller.account_id)
        if acct["password_hash"] and not self.store.check_password(caller.account_id, js_str(m.get("old_password") or "")):
            return self.ok("changed_password", m, error="invalid old password")
        new = m["new_password"]
        if not isinstance(new, str):
            return self.ok("changed_password", m, error={"new_password": "Password must be specified."})
        if not 6 <= len(new) <= 64:
            return self.ok("changed_password", m, error={"new_password": "Password must be between 6 and 64 characters in length."})
        self.store.set_password(caller.account_id, new)
        return self.ok("changed_password", m)

    async def m_change_email_address(self, m: dict, caller: Caller) -> dict:
        """hub/password.coffee at V1-FULL: failures inside changed_email_address (recorded)."""
        new = js_str(m["new_email_address"]).lower()
        if not _EMAIL.fullmatch(new):
            return self.ok("changed_email_address", m, error="email_invalid")
        if m["account_id"] != caller.account_id:
            return self.ok("changed_email_address", m, error="account_id in mesg is not what user is signed in as")
        acct = self.store.account(caller.account_id)
        if acct["password_hash"] and not self.store.check_password(caller.account_id, js_str(m.get("password") or "")):
            return self.ok("changed_email_address", m, error="invalid_password")
        other = self.store.account_by_email(new)
        if other and other["account_id"] != caller.account_id:
            return self.ok("changed_email_address", m, error="email_already_taken")
        self.store.update_account(caller.account_id, email_address=new)
        self._apply_creation_actions(caller.account_id, new)
        return self.ok("changed_email_address", m, error=False)

    async def m_create_project(self, m: dict, caller: Caller) -> dict:
        if not caller.account_id:
            raise V1Error("You must be signed in to create a new project.")
        title = m.get("title")
        description = m.get("description")
        try:
            project_id = self.store.create_project(
                caller.account_id, "" if title is None else js_str(title),
                "" if description is None else js_str(description),
            )
            if m.get("image"):
                self.store.update_project(project_id, compute_image=js_str(m["image"]))
        except Exception as exc:  # noqa: BLE001
            raise V1Error(f"Failed to create new project '{js_str(title)}' -- {_js_json(str(exc))}") from None
        reply = self.ok("project_created", m, project_id=project_id)
        if _truthy(m.get("start")):
            self.runtime.request_start(project_id)  # answered before the project runs, as CoCalc does
        return reply

    async def m_query(self, m: dict, caller: Caller) -> dict:
        result = user_query(self.ctx, caller.id, m["query"], m.get("options"))
        # The hub answers with the request message itself, its `query` replaced by the result:
        # key order = the body's keys, then defaults, then event and id (recorded).
        body = self.params()
        out: dict[str, Any] = {}
        for key in body:
            if key in m and key != "id":
                out[key] = result if key == "query" else m[key]
        out.setdefault("query", result)
        out.setdefault("multi_response", m["multi_response"])
        out["event"] = "query"
        out["id"] = m["id"]
        return out

    # ------------------------------------------------------------------ exec and files
    async def m_project_exec(self, m: dict, caller: Caller) -> dict:
        pid = self.access(caller, m["project_id"], "write")
        command = m["command"]
        if not isinstance(command, str):
            command = js_str(command)
        if command == "smc-jupyter":
            raise V1Error("do not run smc-jupyter directly")
        args = m.get("args")
        if args is None:
            args = []
        elif not isinstance(args, list):
            args = [args]
        args = [js_str(a) for a in args]
        timeout = _number(m.get("timeout", 10), "timeout")
        max_output = m.get("max_output")
        max_output = int(_number(max_output, "max_output")) if max_output is not None else None
        await self.runtime.ensure_running(pid)
        home = self.store.home(pid)
        try:
            cwd = homes.resolve(home, str(m.get("path") or ""))
        except homes.PathOutsideHome as exc:
            raise V1Error(f"Error: {exc}") from None
        opts = ExecOptions(command=command, args=args, cwd=cwd, timeout=timeout, max_output=max_output,
                           bash=_truthy(m.get("bash")))
        outcome = await run(opts, project_env(home, pid), self.runtime.processes, pid)
        prefix = f"Error executing command '{command}' with args '{js_str(args)}' -- "
        if outcome.killed:
            raise V1Error(f"{prefix}killed command '{outcome.spawned}', undefined, undefined")
        stdout, stderr = outcome.stdout, outcome.stderr
        if outcome.spawn_error:
            stderr = _js_json(outcome.spawn_error)
        if outcome.exit_code and _truthy(m.get("err_on_exit", True)):
            what = f"command '{command}'" if outcome.bash else f"command '{command}' (args={' '.join(args)})"
            raise V1Error(
                f"{prefix}{what} exited with nonzero code {outcome.exit_code} -- stderr='{stderr[:1024]}', undefined, undefined"
            )
        return self.ok("project_exec_output", m, stdout=stdout, stderr=stderr, exit_code=outcome.exit_code)

    async def _read_one(self, caller: Caller, project_id: Any, path: Any) -> str:
        pid = self.access(caller, project_id, "read")
        if not isinstance(path, str):
            raise V1Error(f"Error: path must be a string, not '{js_str(path)}'")
        await self.runtime.ensure_running(pid)
        try:
            return await self.in_thread(homes.read_text, self.store.home(pid), path)
        except (OSError, ValueError) as exc:
            raise V1Error(f"Error: {exc}") from None

    async def m_read_text_file_from_project(self, m: dict, caller: Caller) -> dict:
        project_id, path = m["project_id"], m["path"]
        if isinstance(project_id, list) or isinstance(path, list):
            if isinstance(project_id, list) and not (isinstance(path, list) and len(path) == len(project_id)):
                raise V1Error("if project_id is an array, then path must be an array of the same length")
            pairs = list(zip(project_id, path)) if isinstance(project_id, list) else [(project_id, p) for p in path]

            async def one(pid: Any, p: Any) -> dict:
                try:
                    return {"project_id": pid, "path": p, "content": await self._read_one(caller, pid, p)}
                except V1Error as exc:
                    return {"project_id": pid, "path": p, "error": str(exc)}

            content = await asyncio.gather(*(one(pid, p) for pid, p in pairs))
            return self.ok("text_file_read_from_project", m, content=list(content))
        return self.ok("text_file_read_from_project", m, content=await self._read_one(caller, project_id, path))

    async def m_write_text_file_to_project(self, m: dict, caller: Caller) -> dict:
        pid = self.access(caller, m["project_id"], "write")
        path, content = m["path"], m["content"]
        if not isinstance(path, str) or not path:
            raise V1Error(f"Error: path must be a non-empty string, not '{js_str(path)}'")
        if not isinstance(content, str):
            content = js_str(content) if not isinstance(content, (dict, list)) else _js_json(content)
        await self.runtime.ensure_running(pid)
        try:
            await self.in_thread(homes.write_text, self.store.home(pid), path, content)
        except (OSError, ValueError) as exc:
            raise V1Error(f"Error: {exc}") from None
        return self.ok("file_written_to_project", m)

    # ------------------------------------------------------------------ copies
    async def m_copy_path_between_projects(self, m: dict, caller: Caller) -> dict:
        src, target = m["src_project_id"], m["target_project_id"]
        for name, value in (("src_project_id", src), ("target_project_id", target)):
            if not is_uuid(value):
                raise V1Error(f"{name}='{js_str(value)}' not valid")
        self._copy_write_access(caller, target)
        self._copy_read_access(caller, src)
        op = _CopyOp.from_mesg(m)
        copy_id = new_uuid()
        scheduled = parse_time(m["scheduled"]) if m.get("scheduled") is not None else None
        if m.get("scheduled") is not None and scheduled is None:
            raise V1Error(f"scheduled='{js_str(m['scheduled'])}' is not a valid date")
        self.store.execute(
            "INSERT INTO copy_paths (id, time, source_project_id, source_path, target_project_id, target_path,"
            " overwrite_newer, delete_missing, backup, scheduled, exclude) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (copy_id, now_ms(), src, op.src_path, target, op.target_path, int(op.overwrite_newer),
             int(op.delete_missing), int(op.backup), scheduled, _js_json(op.exclude) if op.exclude else None),
        )
        if scheduled is not None and scheduled > now_ms():
            asyncio.get_running_loop().call_later(
                (scheduled - now_ms()) / 1000.0, lambda: asyncio.ensure_future(self._run_copy(copy_id, op))
            )
            # A scheduled copy can be polled or deleted only by its id, so it is returned here
            # (an immediate copy on a self-hosted server answers copy_path_id "": recorded).
            return self.ok("copy_path_between_projects_response", m, copy_path_id=copy_id, note=COPY_NOTE)
        error = await self._run_copy(copy_id, op)
        if error and _truthy(m.get("wait_until_done")):
            raise V1Error(error)
        return self.ok("copy_path_between_projects_response", m, copy_path_id="", note=COPY_NOTE)

    async def _run_copy(self, copy_id: str, op: "_CopyOp") -> str | None:
        row = self.store.query_one("SELECT * FROM copy_paths WHERE id=?", (copy_id,))
        if not row or row["started"] is not None:
            return None
        self.store.execute("UPDATE copy_paths SET started=? WHERE id=?", (now_ms(), copy_id))
        error = None
        try:
            await self.runtime.ensure_running(op.src)
            await self.runtime.ensure_running(op.target)
            await self.in_thread(op.run, self.store)
        except Exception as exc:  # noqa: BLE001 - recorded in the copy's row
            error = str(exc)
        self.store.execute("UPDATE copy_paths SET finished=?, error=? WHERE id=?", (now_ms(), error, copy_id))
        return error

    # hub/copy-path.ts: its access checks and texts
    def _copy_read_access(self, caller: Caller, project_id: Any) -> None:
        if not is_uuid(project_id):
            raise V1Error(f"invalid src_project_id={js_str(project_id)}")
        if not self.can_write(caller, project_id):
            raise V1Error(f"ACCESS BLOCKED -- No read access to source project -- {project_id}")

    def _copy_write_access(self, caller: Caller, project_id: Any) -> None:
        if not is_uuid(project_id):
            raise V1Error(f"invalid target_project_id={js_str(project_id)}")
        if not self.can_write(caller, project_id):
            raise V1Error(f"ACCESS BLOCKED -- No write access to target project -- {project_id}")

    @staticmethod
    def _sanitize(value: Any, default: int, maximum: int, name: str) -> int:
        if value is None:
            return default
        try:
            n = int(value) if not isinstance(value, str) else int(re.match(r"\s*[-+]?\d+", value).group())  # parseInt
        except (TypeError, ValueError, AttributeError, OverflowError):
            n = -1
        if n < 0 or n > maximum:
            raise V1Error(f"ILLEGAL VALUE {name}='{js_str(value)}' (must be in [0, {maximum}])")
        return n

    def _copy_op_row(self, caller: Caller, copy_id: Any, not_yet_done: bool = False) -> dict:
        _pg_uuid(copy_id)
        sql = "SELECT * FROM copy_paths WHERE id=?"
        if not_yet_done:
            sql += " AND scheduled IS NOT NULL AND finished IS NULL"
        row = self.store.query_one(sql, (copy_id,))
        if not row:
            if not_yet_done:
                raise V1Error(f"Copy operation '{copy_id}' either does not exist or already finished")
            raise V1Error(f"Can't find copy operation with ID={copy_id}")
        self._copy_write_access(caller, row["target_project_id"])
        self._copy_read_access(caller, row["source_project_id"])
        return row

    async def m_copy_path_status(self, m: dict, caller: Caller) -> dict:
        src, target = m.get("src_project_id"), m.get("target_project_id")
        if src is None and target is None:
            if m.get("copy_path_id") is None:
                raise V1Error("'copy_path_id' (UUID) of a copy operation or 'src_project_id/target_project_id' must be defined")
            row = self._copy_op_row(caller, m["copy_path_id"])
            return self.ok("copy_path_status_response", m, data=_copy_row(row))
        where, params = [], []
        if src is not None:
            self._copy_read_access(caller, src)
            where.append("source_project_id=?")
            params.append(src)
        if target is not None:
            self._copy_write_access(caller, target)
            where.append("target_project_id=?")
            params.append(target)
        if m.get("src_path") is not None:
            where.append("source_path=?")
            params.append(js_str(m["src_path"]))
        pending = m.get("pending")
        if m.get("failed") in (True, "true"):  # all failed ones are implicitly also finished
            where.append("error IS NOT NULL")
            pending = False
        where.append("finished IS NULL" if pending in (True, "true") else "finished IS NOT NULL")
        offset = self._sanitize(m.get("offset"), 0, 100_000, "offset")
        limit = self._sanitize(m.get("limit"), 1000, 1000, "limit")
        rows = self.store.query(
            f"SELECT * FROM copy_paths WHERE {' AND '.join(where)} ORDER BY time DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return self.ok("copy_path_status_response", m, data=[_copy_row(r) for r in rows])

    async def m_copy_path_delete(self, m: dict, caller: Caller) -> dict:
        """Only a scheduled copy that has not finished can be deleted (copy-path.ts)."""
        copy_id = m.get("copy_path_id")
        self._copy_op_row(caller, copy_id, not_yet_done=True)
        self.store.execute("DELETE FROM copy_paths WHERE id=?", (copy_id,))
        return self.ok("copy_path_status_response", m, data=f"copy_path_id = '{copy_id}' deleted")

    async def m_copy_public_path_between_projects(self, m: dict, caller: Caller) -> dict:
        src, target = m["src_project_id"], m["target_project_id"]
        if not is_uuid(target) or not self.can_write(caller, target):
            raise V1Error(f"user must have write access to target project {js_str(target)}")
        if not is_uuid(src) or not is_public(self.store, src, str(m["src_path"])):
            raise V1Error(f"path '{js_str(m['src_path'])}' of project with id '{js_str(src)}' is not public")
        op = _CopyOp.from_mesg(m)
        await self.runtime.ensure_running(target)
        try:
            await self.in_thread(op.run, self.store)
        except Exception as exc:  # noqa: BLE001
            raise V1Error(str(exc)) from None
        return self.ok("success", m)

    # ------------------------------------------------------------------ auth tokens
    async def m_user_auth(self, m: dict, caller: Caller) -> dict:
        target, password = m["account_id"], m["password"]
        bans = self.ctx.caches.setdefault("v1_user_auth_ban", {})
        ban_key = (caller.id, js_str(target))
        banned_at = bans.get(ban_key)
        if banned_at is not None and time.time() - banned_at < 60:
            raise V1Error("banned -- please wait at least 60s before trying again")
        password = password if isinstance(password, str) else js_str(password)
        exists = is_uuid(target) and self.store.account(target) is not None
        if not (password == "" and caller.admin and exists):
            if not exists or not password or not self.store.check_password(target, password):
                bans[ban_key] = time.time()
                raise V1Error("incorrect password")
        token = self.store.create_auth_token(target, caller.id, ttl_s=12 * 3600, is_admin=caller.admin and password == "")
        return self.ok("user_auth_token", m, auth_token=token)

    # ------------------------------------------------------------------ collaborators
    async def m_add_collaborator(self, m: dict, caller: Caller) -> dict:
        if m.get("token_id") is not None:
            raise V1Error("Error: project invite tokens are not supported by this server")
        projects = m.get("project_id")
        accounts = m["account_id"]
        projects = projects if isinstance(projects, list) else [projects]
        accounts = accounts if isinstance(accounts, list) else [accounts]
        if len(projects) == 1 and len(accounts) > 1:
            projects = projects * len(accounts)
        if len(accounts) == 1 and len(projects) > 1:
            accounts = accounts * len(projects)
        if len(projects) != len(accounts):
            raise V1Error("Error: the lists of projects and accounts must have the same length")
        for pid, acct in zip(projects, accounts):
            for value in (pid, acct):
                if not is_uuid(value):
                    raise V1Error(f'Error: invalid input syntax for type uuid: "{js_str(value)}"')
            if not self.can_write(caller, pid):
                raise V1Error(f"Error: user {caller.id} does not have write access to project {pid}")
        for pid, acct in zip(projects, accounts):
            self.store.add_user(pid, acct, "collaborator")
        return self.ok("success", m)

    async def m_remove_collaborator(self, m: dict, caller: Caller) -> dict:
        pid = self.access(caller, m["project_id"], "write")
        acct = m["account_id"]
        _pg_uuid(acct)
        self.store.remove_user(pid, acct)  # removing an owner is a silent no-op, as in CoCalc
        return self.ok("success", m)

    async def m_invite_collaborator(self, m: dict, caller: Caller) -> dict:
        pid = self.access(caller, m["project_id"], "write")
        acct = m["account_id"]
        _pg_uuid(acct)
        self.store.add_user(pid, acct, "collaborator")  # no e-mail is sent by a local server
        return self.ok("success", m)

    async def m_invite_noncloud_collaborators(self, m: dict, caller: Caller) -> dict:
        pid = self.access(caller, m["project_id"], "write")
        to = js_str(m["to"])
        if len(to) > 1024:
            raise V1Error("Specify less recipients when adding collaborators to project.")
        addresses = [x for x in re.sub(r"\s", ",", to).replace(";", ",").split(",") if x]
        for address in addresses:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
                raise V1Error(f"invalid email address '{address}'")
            if len(address) >= 128:
                raise V1Error(f"email address must be at most 128 characters: '{address.lower()}'")
        for address in addresses:
            address = address.lower()
            existing = self.store.account_by_email(address)
            if existing:
                self.store.add_user(pid, existing["account_id"], "collaborator")
            else:
                self.store.execute(
                    "INSERT INTO v1_account_creation_actions (email_address, project_id, grp, expire) VALUES (?,?,?,?)",
                    (address, pid, "collaborator", now_ms() + 14 * 24 * 3600 * 1000),
                )
        return self.ok("invite_noncloud_collaborators_resp", m, mesg=f"Invited {to} to collaborate on a project.")

    # ------------------------------------------------------------------ users
    async def m_get_usernames(self, m: dict, caller: Caller) -> dict:
        ids = m["account_ids"]
        if not isinstance(ids, list):
            ids = [ids]
        names: dict[str, dict] = {}
        for acct_id in ids:
            acct = self.store.account(acct_id) if is_uuid(acct_id) else None
            if acct:
                names[acct_id] = {"first_name": acct["first_name"], "last_name": acct["last_name"]}
        return self.ok("usernames", m, usernames=names)

    async def m_user_search(self, m: dict, caller: Caller) -> dict:
        admin = _truthy(m.get("admin"))
        if admin and not caller.admin:
            raise V1Error("Error: only admins may do an admin user search")  # guess
        try:
            limit = int(_number(m.get("limit", 20), "limit"))
        except V1Error:
            limit = 20
        if not caller.admin:
            limit = min(limit, 50)
        limit = max(limit, 0)
        return self.ok("user_search_results", m, results=self._user_search(js_str(m["query"]), limit, admin))

    def _user_search(self, query: str, limit: int, admin: bool) -> list[dict]:
        """server/accounts/search.ts: an account id or one e-mail address exactly; otherwise
        comma-separated terms, e-mails matched exactly and words as substrings of first name,
        last name or @name (admins: of the e-mail too). Most recently active first."""
        store = self.store

        def entry(acct: dict, with_email: bool) -> dict:
            out = {"account_id": acct["account_id"], "first_name": acct["first_name"],
                   "last_name": acct["last_name"], "name": (acct.get("settings") or {}).get("name")}
            if with_email or admin:
                out["email_address"] = acct["email_address"]
            out["last_active"] = int(acct["last_active"]) if acct.get("last_active") else None
            out["created"] = int(acct["created"]) if acct.get("created") else None
            out["email_address_verified"] = None
            return out

        def recency(e: dict) -> float:
            return max(e["last_active"] or 0, e["created"] or 0)

        q = query.strip()
        if is_uuid(q.lower()):
            acct = store.account(q.lower())
            return [entry(acct, False)] if acct else []
        if _EMAIL.fullmatch(q):
            acct = store.account_by_email(q)
            return [entry(acct, True)] if acct else []
        emails: list[str] = []
        strings: list[list[str]] = []
        for part in query.split(","):
            part = part.strip()
            m = re.search(r"<([^<>]+)>", part)  # "Jane Roe <jane@x.y>"
            address = m.group(1).strip() if m else part
            if _EMAIL.fullmatch(address):
                emails.append(address.lower())
            elif part:
                strings.append(part.lower().split())
        if admin:
            strings += [[e] for e in emails]
            emails = []
        results: list[dict] = []
        for address in emails:
            acct = store.account_by_email(address)
            if acct:
                results.append(entry(acct, True))
        room = limit - len(results)
        if strings and room > 0:
            rows = store.query("SELECT account_id FROM accounts ORDER BY COALESCE(last_active, created) DESC")
            for r in rows:
                acct = store.account(r["account_id"])
                if not acct or (not admin and (acct.get("settings") or {}).get("unlisted")):
                    continue
                name = (acct.get("settings") or {}).get("name")
                fields = [acct["first_name"].lower(), acct["last_name"].lower()]
                if name:
                    fields.append("@" + str(name).lower())
                if admin and acct["email_address"]:
                    fields.append(acct["email_address"])
                if any(all(any(t in f for f in fields) for t in terms) for terms in strings):
                    results.append(entry(acct, False))
                    room -= 1
                    if room <= 0:
                        break
        results.sort(key=recency, reverse=True)
        return results[:max(limit, 0)]

    # ------------------------------------------------------------------ projects, misc
    async def m_touch_project(self, m: dict, caller: Caller) -> dict:
        self.access(caller, m["project_id"], "write")
        return self.ok("success", m)

    async def m_disconnect_from_project(self, m: dict, caller: Caller) -> dict:
        pid = m["project_id"]
        if not is_uuid(pid):
            raise V1Error(f"unable to disconnect from project {js_str(pid)} -- project_id must be specified and valid")
        if not self.can_write(caller, pid):
            raise V1Error(f"unable to disconnect from project {pid} -- must have write access")
        return self.ok("success", m)

    async def m_log_client_error(self, m: dict, caller: Caller) -> dict:
        self.store.execute(
            "INSERT INTO client_error_log (account_id, time, error) VALUES (?,?,?)",
            (caller.id, now_ms(), js_str(m["error"])[:10_000]),
        )
        return self.ok("success", m)

    async def m_create_support_ticket(self, m: dict, caller: Caller) -> dict:
        raise V1Error("deprecated")

    async def m_get_support_tickets(self, m: dict, caller: Caller) -> dict:
        raise V1Error("deprecated")

    async def m_openai_embeddings_search(self, m: dict, caller: Caller) -> dict:
        raise V1Error("openai_embeddings_search is DEPRECATED")

    async def m_openai_embeddings_save(self, m: dict, caller: Caller) -> dict:
        raise V1Error("openai_embeddings_save is DEPRECATED")

    async def m_openai_embeddings_remove(self, m: dict, caller: Caller) -> dict:
        raise V1Error("openai_embeddings_remove is DEPRECATED")


async def _stripe(self: V1Handler, m: dict, caller: Caller) -> dict:
    # Recorded for get_available_upgrades on a self-hosted server: accounts made through the
    # API have no Stripe customer. The other billing messages go through the same client.
    raise V1Error("Error: stripe customer not defined")


for _name in STRIPE_EVENTS:
    setattr(V1Handler, "m_" + _name, _stripe)


_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")

COPY_NOTE = "Query copy_path_status with the copy_path_id to learn if the copy operation was successful."


def _copy_row(row: dict) -> dict:
    return {
        "copy_path_id": row["id"], "time": iso(row["time"]), "source_project_id": row["source_project_id"],
        "source_path": row["source_path"], "target_project_id": row["target_project_id"],
        "target_path": row["target_path"], "overwrite_newer": bool(row["overwrite_newer"]),
        "delete_missing": bool(row["delete_missing"]), "backup": bool(row["backup"]),
        "started": iso(row["started"]), "finished": iso(row["finished"]), "scheduled": iso(row["scheduled"]),
        "error": row["error"], "exclude": json.loads(row["exclude"]) if row["exclude"] else None,
    }


class _CopyOp:
    """rsync's semantics, in Python: a file or a directory from one HOME into another.

    Without ``overwrite_newer`` a newer target file is kept (``rsync --update``);
    ``delete_missing`` removes target files the source lacks; ``backup`` keeps a ``~`` copy of
    each replaced file; ``exclude`` patterns (fnmatch) skip names.
    """

    def __init__(self, src: str, src_path: str, target: str, target_path: str, overwrite_newer: bool,
                 delete_missing: bool, backup: bool, exclude: list[str] | None):
        self.src, self.src_path, self.target, self.target_path = src, src_path, target, target_path
        self.overwrite_newer, self.delete_missing, self.backup = overwrite_newer, delete_missing, backup
        self.exclude = exclude or []

    @classmethod
    def from_mesg(cls, m: dict) -> "_CopyOp":
        src_path = js_str(m["src_path"])
        target_path = m.get("target_path")
        target_path = src_path if target_path is None else js_str(target_path)
        exclude = m.get("exclude")
        if exclude is not None and not isinstance(exclude, list):
            exclude = [exclude]
        return cls(m["src_project_id"], src_path, m["target_project_id"], target_path,
                   _truthy(m.get("overwrite_newer")), _truthy(m.get("delete_missing")),
                   _truthy(m.get("backup")), [js_str(e) for e in exclude] if exclude else None)

    def _excluded(self, name: str) -> bool:
        return any(fnmatch.fnmatch(name, pat) for pat in self.exclude)

    def run(self, store) -> None:
        src_home, dst_home = store.home(self.src), store.home(self.target)
        src = homes.resolve(src_home, self.src_path)
        dst = homes.resolve(dst_home, self.target_path)
        if not src.exists():
            raise FileNotFoundError(f"rsync: link_stat \"{src}\" failed: No such file or directory (2)")
        if src.is_dir():
            self._copy_dir(src, dst, dst_home)
        else:
            if dst.is_dir() and self.target_path.endswith("/"):
                dst = dst / src.name
            self._copy_file(src, dst, dst_home)

    def _copy_file(self, src, dst, dst_home) -> None:
        homes.resolve(dst_home, os.path.relpath(dst, os.path.realpath(dst_home)))  # stays inside HOME
        if dst.exists() and not self.overwrite_newer and dst.stat().st_mtime > src.stat().st_mtime:
            return
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists() and self.backup:
            shutil.copy2(dst, str(dst) + "~")
        tmp = dst.with_name(f".~cocalc-copy-{uuid.uuid4().hex[:8]}")
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)

    def _copy_dir(self, src, dst, dst_home) -> None:
        dst.mkdir(parents=True, exist_ok=True)
        names = set()
        for entry in os.scandir(src):
            if self._excluded(entry.name):
                continue
            names.add(entry.name)
            if entry.is_symlink():
                continue  # never follow a link out of the source HOME
            if entry.is_dir():
                self._copy_dir(src / entry.name, dst / entry.name, dst_home)
            else:
                self._copy_file(src / entry.name, dst / entry.name, dst_home)
        if self.delete_missing:
            for entry in os.scandir(dst):
                if entry.name not in names and not self._excluded(entry.name):
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry.path)
                    else:
                        os.unlink(entry.path)


CREATION_ACTIONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS v1_account_creation_actions (
    email_address TEXT NOT NULL,
    project_id TEXT NOT NULL,
    grp TEXT NOT NULL,
    expire REAL NOT NULL
);
"""


def routes(ctx) -> list:
    with ctx.store._lock:
        ctx.store._db.executescript(CREATION_ACTIONS_SCHEMA)
    try:
        ctx.caches.setdefault("loop", asyncio.get_running_loop())
    except RuntimeError:
        pass
    return [(r"/api/v1/(.*)", V1Handler, {"ctx": ctx})]
