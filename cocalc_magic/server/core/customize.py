"""The site description (``/customize``, hub ``system.getCustomize``): the keys a client may look at."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse


def customize(ctx, fields: Any = None) -> dict:
    """The site description CoCalc's ``getCustomize`` builds (the keys a client may look at)."""
    store = ctx.store
    site = ctx.base_url
    out = {
        "siteName": store.setting("site_name") or "CoCalc (local)",
        "siteDescription": store.setting("site_description") or "A local CoCalc-compatible server (cocalc_magic)",
        "organizationName": store.setting("organization_name") or "",
        "helpEmail": store.setting("help_email") or "",
        "contactEmail": store.setting("help_email") or "",
        "isCommercial": False,
        "kucalc": "",
        "anonymousSignup": False,
        "emailSignup": bool(getattr(ctx, "allow_sign_up", False)),
        "shareServer": False,
        "landingPages": False,
        "dns": urlparse(site).netloc if site else "",
        "siteURL": site,
        "iframeCommHosts": store.setting("iframe_comm_hosts") or "",
        "jupyterApiEnabled": True,
        "computeServersEnabled": False,
        "version": {"version_min_project": 0, "version_min_browser": 0, "version_recommended_browser": 0},
    }
    if isinstance(fields, list):
        return {k: v for k, v in out.items() if k in fields}
    return out
