"""The pages a browser sees: /app, project file pages (plain and kiosk), /auth/impersonate, sign-in.

How each generation signs a browser in (facts §5.2, recordings §5):

* current (cocalc.com since 2024-10): ``GET /auth/impersonate?auth_token=T`` sets a 12 h
  ``remember_me`` cookie (plus the readable ``account_id`` cookie) and answers a small HTML page
  whose script goes to ``/app``. ``?auth_token=`` on app URLs is ignored.
* v1 (a self-hosted CoCalc of 2024-03, era 1): ``?auth_token=`` on any app URL signs in (12 h
  cookie), the rest of the URL stays, and the page's script drops ``auth_token`` from the
  address bar. There is no ``/auth/impersonate``.

The kiosk page (``?fullscreen=kiosk``) runs CoCalc's postMessage bridge (``static/kiosk.js``).
On the current generation the URL's file does not open by itself (the startup race every real
load showed); ``open`` fixes it. On v1 we let the URL's file open directly: the race was
reported in 2022 (issue #6059) but we have no recording of a 2024 server, so we model the
intended behaviour (a guess, stated here and in the report). Files are fetched by the page from
``/_local/kiosk/open`` (cookie-checked), so switching files never reloads the page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import tornado.web

from ..core import homes, throttle
from ..core.store import is_uuid
from ..http import BaseHandler, ServerContext
from ..v2.signin import set_sign_in_cookies, sign_in
from . import render
from .render import esc

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static/cocalc-magic/"
IMPERSONATE_TTL_S = 12 * 3600  # impersonate.ts: createRememberMeCookie(account_id, 12 * 3600)
V1_TOKEN_TTL_S = 12 * 3600  # era 1 sign_in_using_auth_token: remember_me ttl 12 h
DEFAULT_SITE_NAME = "Open CoCalc"  # /customize site_name of the recorded server
UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# CSP of our own pages: only our static script runs; notebook content can never add one.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)


def allowed_hosts(value: str | None) -> list[str]:
    """The ``iframe_comm_hosts`` setting as CoCalc's frontend reads it: ``[a-z0-9.-]+`` tokens."""
    return re.findall(r"[a-z0-9.-]+", value or "")


def block_origin(origin: str, hosts: list[str], allow_http_parents: bool = False) -> bool:
    """CoCalc's ``block_origin`` (iframe-communication.ts), mirrored in static/kiosk.js.

    ``allow_http_parents`` (local development only) also lets ``http://127.0.0.1`` and
    ``http://localhost`` parents on any port through.
    """
    if origin.startswith("http://"):
        if allow_http_parents:
            return urlsplit(origin).hostname not in ("127.0.0.1", "localhost")
        return True
    for allowed in hosts:
        if allowed.startswith("."):
            if origin.endswith(allowed) or origin.endswith(f"https://{allowed[1:]}"):
                return False
        elif origin.endswith(f"https://{allowed}"):
            return False
    return True


