"""The first cell of the tour notebooks: which CoCalc they change, said before they change it.

``connect(changes)`` uses what the client would use (an argument-free ``CoCalc()``: the
environment, else the login that ``%cocalc login`` saved). Nothing configured: it starts a local
CoCalc in this kernel and points the environment at it, so a notebook runs anywhere. A server
that is not on this machine is named, with the account, before anything is written; a notebook
that makes many changes (accounts, say) refuses such a server unless its cell says ``real_ok=True``.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .settings import mask


class NotAllowedHere(Exception):
    """This notebook may not change that server (shown as its one line in IPython)."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


@dataclass
class Target:
    """Where the notebook writes: ``url``, whether it is on this machine, and the server it started."""

    url: str
    local: bool
    account: str = ""
    server: Any = None  # the LocalServer this kernel started, if it started one

    def __repr__(self) -> str:
        kind = "a local CoCalc started in this kernel" if self.server else (
            "a CoCalc on this machine" if self.local else "a remote CoCalc")
        return f"<Target {self.url}: {kind}{', account ' + self.account if self.account else ''}>"


def is_local(url: str) -> bool:
    """True for a loopback host (127.0.0.0/8, ::1, localhost): a server on this machine."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def connect(changes: str, *, real_ok: bool = True, api: str | None = None) -> Target:
    """Say which server and account the notebook will change (``changes``: what it writes), or
    start a local CoCalc when nothing is configured. ``real_ok=False``: refuse a server that is not
    on this machine. ``api``: the local server's generation (default ``$COCALC_LOCAL_API`` or conat)."""
    from .settings import resolve

    s = resolve()
    if not s.api_key:
        from .server import LocalServer

        api = api or os.environ.get("COCALC_LOCAL_API", "conat")
        srv = LocalServer(api=api, demo=True, allow_http_parents=True).start()
        os.environ.update(srv.env())
        print(f"No CoCalc configured (COCALC_HOST/COCALC_API_KEY or %cocalc login), so this kernel started a "
              f"local one ({srv.api} API) at {srv.url}; it stops with the kernel.")
        return Target(srv.url, True, srv.account_id or "", srv)
    where = s.sources.get("api_key", "")
    if is_local(s.host):
        print(f"Using the CoCalc on this machine at {s.host} (key from {where}).")
        return Target(s.host, True)
    if not real_ok:
        raise NotAllowedHere(
            f"{s.host} is not on this machine, and this notebook makes {changes} there: set "
            f"real_ok=True in this cell to allow it, or unset COCALC_HOST/COCALC_API_KEY (or %cocalc logout) "
            f"to run it against a local CoCalc")
    account = _account(s)
    print(f"This notebook will change {s.host} as {account} (key from {where}): it makes {changes}.")
    return Target(s.host, False, account)


def _account(s: Any) -> str:
    """'account NAME (id)' for the settings' key, as far as the server tells."""
    from .client import CoCalc
    from .errors import CoCalcError

    cc = CoCalc(host=s.host, api_key=s.api_key)
    try:
        ident = cc.whoami()
    except CoCalcError as err:
        return f"the key {mask(s.api_key)} (not checked: {err.message})"
    if not ident.account_id and ident.project_id:
        return f"the project key of project {ident.project_id}"
    if not ident.account_id:  # cocalc.ai tells a key nothing about its account
        return f"the cocalc.ai key {ident.key_id or mask(s.api_key)}"
    try:
        names = cc.get_usernames([ident.account_id]).get(ident.account_id, {})
    except CoCalcError:
        names = {}
    name = " ".join(filter(None, (names.get("first_name"), names.get("last_name"))))
    return f"account {name} ({ident.account_id})" if name else f"account {ident.account_id}"
