"""Getting a key without the web UI: /api/v2/auth/sign-in, /api/v2/api-keys, /app?get_api_key=.

Served in both generations (CoCalc's Next.js server had them through 2024 and still has them).
Texts are those of ``next/pages/api/v2/auth/sign-in.ts``, ``server/auth/throttle.ts`` and the
recorded exchanges in ``real-hub-transcripts.md`` ("auth/sign-in", "api-keys").
"""

from __future__ import annotations

import html
import time
from typing import Any

import tornado.web

from ..core import throttle
from ..core.store import is_uuid
from ..core.userquery import parse_time
from ..http import BaseHandler
from ..hub import key_row
from .base import BODY_LIMIT, NextApiHandler

REMEMBER_ME_TTL_S = 180 * 24 * 3600  # "about 6 months" (recorded cookie expiry)
MAX_KEYS_PER_ACCOUNT = 100_000


# ---------------------------------------------------------------------------- sign-in
def check_credentials(ctx, email: Any, password: Any) -> str:
    """The account_id for these credentials; raises ValueError with sign-in.ts's reason."""
    store = ctx.store
    shown = "undefined" if email is None else str(email)
    acct = store.account_by_email(str(email)) if isinstance(email, str) and email else None
    if not acct:
        raise ValueError(f"no account with email address '{shown}'")
    if password is None:
        raise ValueError("Cannot read properties of undefined (reading 'length')")  # recorded TypeError
    if not store.check_password(acct["account_id"], str(password)):
        raise ValueError(f"password for '{shown}' is incorrect")
    if acct.get("banned"):
        raise ValueError(f"'{shown}' is banned")  # guess: CoCalc refuses banned accounts here too
    return acct["account_id"]


def sign_in(handler: BaseHandler, email: Any, password: Any, account_cookie: bool = True) -> tuple[str | None, str | None]:
    """Throttled sign-in (core/throttle.py: per account and per IP, shared by every sign-in
    route); on success sets the cookies. Returns (account_id, error text)."""
    ctx = handler.ctx
    shown = "undefined" if email is None else str(email)
    who = throttle.account_key(ctx.store, email) if isinstance(email, str) else f"email:{shown}"
    ip = handler.request.remote_ip
    limits = throttle.sign_in_throttle(ctx)
    refusal = limits.refusal(who, ip, shown)
    if refusal:
        return None, refusal
    try:
        account_id = check_credentials(ctx, email, password)
    except ValueError as exc:
        limits.failed(who, ip)
        return None, f"Problem signing into account -- {exc}."
    set_sign_in_cookies(handler, account_id, account_cookie=account_cookie)
    return account_id, None


def set_sign_in_cookies(handler: tornado.web.RequestHandler, account_id: str, ttl_s: float = REMEMBER_ME_TTL_S,
                        account_cookie: bool = True) -> None:
    """CoCalc's set-sign-in-cookies.ts: ``remember_me`` (HttpOnly; SameSite from the site setting
    ``samesite_remember_me``, strict by default; Secure over https or with SameSite=None) and,
    with ``account_cookie``, the readable ``account_id`` cookie."""
    store = handler.ctx.store  # type: ignore[attr-defined]
    value = store.create_session(account_id, ttl_s)
    secure = handler.request.protocol == "https"
    samesite = (store.setting("samesite_remember_me") or "strict").capitalize()
    expires = time.time() + ttl_s
    if account_cookie:
        handler.set_cookie("account_id", account_id, path="/", expires=expires, secure=secure)
    handler.set_cookie("remember_me", value, path="/", expires=expires, httponly=True, samesite=samesite,
                       secure=secure or samesite == "None")


# ---------------------------------------------------------------------------- handlers
class V2Handler(NextApiHandler):
    """A Next.js API route of the auth family: POST only, HTTP 200 ``{"error"}`` on failure."""

    def get(self) -> None:
        self.write_json({"message": "Method not allowed."}, status=405)

    put = delete = patch = get

    def body(self) -> dict | None:
        """The POST body as a dict, or None once the 400 ``Invalid JSON`` reply went out."""
        return self.params_or_reply()

    def signed_in_as(self) -> str | None:
        """CoCalc's getAccount: the id of the cookie's account or the key's (a project key
        answers its project_id); an invalid key is simply "not signed in"."""
        caller = self.caller()
        return caller.id if caller else None