def _json_for_script(obj: object) -> str:
    """JSON safe to put inside a ``<script type="application/json">`` element."""
    return json.dumps(obj).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class PageHandler(BaseHandler):
    """HTML pages: framing headers, CSP, cookies, the sign-in form and the v1 token sign-in."""

    def prepare(self) -> None:
        self.security_headers()
        super().prepare()

    def security_headers(self) -> None:
        """No caching, no referrer (app URLs can carry ?auth_token=), our CSP, and the framing
        rule: framing is allowed unless the server was started with ``frame_ancestors``."""
        self.set_header("Cache-Control", "no-store")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", PAGE_CSP + self.frame_directive())

    def frame_directive(self) -> str:
        frame = (getattr(self.ctx, "frame_ancestors", None) or "").strip()
        if not frame:
            return ""
        if frame == "'none'":
            self.set_header("X-Frame-Options", "DENY")
        elif frame == "'self'":
            self.set_header("X-Frame-Options", "SAMEORIGIN")
        return f"; frame-ancestors {frame}"

    def write_error(self, status_code: int, **kwargs) -> None:
        self.security_headers()
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(self.page("Error", f"<p class=\"cocalc-error\">Error {status_code}: {esc(self._reason)}</p>"))

    # ------------------------------------------------------------------ helpers
    @property
    def site_name(self) -> str:
        return self.store.setting("site_name") or DEFAULT_SITE_NAME

    def account(self) -> str | None:
        """The signed-in account: from a token used in this request, else the cookie."""
        return self._account if hasattr(self, "_account") else self.cookie_account()

    def set_signed_in(self, account_id: str, ttl_s: float, account_cookie: bool) -> None:
        """The ``remember_me`` cookie (HttpOnly, SameSite from the site setting, Secure only over
        https) and, on the current generation, the readable ``account_id`` cookie."""
        set_sign_in_cookies(self, account_id, ttl_s, account_cookie)
        self._account = account_id

    def url_without_token(self) -> str:
        """The request's path and query without ``auth_token`` (what era 1's QueryParams.remove leaves)."""
        pairs = [(k, v) for k, v in parse_qsl(self.request.query, keep_blank_values=True) if k != "auth_token"]
        return self.request.path + (("?" + urlencode(pairs)) if pairs else "")

    def consume_v1_token(self) -> str | None:
        """Era 1: ``?auth_token=`` on an app URL signs in. Returns an error text or None.

        Texts from ``_sign_in_using_auth_token`` (server/hub/sign-in.ts@ebd54e3e5f~1): length must
        be 24, unknown or expired tokens are "auth_token is not valid". An empty value is not sent
        by the frontend at all. The current generation ignores the parameter.
        """
        if self.ctx.api != "v1":
            return None
        token = self.get_query_argument("auth_token", "")
        if not token:
            return None
        if len(token) != 24:
            throttle.sign_in_throttle(self.ctx).failed(f"token:{token}", self.request.remote_ip)
            return "auth_token must be exactly 24 characters long"
        limits = throttle.sign_in_throttle(self.ctx)
        # CoCalc quotes the token here; we show only its first 4 characters (secrets stay masked).
        throttled = limits.refusal(f"token:{token}", self.request.remote_ip, token[:4] + "…")
        if throttled:
            limits.failed(f"token:{token}", self.request.remote_ip)
            return f"sign_in_check fail(ip={self.request.remote_ip}): {throttled}"
        account_id = self.store.auth_token_account(token)
        if not account_id or not self.store.account(account_id):
            limits.failed(f"token:{token}", self.request.remote_ip)
            return "auth_token is not valid"
        self.set_signed_in(account_id, V1_TOKEN_TTL_S, account_cookie=False)
        return None

    def page(self, title: str, body: str, config: dict | None = None, body_class: str = "cocalc-page") -> str:
        script = ""
        if config is not None:
            script = (
                f'<script type="application/json" id="cocalc-kiosk-config">{_json_for_script(config)}</script>'
                f'<script src="{STATIC_PREFIX}kiosk.js"></script>'
            )
        return (
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)} - {esc(self.site_name)}</title>"
            f'<link rel="stylesheet" href="{STATIC_PREFIX}kiosk.css"></head>'
            f'<body class="{body_class}">{body}{script}</body></html>'
        )

    def sign_in_form(self, next_url: str, error: str | None = None, email: str = "") -> str:
        err = f'<p class="cocalc-error" id="sign-in-error">{esc(error)}</p>' if error else ""
        return (
            f'<section class="cocalc-signin"><h2>Sign in to {esc(self.site_name)}</h2>{err}'
            '<form id="sign-in" method="post" action="/auth/sign-in">'
            f'<input type="hidden" name="next" value="{esc(next_url)}">'
            f'<label>Email address <input type="email" name="email" autocomplete="username" value="{esc(email)}" required></label>'
            '<label>Password <input type="password" name="password" autocomplete="current-password" required></label>'
            '<button type="submit">Sign in</button></form></section>'
        )

    def app_config(self, **extra) -> dict:
        """What static/kiosk.js needs; never a secret."""
        cfg = {"api": self.ctx.api, "kiosk": False, "strip_auth_token": self.ctx.api == "v1"}
        cfg.update(extra)
        return cfg

    def render_page(self, title: str, body: str, config: dict | None = None, body_class: str = "cocalc-page") -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(self.page(title, body, config, body_class))

    def sign_in_page(self, next_url: str, error: str | None = None) -> None:
        self.render_page("Sign in", self.sign_in_form(next_url, error), self.app_config())

    def head(self, *args) -> None:  # framing checks by clients (tornado drops the body for HEAD)
        return self.get(*args)


