"""The Next.js API, ``POST /api/v2/*``, beside both generations (the routes a server of each
era had): ``api`` (projects, exec, user-query, collaborators, accounts, customize), ``signin``
(sign-in, api-keys, the ``/app?get_api_key=`` page), ``signup``, ``jupyter`` (the hub's Jupyter
API, served by every era); ``base`` is their handler."""

import re

from . import api, jupyter, signin, signup


def routes(ctx) -> list:
    extra = [(rf"/api/v2/{re.escape(n)}/?", api.V2Handler, {"ctx": ctx, "fn": fn}) for n, fn in jupyter.ROUTES.items()]
    return signin.routes(ctx) + signup.routes(ctx) + api.routes(ctx) + extra


__all__ = ["routes"]
