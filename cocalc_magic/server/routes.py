"""The route table: which API packages a server mounts, by the generation it plays.

This is the one module that imports every handler package; nothing imports it back but
``LocalServer`` (``server/__init__.py``).
"""

from __future__ import annotations

import tornado.web

from .ai import routes as ai_routes
from .ai.express import ExpressNotFound
from .conat import routes as conat_routes
from .guard import GuardedApplication, HostPolicy
from .http import NotFoundHandler, ServerContext, log_request
from .v1 import routes as v1_routes
from .v2 import routes as v2_routes
from .v2 import signin, signup
from .web import routes as web_routes


def make_app(ctx: ServerContext) -> tornado.web.Application:
    """The tornado application of one server: its generation's API, then /api/v2 and the pages.
    Every route, whoever adds it, passes guard.py's Host, Origin and body-size checks first."""
    not_found: type = NotFoundHandler
    if ctx.api == "ai":  # cocalc.ai's own /api/v2 set; its routes first (api-keys, /auth/impersonate)
        routes: list = ai_routes(ctx) + signin.routes(ctx) + signup.routes(ctx) + web_routes(ctx)
        not_found = ExpressNotFound  # an Express server: "Cannot GET /path"
    else:
        routes = v1_routes(ctx) if ctx.api == "v1" else conat_routes(ctx)
        routes += v2_routes(ctx) + web_routes(ctx)
    return GuardedApplication(
        routes,
        host_policy=HostPolicy(ctx.bind_host, ctx.allowed_hosts),
        port_of=lambda: ctx.port,
        default_handler_class=not_found,
        default_handler_args={"ctx": ctx},
        compress_response=False,
        xsrf_cookies=False,
        serve_traceback=False,
        log_function=log_request,
    )