# ---------------------------------------------------------------------------- /app
class AppHandler(PageHandler):
    def get(self) -> None:
        app_name = self.get_query_argument("get_api_key", None)
        if app_name is not None:  # the seed's key-for-an-app sign-in page
            from ..v2 import signin

            return signin.render_get_api_key_page(self, app_name)
        token_error = self.consume_v1_token()
        account_id = self.account()
        kiosk = self.get_query_argument("fullscreen", "") == "kiosk"
        if kiosk:
            return self.render_kiosk(account_id, None, None, token_error)
        if not account_id:
            return self.sign_in_page(self.url_without_token(), token_error)
        self.render_projects(account_id, token_error)

    def render_projects(self, account_id: str, notice: str | None = None) -> None:
        rows = []
        for p in self.store.projects_of(account_id, include_deleted=False):
            href = f"/projects/{p['project_id']}/files/"
            rows.append(f'<li><a href="{esc(href)}">{esc(p["title"] or "Untitled")}</a> '
                        f'<span class="cocalc-muted">{esc(p["state"])}</span></li>')
        body = (
            _topbar(self.site_name, self.store.account(account_id))
            + (f'<p class="cocalc-error">{esc(notice)}</p>' if notice else "")
            + '<main class="cocalc-main"><h1>Projects</h1><ul class="cocalc-projects">'
            + ("".join(rows) or "<li><em>No projects yet.</em></li>") + "</ul></main>"
        )
        self.render_page("Projects", body, self.app_config())

    # shared with the file pages
    def render_kiosk(self, account_id: str | None, project_id: str | None, path: str | None,
                     notice: str | None) -> None:
        """The kiosk page: banner, sign-in form when signed out, the bridge always."""
        initial = None
        content = ""
        if account_id and project_id is not None and path is not None and self.ctx.api == "v1":
            # v1: the URL's file opens directly (see the module docstring)
            if self.store.group(project_id, account_id):
                try:
                    rendered = render.render_file(self.store.home(project_id), path, project_id)
                    content = rendered.html
                    initial = {"project_id": project_id, "path": path}
                except (homes.PathOutsideHome, homes.NullByte, homes.FileTooLarge, OSError) as exc:
                    notice = str(exc)
            else:
                notice = "You do not have access to this project."
        signin = "" if account_id else (
            '<p class="cocalc-notice" id="cocalc-must-sign-in">You must sign in.</p>'
            + self.sign_in_form(self.url_without_token(), None)
        )
        title = esc(path) if initial else ""
        body = (
            f'<div id="cocalc-kiosk-banner" class="cocalc-banner"{" hidden" if initial else ""}>{esc(self.site_name)}</div>'
            + (f'<p class="cocalc-error" id="cocalc-notice">{esc(notice)}</p>' if notice else "")
            + signin
            + f'<main id="cocalc-editor"{"" if initial else " hidden"}>'
            f'<div class="cocalc-file-title" id="cocalc-file-title">{title}</div>'
            f'<div id="cocalc-file" class="cocalc-file">{content}</div></main>'
        )
        cfg = self.app_config(
            kiosk=True,
            signed_in=bool(account_id),
            kiosk_project_id=project_id,
            allowed_hosts=allowed_hosts(self.store.setting("iframe_comm_hosts")),
            allow_http_parents=bool(self.ctx.allow_http_parents),
            initial=initial,
        )
        self.render_page("Kiosk", body, cfg, body_class="cocalc-kiosk")


def _topbar(site_name: str, account: dict | None) -> str:
    who = ""
    if account:
        name = f"{account.get('first_name', '')} {account.get('last_name', '')}".strip() or account.get("email_address") or ""
        who = f'<span class="cocalc-who">{esc(name)}</span>'
    return f'<header class="cocalc-topbar"><a href="/app">{esc(site_name)}</a>{who}</header>'


