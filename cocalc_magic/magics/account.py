"""``%cocalc whoami`` and ``%cocalc login``: who the key is and what it may do, and getting a key.

On cocalc.ai the key doctor's lines come from the client (``cc.whoami().checks``); a key can only
be pasted there (cocalc.ai makes keys only in its web UI, after a two-factor sign-in).
"""

from __future__ import annotations

import os
from typing import Any

from .display import CoCalcMagicError, Report, mask, result_fate, scrub

AI_KEYS_IN_WEB_UI = ("{host} is cocalc.ai's code, which makes API keys only in its web UI after a two-factor "
                     "sign-in: create one at {host} (Account → API keys), then paste it here.")


def whoami(m: Any, a: Any) -> Any:
    """The settings and where each came from, then what the server says about the key."""
    s = m.settings()
    rows = []
    for field, value, where in s.describe():
        if field == "project" and m._used_project and where == "argument":
            where = "%cocalc use"
        rows.append((field, f"{value}    ({where})" if where and where != "not set" else value))
    if not s.api_key:
        rows[1] = ("api_key", "(none: run %cocalc login)")
    ident = None
    if s.api_key:
        from ..errors import CoCalcError

        cc = m.client()
        try:  # a diagnostic: a failing check is a row of the table, not the end of it
            ident = m._call(cc.whoami, "the key check")
        except CoCalcError as exc:
            rows.append(("key check", scrub(f"failed: {type(exc).__name__}: {exc.line('magic')}", s.api_key)))
        else:
            rows.append(("api", cc.api))
            rows.extend(ident.rows())
    if ident is not None and result_fate() == "kept":
        return ident
    from IPython.display import display

    display(Report("CoCalc settings", rows))
    return None


def login(m: Any, a: Any) -> None:
    """Ask for a key (or, with --email, sign in and make one where the server allows it), check it, save it."""
    import socket

    from .. import settings
    from ..client import CoCalc, generation_of_host, sign_in_for_key

    s = m.settings()
    try:
        host = settings.normalize_host(a.host) if a.host else s.host
    except ValueError as exc:
        raise CoCalcMagicError(f"--host: {exc}.") from None
    key = None
    if a.email:
        if m._call(lambda: generation_of_host(host), f"{host}'s configuration") == "ai":
            print(AI_KEYS_IN_WEB_UI.format(host=host))
        else:
            password = ask_secret(f"CoCalc password for {a.email} at {host} (not stored): ")
            if not password:
                raise CoCalcMagicError("No password entered; nothing changed.")
            m._extra_secrets = [password]
            key_name = f"cocalc-magic on {socket.gethostname()}"
            key = m._call(lambda: sign_in_for_key(host, a.email, password, key_name), f"sign-in at {host}")
            del password
    if key is None:
        key = ask_secret(f"CoCalc API key for {host} (input hidden): ").strip()
        if not key:
            raise CoCalcMagicError("No key entered; nothing changed.")
    m._extra_secrets = [*m._extra_secrets, key]
    cc = CoCalc(host=host, api_key=key, api=m.api, timeout=s.timeout)
    ident = m._call(cc.whoami, f"the key check at {host}")
    settings.save_credentials(host, key)
    m._settings_cache.clear()
    m._drop_client()
    who = (f"account {ident.account_id}" if ident.account_id else
           f"project {ident.project_id}" if ident.project_id else ident.key_kind or "this key")
    print(f"Signed in to {host} as {who} with key {mask(key)}; saved to {settings.credentials_path()} (mode 0600).")
    for check in ident.missing:
        print(f"Note: this key lacks '{check.capability}' ({check.needed_for}): {check.fix}.")
    if os.environ.get("COCALC_API_KEY"):
        print("Note: COCALC_API_KEY is set in this environment and wins over the saved key; "
              "unset it to use this one.")
    if m.host and settings.normalize_host(m.host) != host:
        print(f"Note: %config CoCalcMagics.host = {m.host!r} wins over the saved host.")


def ask_secret(prompt: str) -> str:
    """A hidden prompt (``getpass``; ipykernel routes it to the notebook's password box)."""
    import getpass

    from IPython.core.error import StdinNotImplementedError

    try:
        return getpass.getpass(prompt)
    except (StdinNotImplementedError, EOFError):
        raise CoCalcMagicError(
            "This frontend cannot ask for input: set COCALC_API_KEY in the kernel's environment, "
            "or run %cocalc login in Jupyter or IPython."
        ) from None
    except KeyboardInterrupt:
        raise CoCalcMagicError("Cancelled; nothing changed.") from None
