"""The conventions of a CoCalc Next.js API route, shared by the conat bridges and ``/api/v2``.

Next's body parser: JSON or form fields on POST only, 1 MB at most (413), a JSON body that does
not parse is HTTP 400 ``Invalid JSON`` in plain text. ``caller()`` is CoCalc's ``getAccount``:
the ``remember_me`` cookie first, else the API key; an invalid key is simply "not signed in".
"""

from __future__ import annotations

from typing import Any

from ..core import access
from ..http import AuthProblem, BaseHandler

# Next.js' default API body parser limit "1mb" (bytes.parse → 1048576). CoCalc sets no
# sizeLimit, so this is the limit; the 413 text is Next's ApiError message. A guess: the exact
# reply of cocalc.com to an oversize body was never recorded.
BODY_LIMIT = 1024 * 1024
BODY_LIMIT_TEXT = "Body exceeded 1mb limit"


class InvalidJSON(Exception):
    pass


class NextApiHandler(BaseHandler):
    """Body handling of a Next.js API route: 1 MB limit, JSON or form, 400 on bad JSON."""

    json_limit = None
    form_limit = None

    @classmethod
    def body_limit(cls, kind: str) -> int | None:
        return BODY_LIMIT  # Next's parser limit holds whatever the body's type

    @classmethod
    def too_large_reply(cls, kind: str, size: int, limit: int) -> dict:
        return {"status": 413, "body": BODY_LIMIT_TEXT, "content_type": None, "reason": BODY_LIMIT_TEXT}

    def prepare(self) -> None:
        if len(self.request.body or b"") > BODY_LIMIT:
            self.plain(413, BODY_LIMIT_TEXT)

    def plain(self, status: int, text: str) -> None:
        """A plain-text reply with no Content-Type (how Next answers parser errors)."""
        self.set_status(status, reason=text)
        self.clear_header("Content-Type")
        self.finish(text)

    def next_params(self) -> Any:
        """``getParams(req)``: the parsed POST body; ``{}`` for other methods and body types."""
        if self.request.method != "POST":
            return {}
        try:
            return self.params()
        except ValueError:
            raise InvalidJSON() from None

    def params_or_reply(self) -> dict | None:
        """The body as a dict (non-objects read as ``{}``), or None once 400 was sent."""
        try:
            p = self.next_params()
        except InvalidJSON:
            self.plain(400, "Invalid JSON")
            return None
        return p if isinstance(p, dict) else {}

    def caller(self) -> access.Caller | None:
        """Who is signed in: cookie, else key (a project key answers as its project)."""
        account = self.cookie_account()
        if account:
            return access.Caller(account)
        try:
            key = self.api_key()
        except AuthProblem:
            return None
        return access.resolve_key(self.ctx, key)