# ---------------------------------------------------------------------------- project pages
class ProjectFileHandler(AppHandler):
    """``/projects/<id>/files/<path>`` (plain or ``?fullscreen=kiosk``) and ``/projects/<id>``."""

    def get(self, project_id: str, path: str = "") -> None:
        token_error = self.consume_v1_token()
        account_id = self.account()
        if self.get_query_argument("fullscreen", "") == "kiosk":
            return self.render_kiosk(account_id, project_id, path, token_error)
        if not account_id:
            return self.sign_in_page(self.url_without_token(), token_error)
        project = self.store.project(project_id)
        top = _topbar(self.site_name, self.store.account(account_id))
        if not project or not self.store.group(project_id, account_id):
            body = top + '<main class="cocalc-main"><p class="cocalc-error" id="cocalc-no-access">You do not have access to this project.</p></main>'
            return self.render_page("No access", body, self.app_config())
        try:
            rendered = render.render_file(self.store.home(project_id), path, project_id)
            content = rendered.html
        except (homes.PathOutsideHome, homes.NullByte, homes.FileTooLarge, OSError) as exc:
            content = f'<p class="cocalc-error">{esc(exc)}</p>'
        crumbs = f'<a href="/projects/{esc(project_id)}/files/">{esc(project["title"] or "Untitled")}</a>'
        if path:
            crumbs += f" / {esc(path)}"
        body = (
            top + (f'<p class="cocalc-error">{esc(token_error)}</p>' if token_error else "")
            + f'<main class="cocalc-main"><div class="cocalc-file-title">{crumbs}</div>'
            f'<div id="cocalc-file" class="cocalc-file">{content}</div></main>'
        )
        self.render_page(path or project["title"] or "Project", body, self.app_config())


class ProjectsHandler(AppHandler):
    """``/projects``: the same list as ``/app``."""


# ---------------------------------------------------------------------------- sign-in
class SignInHandler(PageHandler):
    """The sign-in page (``form#sign-in``) and its form handler."""

    def get(self) -> None:
        self.sign_in_page(self._next())

    def _next(self) -> str:
        nxt = self.get_argument("next", "/app")
        # only local paths: never an open redirect
        return nxt if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt else "/app"

    def post(self) -> None:
        email = self.get_body_argument("email", "").strip()
        password = self.get_body_argument("password", "")
        # v2 auth/sign-in's texts (recorded) and its throttle: the form is no side door for guessing
        account_id, error = sign_in(self, email, password, account_cookie=self.ctx.api != "v1")
        if account_id:
            return self.redirect(self._next())
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(self.page("Sign in", self.sign_in_form(self._next(), error, email), self.app_config()))


class SignOutHandler(PageHandler):
    def get(self) -> None:
        value = self.get_cookie("remember_me")
        if value:
            self.store.delete_session(value)
        self.clear_cookie("remember_me", path="/")
        self.clear_cookie("account_id", path="/")
        self.redirect("/app")

    post = get


class ImpersonateHandler(PageHandler):
    """``/auth/impersonate?auth_token=T`` of the current generation (server/auth/impersonate.ts).

    Errors are HTTP 200 plain text with Content-Type text/html, as recorded; we add a CSP that
    forbids every script, since the text echoes the token.
    """

    def get(self) -> None:
        token = self.get_query_argument("auth_token", "")
        lang = self.get_query_argument("lang_temp", "")
        account_id = self.store.auth_token_account(token) if token else None
        if not token or not account_id:
            err = "invalid empty token" if not token else f"unknown or expired token: '{token}'"
            self.clear_header("Content-Security-Policy")
            self.set_header("Content-Security-Policy", "default-src 'none'")
            self.set_header("Content-Type", "text/html; charset=utf-8")
            return self.finish(f"ERROR: impersonate error -- Error: {err}")
        self.set_signed_in(account_id, IMPERSONATE_TTL_S, account_cookie=True)
        # Real CoCalc sends https://<dns setting>/app; the local server knows its own address
        # (the host the browser used, so the cookie just set belongs to it).
        target = f"{self.request.protocol}://{self.request.host}/app"
        if re.fullmatch(r"[a-z]{2}(_[A-Z]{2})?", lang or ""):
            target += f"?lang_temp={quote(lang)}"
        self.clear_header("Content-Security-Policy")  # the recorded page redirects with an inline script
        frame = self.frame_directive()
        if frame:
            self.set_header("Content-Security-Policy", frame[2:])
        self.set_header("Content-Type", "text/html; charset=utf-8")
        t = json.dumps(target).replace("<", "\\u003c")
        a = esc(target)
        self.finish(
            "<head>\n  <script>\n    window.onload = function () {\n"
            f"      window.location.href = {t};\n"
            "      setTimeout(function() {\n"
            "        const element = document.getElementById('redirect-msg');\n"
            "        element.style.display = 'block';\n      }, 3000);\n    };\n  </script>\n</head>\n"
            "<body>\n  <div id=\"redirect-msg\" style=\"display: none;\">\n"
            f"    You should be redirected to <a href=\"{a}\">{a}</a>.\n  </div>\n</body>\n"
        )


