"""Which view the panel shows (the live kiosk or the file read-only), and reading the file for
the read-only one.

The client says whether it can sign a browser in for this server and key (``Embed.can_sign_in``);
the panel adds only what the browser knows: a page on the same site as CoCalc gets CoCalc's own
session cookie in the frame, so the live kiosk may work there without a token.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from . import texts
from .render import Rendered, kind_of, message_page, render
from .rows import get_field


def choose(embed: Any, *, token: bool, live: bool | None, page_origin: str, host: str) -> str:
    """"live", "live-untokened" (same site, no sign-in: the browser's session may apply; fall back
    to the read-only view if CoCalc does not open the file) or "rendered"."""
    if live is not None:
        return "live" if live else "rendered"
    if not token or get_field(embed, "can_sign_in", True):
        return "live"  # signed in by the token, or the user asked for the browser's own session
    return "live-untokened" if same_site(page_origin, host) else "rendered"


def same_site(page_origin: str, host: str) -> bool:
    """Whether the browser sends a SameSite=strict/lax cookie of ``host`` to a frame inside a page
    of ``page_origin``: both https (CoCalc's IFrame protocol ignores http parents) and the same
    registrable domain. Guess: the registrable domain is taken as the last two labels (no public
    suffix list), so ``a.co.uk`` and ``b.co.uk`` count as one site; the fallback to the read-only
    view covers that case."""
    a, b = urlsplit(page_origin or ""), urlsplit(host or "")
    if a.scheme != "https" or b.scheme != "https" or not a.hostname or not b.hostname:
        return False
    if a.hostname == b.hostname:
        return True
    for name in (a.hostname, b.hostname):
        try:
            ipaddress.ip_address(name)
            return False  # IP addresses are sites only by themselves
        except ValueError:
            pass
    la, lb = a.hostname.split("."), b.hostname.split(".")
    return len(la) >= 2 and len(lb) >= 2 and la[-2:] == lb[-2:]


def read_page(cc: Any, handle: Any, project_id: str, path: str) -> tuple[Rendered, str | None]:
    """The file's safe page, read through the client; on failure a page that says why, and the
    one-line error for the status line."""
    name = path.rsplit("/", 1)[-1]
    try:
        project = handle if handle is not None and hasattr(handle, "read") else cc.project(project_id)
        data = project.read_bytes(path) if kind_of(path) == "image" else project.read(path)
        return render(path, data), None
    except Exception as exc:  # noqa: BLE001 - the panel shows it, never a traceback
        line = texts.one_line(f"Could not read {path}: {texts.error_text(exc)}")
        return Rendered(message_page(name, line), "error", line), line