class SignInHandler(V2Handler):
    def post(self) -> None:
        body = self.body()
        if body is None:
            return
        account_id, error = sign_in(self, body.get("email"), body.get("password"))
        if error:
            self.write_json({"error": error})
        else:
            self.write_json({"account_id": account_id})


class ApiKeysHandler(V2Handler):
    """``{"action": "get"|"create"|"delete"|"edit", project_id?, name?, expire?, id?}``."""

    def post(self) -> None:
        body = self.body()
        if body is None:
            return
        account_id = self.signed_in_as()
        if not account_id:
            self.write_json({"error": "must be signed in"})
            return
        try:
            self.write_json(self.manage(account_id, body))
        except ValueError as exc:
            self.write_json({"error": str(exc)})

    def manage(self, account_id: str, body: dict) -> dict:
        store = self.store
        if not store.account(account_id):
            raise ValueError("account_id is not a valid account")
        project_id = body.get("project_id") or None
        if project_id is not None:
            if not is_uuid(project_id) or not store.group(project_id, account_id):
                raise ValueError("user must be collaborator on project to manage project_id api keys")
        action = body.get("action")
        key_id = body.get("id")
        if key_id is not None:
            try:
                key_id = int(key_id)
            except (TypeError, ValueError):
                raise ValueError(f"id must be an integer, not '{key_id}'") from None

        def own(kid: int) -> dict | None:
            row = store.api_key(kid)
            return row if row and row["account_id"] == account_id else None

        if action == "get":
            if key_id is not None:
                row = own(key_id)
                return {"response": [key_row(row)] if row else []}
            return {"response": [key_row(r) for r in store.api_keys(account_id, project_id)]}
        if action == "create":
            count = store.query_one("SELECT COUNT(*) AS n FROM api_keys WHERE account_id=?", (account_id,))["n"]
            if count >= MAX_KEYS_PER_ACCOUNT:
                raise ValueError(f"you may have at most {MAX_KEYS_PER_ACCOUNT} api keys")  # guess
            expire = self._expire(body.get("expire"))
            row, secret = store.create_api_key(account_id, project_id=project_id, name=str(body.get("name") or ""),
                                               expire=expire)
            return {"response": [key_row(row, secret)]}
        if action == "delete":
            if key_id is not None and own(key_id):
                store.delete_api_key(key_id)
            return {}
        if action == "edit":
            if key_id is not None and own(key_id):
                fields = {}
                if "name" in body:
                    fields["name"] = str(body.get("name") or "")
                if "expire" in body:
                    fields["expire"] = self._expire(body.get("expire"))
                if fields:
                    cols = ", ".join(f"{k}=?" for k in fields)
                    store.execute(f"UPDATE api_keys SET {cols} WHERE id=?", (*fields.values(), key_id))
            return {}
        return {}  # an unknown action answers {} (recorded)

    @staticmethod
    def _expire(value: Any) -> float | None:
        if value in (None, ""):
            return None
        ms = parse_time(value)
        if ms is None:
            raise ValueError(f"invalid expire date '{value}'")
        return ms


