"""cocalc_magic: the CoCalc API in Jupyter.

``%load_ext cocalc_magic`` registers the magics; ``from cocalc_magic import CoCalc`` is the
client. Importing the package is cheap: the client, widgets and server load on first use.
"""

from __future__ import annotations

from .version import __version__

_LAZY = {
    "CoCalc": "cocalc_magic.client",
    "Project": "cocalc_magic.client",
    "LocalServer": "cocalc_magic.server",
}
_ERRORS = (
    "CoCalcError", "AuthenticationError", "PermissionDenied", "NotFound", "InvalidRequest",
    "RateLimited", "ServerTimeout", "ServerError", "ProtocolError", "CoCalcConnectionError", "NotSupported", "Moved",
    "CommandFailed",
)


def __getattr__(name: str):
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _ERRORS:
        return getattr(importlib.import_module("cocalc_magic.errors"), name)
    raise AttributeError(f"module 'cocalc_magic' has no attribute {name!r}")


def load_ipython_extension(ip) -> None:
    from .magics import load_ipython_extension as load

    load(ip)


def unload_ipython_extension(ip) -> None:
    from .magics import unload_ipython_extension as unload

    unload(ip)


__all__ = ["__version__", "load_ipython_extension", "unload_ipython_extension", *_LAZY, *_ERRORS]
