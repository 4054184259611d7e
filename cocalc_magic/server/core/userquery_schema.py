"""The tables and fields ``userquery`` serves, its error type, and the value conventions of
CoCalc's database answers (ISO times, PostgreSQL's uuid refusals)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .store import is_uuid

RECENT_DAYS = 21  # projects: pg_where "last_edited >= NOW() - interval '21 days'"
DEFAULT_LIMIT = 100  # projects: options [{limit: 100, order_by: "-last_edited"}]


class UserQueryError(Exception):
    """A query CoCalc refuses; ``str(e)`` is CoCalc's text.

    ``type_error`` marks the one JavaScript TypeError a missing ``query`` causes: the conat
    bridge shows it as ``TypeError: <text>``, v2 ``user-query`` without the prefix.
    """

    def __init__(self, text: str, type_error: bool = False):
        super().__init__(text)
        self.text = text
        self.type_error = type_error


JS_DATE_MAX_MS = 8.64e15  # new Date(x) is an Invalid Date beyond ±8.64e15 ms


def iso(ms: float | None) -> str | None:
    """A timestamp in ms as JavaScript's ``Date.toJSON`` writes it (None for what no date can
    show: a value stored before times were checked must not break every listing)."""
    if ms is None:
        return None
    try:
        dt = datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_time(value: Any) -> float | None:
    """ms since the epoch of an ISO string or a number; None if it is neither, or not a time
    JavaScript's Date can hold (non-finite, beyond ±8.64e15 ms)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ms = float(value)
        return ms if abs(ms) <= JS_DATE_MAX_MS else None  # nan fails the comparison too
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000.0
        except ValueError:
            return None
    return None


def _pg_uuid(pid: Any) -> None:
    """PostgreSQL's refusal of a value that is not a UUID where one is expected."""
    if not is_uuid(pid):
        raise UserQueryError(f'postgresql error: invalid input syntax for type uuid: "{pid}"')


def _has_null_leaf(obj: Any) -> bool:
    if obj is None:
        return True
    if isinstance(obj, dict):
        return any(_has_null_leaf(v) for v in obj.values())
    return False


# ---------------------------------------------------------------------------- schema
# Gettable project fields (db-schema/projects.ts user_query.get.fields, V1-FULL plus HEAD's).
PROJECT_GET_FIELDS = (
    "project_id", "name", "title", "description", "users", "invite", "invite_requests", "deleted",
    "host", "settings", "run_quota", "site_license", "status", "state", "last_edited", "last_active",
    "action_request", "course", "compute_image", "created", "env", "sandbox", "avatar_image_tiny",
    "pay_as_you_go_quotas", "manage_users_owner_only", "secret_token", "ephemeral", "color",
)
PROJECT_SET_FIELDS = (
    "project_id", "title", "name", "description", "deleted", "invite_requests", "users",
    "action_request", "compute_image", "site_license", "env", "sandbox", "avatar_image_tiny",
    "avatar_image_full", "manage_users_owner_only", "color",
)

# The account row's defaults where the user never set anything (editor_settings as recorded
# from a 2024 server; the others from db-schema/accounts.ts defaults -- guesses for values the
# recordings do not show).
EDITOR_SETTINGS = {
    "strip_trailing_whitespace": False, "show_trailing_whitespace": False, "line_wrapping": True,
    "line_numbers": True, "jupyter_line_numbers": False, "smart_indent": True, "electric_chars": True,
    "match_brackets": True, "auto_close_brackets": True, "code_folding": True, "match_xml_tags": True,
    "auto_close_xml_tags": True, "auto_close_latex": True, "spaces_instead_of_tabs": True,
    "multiple_cursors": True, "track_revisions": True, "extra_button_bar": True, "build_on_save": True,
    "first_line_number": 1, "indent_unit": 4, "tab_size": 4, "bindings": "standard", "theme": "default",
    "undo_depth": 300, "jupyter_classic": False, "jupyter_window": False, "disable_jupyter_windowing": False,
    "show_exec_warning": True, "physical_keyboard": "default", "keyboard_variant": "",
    "ask_jupyter_kernel": True, "disable_jupyter_virtualization": False,
}
ACCOUNT_DEFAULTS: dict[str, Any] = {
    "editor_settings": EDITOR_SETTINGS,
    "other_settings": {},
    "terminal": {"font_size": 14, "color_scheme": "default", "font": "monospace"},
    "autosave": 45,
    "evaluate_key": "Shift-Enter",
    "font_size": 14,
    "passports": {},
    "profile": {},
    "ssh_keys": {},
    "unlisted": False,
    "tags": None,
    "tours": None,
    "name": None,
    "email_address_verified": None,
}
ACCOUNT_COLUMNS = ("account_id", "email_address", "first_name", "last_name", "created", "last_active", "groups")
ACCOUNT_JSON_FIELDS = ("editor_settings", "other_settings", "terminal", "profile", "ssh_keys")  # merged on set
ACCOUNT_GET_FIELDS = ACCOUNT_COLUMNS + tuple(ACCOUNT_DEFAULTS)
ACCOUNT_SET_FIELDS = ("account_id", "first_name", "last_name", "name", "editor_settings", "other_settings",
                      "terminal", "autosave", "evaluate_key", "font_size", "profile", "ssh_keys", "unlisted",
                      "tags", "tours")

PUBLIC_PATH_FIELDS = ("id", "project_id", "path", "description", "disabled", "unlisted", "created", "last_edited")

TABLES = ("projects", "projects_all", "accounts", "public_paths", "site_settings")