# ---------------------------------------------------------------------------- /app?get_api_key=
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{banner}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body {{ font-family: system-ui, sans-serif; background: #f4f6f8; margin: 0; }}
 .box {{ max-width: 420px; margin: 8vh auto; background: #fff; padding: 28px 32px; border-radius: 8px;
         box-shadow: 0 2px 12px rgba(0,0,0,.12); }}
 h1 {{ font-size: 1.3em; margin: 0 0 .6em; }}
 label {{ display: block; margin: .8em 0 .2em; }}
 input[type=email], input[type=password] {{ width: 100%; box-sizing: border-box; padding: 8px; font-size: 1em; }}
 button {{ margin-top: 1.2em; padding: 8px 18px; font-size: 1em; }}
 .error {{ color: #a00; background: #fee; padding: 8px; border-radius: 4px; }}
 .note {{ color: #555; font-size: .9em; }}
</style></head>
<body><div class="box">
<h1 id="banner">{banner}</h1>
<p class="note">Sign in to give <b>{app}</b> an API key for your account. Anyone holding the key can act as you.</p>
{error}
<form id="sign-in" method="post" action="/app/get-api-key">
<input type="hidden" name="get_api_key" value="{app_attr}">
{fields}
<button type="submit">{button}</button>
</form>
</div></body></html>
"""

PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            "form-action 'self' https://authenticated; base-uri 'none'; frame-ancestors 'none'")

_FIELDS = """<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="username" value="{email}" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>"""


def app_title(app_name: str) -> str:
    """``myapp`` -> ``Myapp``, as the seed's banner shows it."""
    return app_name[:1].upper() + app_name[1:]


def render_get_api_key_page(handler: tornado.web.RequestHandler, app_name: str, error: str | None = None,
                            email: str = "") -> None:
    """The seed's ``/app?get_api_key=<app>`` page: a sign-in form whose success redirects to
    ``https://authenticated/?api_key=<key>``. A signed-in visitor only confirms."""
    app_name = str(app_name or "")
    banner = f"CoCalc API Key Access for {app_title(app_name)}"
    signed_in = handler.ctx.store.session_account(handler.get_cookie("remember_me"))  # type: ignore[attr-defined]
    fields = "" if signed_in and not error else _FIELDS.format(email=html.escape(email, quote=True))
    handler.set_header("Content-Type", "text/html; charset=utf-8")
    handler.set_header("Cache-Control", "no-store")
    # No scripts at all; inline styles only; the form may end in the redirect to the app; and
    # the page may not be framed (a framed key page could be clickjacked).
    handler.set_header("Content-Security-Policy", PAGE_CSP)
    handler.clear_header("X-Frame-Options")
    handler.set_header("X-Frame-Options", "DENY")
    handler.finish(PAGE.format(
        banner=html.escape(banner), app=html.escape(app_title(app_name)), app_attr=html.escape(app_name, quote=True),
        error=f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "",
        fields=fields, button="Authorize" if (signed_in and not error) else "Sign in and get key",
    ))


class GetApiKeyHandler(BaseHandler):
    """The form's target: sign in (or use the session), make a key, redirect to the app."""

    form_limit = json_limit = BODY_LIMIT

    def get(self) -> None:
        render_get_api_key_page(self, self.get_argument("get_api_key", "") or self.get_argument("app", ""))

    def post(self) -> None:
        try:
            params = self.params()
        except (ValueError, UnicodeDecodeError):
            params = {}
        if not isinstance(params, dict):
            params = {}
        app_name = str(params.get("get_api_key") or "")
        email, password = params.get("email"), params.get("password")
        account_id = None
        if email is None and password is None:
            account_id = self.cookie_account()
        if not account_id:
            account_id, error = sign_in(self, email, password)
            if error:
                render_get_api_key_page(self, app_name, error=error, email=str(email or ""))
                return
        _, secret = self.store.create_api_key(account_id, name=app_name or "api key")
        # The key leaves only in this Location header, to the app that asked (CoCalc's protocol).
        self.set_header("Cache-Control", "no-store")
        self.redirect(f"https://authenticated/?api_key={secret}", status=302)


def routes(ctx) -> list:
    return [
        (r"/api/v2/auth/sign-in", SignInHandler, {"ctx": ctx}),
        (r"/api/v2/api-keys", ApiKeysHandler, {"ctx": ctx}),
        (r"/app/get-api-key", GetApiKeyHandler, {"ctx": ctx}),
    ]


__all__ = ["routes", "render_get_api_key_page", "sign_in", "set_sign_in_cookies",
           "check_credentials"]
