"""The web pages: ``/app``, the kiosk page with CoCalc's postMessage bridge, ``/auth/impersonate``,
the sign-in form and the static files (``static/``); ``render`` shows files readably."""

from .kiosk import routes

__all__ = ["routes"]
