"""The Next.js API, ``POST /api/v2/*``, beside both generations (the routes a server of each
era had): ``api`` (projects, exec, user-query, collaborators, accounts, customize), ``signin``
(sign-in, api-keys, the ``/app?get_api_key=`` page), ``signup``; ``base`` is their handler."""

from . import api, signin, signup


def routes(ctx) -> list:
    return signin.routes(ctx) + signup.routes(ctx) + api.routes(ctx)


__all__ = ["routes"]
