"""The ai generation's non-API pages: ``/customize``, ``/alive``, ``/``, ``/auth/impersonate`` and
``/app/get-api-key``.

cocalc.ai has no sign-in token for keys: ``/auth/impersonate`` only takes a one-time
``grant_id`` that an admin makes over the websocket with a fresh second factor
(``system.createImpersonationGrant``), which this server does not offer; so every grant is
unknown here, and the old ``?auth_token=`` answers the recorded "grant_id is required". The
kiosk pages (``/app``, ``/projects/<id>/files/...``) and their postMessage protocol are the
server's own, unchanged (cocalc-ai's ``frontend/iframe-communication.ts`` did not change it).
"""

from __future__ import annotations

from ..http import BaseHandler
from . import customize


class _Page(BaseHandler):
    def text(self, body: str, ctype: str = "text/html; charset=utf-8") -> None:
        self.set_header("Content-Type", ctype)
        self.set_header("Content-Security-Policy", "default-src 'none'")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(body)


class CustomizeHandler(BaseHandler):
    def get(self) -> None:
        self.set_header("Cache-Control", "private, no-cache")
        self.write_json(customize.site_configuration(self.store, self.ctx.base_url, self.cookie_account()))


class AliveHandler(_Page):
    def get(self) -> None:
        self.text("alive: YES", "text/plain; charset=utf-8")


class RootHandler(_Page):
    def get(self) -> None:
        # The real root is the web app's HTML shell (recorded: 200 text/html); ours links the app.
        self.text('<!DOCTYPE html>\n<html>\n<head>\n  <meta name="cocalc-base-path" content="/">\n'
                  "  <title>CoCalc</title>\n</head>\n<body>\n  <a href=\"/app\">CoCalc (local)</a>\n</body>\n</html>\n")


NO_KEY_FOR_APPS = ("cocalc.ai makes API keys only in its web UI (Account → API keys, after a two-factor "
                   "sign-in): create one there and paste it into the app")


class GetApiKeyHandler(_Page):
    """The seed's ``/app?get_api_key=`` form posts here: on cocalc.ai no sign-in mints a key, so
    the page says where keys come from (a conat-era ``sk-`` key would be refused by every call)."""

    def get(self) -> None:
        self.set_status(403)
        self.text(f"<!DOCTYPE html>\n<html><head><title>API keys</title></head><body><p>{NO_KEY_FOR_APPS}.</p>"
                  "</body></html>\n")

    post = get


class ImpersonateHandler(_Page):
    def get(self) -> None:
        grant = self.get_query_argument("grant_id", "")
        err = "invalid or expired impersonation grant" if grant else "grant_id is required"
        self.text(f"ERROR: impersonate error -- Error: {err}")


def routes(ctx) -> list:
    args = {"ctx": ctx}
    return [
        (r"/customize/?", CustomizeHandler, args),
        (r"/alive/?", AliveHandler, args),
        (r"/", RootHandler, args),
        (r"/auth/impersonate/?", ImpersonateHandler, args),
        (r"/app/get-api-key", GetApiKeyHandler, args),
    ]
