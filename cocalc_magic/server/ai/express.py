"""How cocalc-ai's HTTP API reads a request: an Express router (``http-api/lib/router.ts`` at
0cf1d9e0bd) with ``express.json({limit: "10mb"})`` and ``express.urlencoded({extended: true})``.

So, unlike the Next.js routes of the ``conat`` generation: a JSON body that does not parse is
Express' HTTP 400 HTML page "Bad Request" (recorded: hub/project malformed JSON); a body with
another or no Content-Type is ignored (recorded: ``name`` is then ``undefined``); only a POST body
is read (``getParams``). Unknown paths are Express' 404 page ``Cannot GET /path`` (recorded).
"""

from __future__ import annotations

import json
from typing import Any

from ..http import AuthProblem, BaseHandler
from . import keys

BODY_LIMIT = 10 * 1024 * 1024  # express.json({limit: "10mb"})


def express_page(text: str) -> str:
    """Express' (finalhandler's) error page, byte for byte as recorded."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n'
        f"</head>\n<body>\n<pre>{text}</pre>\n</body>\n</html>\n"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class ExpressHandler(BaseHandler):
    """JSON in (Express' parsers), JSON out; the caller as cocalc-ai's ``getApiKey`` reads it."""

    json_limit = None
    form_limit = None

    @classmethod
    def body_limit(cls, kind: str) -> int | None:  # read by guard.py before the body is
        return BODY_LIMIT

    @classmethod
    def too_large_reply(cls, kind: str, size: int, limit: int) -> dict:
        # body-parser's PayloadTooLargeError through finalhandler (a guess: not recorded)
        return {"status": 413, "body": express_page("Payload Too Large"), "content_type": "text/html; charset=utf-8"}

    def prepare(self) -> None:
        if len(self.request.body or b"") > BODY_LIMIT:
            self.html(413, "Payload Too Large")

    def html(self, status: int, text: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(express_page(_escape(text)))

    def params_or_reply(self) -> dict | None:
        """``getParams(req)``: the POST body as a dict (``{}`` for anything else), or None once
        the 400 page was sent for JSON that does not parse."""
        if self.request.method != "POST":
            return {}
        try:
            body = self.params()
        except ValueError:
            body = None
        if body is None or (self.body_kind() == "json" and not isinstance(body, (dict, list))):
            # body-parser's strict mode: only an object or an array is JSON it accepts
            self.html(400, "Bad Request")
            return None
        return body if isinstance(body, dict) else {}

    def principal(self) -> keys.Principal | None:
        """The key's principal; None for a missing, malformed, unknown or expired key (looked up
        once per request: ``getAccountId`` and the route's own check both ask)."""
        if not hasattr(self, "_principal"):
            try:
                self._principal = keys.resolve(self.store, self.api_key())
            except AuthProblem:
                self._principal = None
        return self._principal

    def bridge_request(self, not_signed_in: str) -> tuple[dict, keys.Principal] | None:
        """A bridge's body and key (``getAccountFromApiKey``); None once an error was answered:
        the 400 page, ``getApiKey``'s texts, or ``not_signed_in`` for a key that is not valid."""
        params = self.params_or_reply()
        if params is None:
            return None
        try:
            principal = keys.resolve(self.store, self.api_key())
        except AuthProblem as exc:
            self.write_json({"error": str(exc)})
            return None
        if principal is None:
            self.write_json({"error": not_signed_in})
            return None
        return params, principal

    def account_id(self) -> str | None:
        """cocalc-ai's ``getAccountId``: the ``remember_me`` cookie, else a valid API key."""
        account = self.cookie_account()
        if account:
            return account
        p = self.principal()
        return p.account_id if p else None

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code >= 500:  # wrapHandler: {"error": "api_v2_error"} (the bridges never get here)
            self.set_header("Content-Type", "application/json; charset=utf-8")
            self.finish(json.dumps({"error": "api_v2_error"}))
            return
        super().write_error(status_code, **kwargs)


class ExpressNotFound(BaseHandler):
    """Express' 404 for a path no route serves."""

    def prepare(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", "default-src 'none'")
        self.finish(express_page(_escape(f"Cannot {self.request.method} {self.request.path}")))