# ---------------------------------------------------------------------------- the page's own endpoints
class KioskOpenHandler(BaseHandler):
    """``POST /_local/kiosk/open {project_id, path}``: the rendered file for the kiosk page.

    401 when signed out and 403 without access: the page then stays silent, as CoCalc does.
    A missing file is created empty first, as CoCalc's ``open`` does (recorded).
    """

    def post(self) -> None:
        if self.body_kind() != "json":
            return self.write_json({"error": "send JSON with Content-Type: application/json"}, status=400)
        try:
            data = self.params()
        except ValueError:
            return self.write_json({"error": "the body is not valid JSON"}, status=400)
        if not isinstance(data, dict):
            return self.write_json({"error": "send a JSON object {project_id, path}"}, status=400)
        project_id, path = data.get("project_id"), data.get("path")
        if not is_uuid(project_id) or not isinstance(path, str):
            return self.write_json({"error": "project_id (uuid) and path (string) are required"}, status=400)
        account_id = self.cookie_account()
        if not account_id:
            return self.write_json({"error": "not signed in"}, status=401)
        if not self.store.project(project_id) or not self.store.group(project_id, account_id):
            return self.write_json({"error": "no access to this project"}, status=403)
        home = self.store.home(project_id)
        try:
            target = homes.resolve(home, path)
            if path and not path.endswith("/") and not target.exists():
                homes.write_text(home, path, "")
            rendered = render.render_file(home, path, project_id)
        except (homes.PathOutsideHome, homes.NullByte, homes.FileTooLarge, OSError) as exc:
            return self.write_json({"error": str(exc)})
        self.runtime.request_start(project_id)  # opening a file starts the project in CoCalc
        self.set_header("Cache-Control", "no-store")
        self.write_json({"project_id": project_id, "path": path, "kind": rendered.kind, "html": rendered.html})


class KioskHelloHandler(BaseHandler):
    """``GET /_local/kiosk/hello``: the page's connection check (``status`` → "connected")."""

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.write_json({"signed_in": bool(self.cookie_account())})


class StaticHandler(tornado.web.StaticFileHandler):
    def set_extra_headers(self, path: str) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        if "\x00" in path:  # no such file (os.path.realpath would raise on it: a 500)
            raise tornado.web.HTTPError(404)
        return super().get_absolute_path(root, path)


def routes(ctx: ServerContext) -> list:
    args = {"ctx": ctx}
    out = [
        (r"/app/?", AppHandler, args),
        (r"/projects/?", ProjectsHandler, args),
        (rf"/projects/({UUID_PATTERN})/files/(.*)", ProjectFileHandler, args),
        (rf"/projects/({UUID_PATTERN})(?:/files)?/?", ProjectFileHandler, args),
        (r"/auth/sign-in/?", SignInHandler, args),
        (r"/auth/sign-out/?", SignOutHandler, args),
        (r"/_local/kiosk/open", KioskOpenHandler, args),
        (r"/_local/kiosk/hello", KioskHelloHandler, args),
        (STATIC_PREFIX + r"(.*)", StaticHandler, {"path": str(STATIC_DIR)}),
    ]
    if ctx.api != "v1":  # /auth/impersonate arrived 2024-10-19 (facts §5.2, era 2)
        out.append((r"/auth/impersonate/?", ImpersonateHandler, args))
    return out
