"""What the v1 dispatcher checks before a handler runs: the fields of every API message at
V1-FULL (``SCHEMAS``; ``R`` required, ``U`` optional), the texts of its refusals, and the
coercions and caller that the handlers share."""
from __future__ import annotations

import json
import math
import uuid
from typing import Any

from ..core.jsvalues import js_str
from ..core.store import is_uuid

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
