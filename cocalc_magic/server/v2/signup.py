"""``POST /api/v2/auth/sign-up``: creating accounts, the way an admin provisions users today.

Texts and order follow ``next/pages/api/v2/auth/sign-up.ts`` and the recordings
("auth/sign-up"): problems come back as HTTP 200 ``{"issues": {field: message}}``, never
``{"error"}``. With an API key (or a signed-in cookie) only admins may create users and nobody
is signed in; without one the new user is signed in (the remember_me cookie), as a browser sign-up.

Sign-up without a key is CoCalc's site setting ``email_signup``; a local server has it off
unless started with ``allow_sign_up`` (``serve --allow-sign-up``): whoever reaches the port could
otherwise make an account, mint a key with its cookie and run commands as the server's user.
CoCalc's ``email_signup`` also stops an admin's key; here it does not, since on a local server
the admin provisioning accounts (the client's ``create_account``) is the way accounts are made
(our choice).
"""

from __future__ import annotations

import re
import time
from typing import Any

from .signin import V2Handler, set_sign_in_cookies

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SIGN_UP_DISABLED = "Email account creation is disabled."  # sign-up.ts, when email_signup is off


def obvious_issues(terms: Any, email: str, password: str) -> dict[str, str]:
    """sign-up.ts ``checkObviousConditions``: every problem at once."""
    issues: dict[str, str] = {}
    if not terms:
        issues["terms"] = "You must agree to the terms of usage."
    if not EMAIL.match(email):
        issues["email"] = f"You must provide a valid email address -- '{email}' is not valid."
    if len(password) < 6:  # CoCalc's "too easy" rule is a minimum length
        issues["password"] = "Your password must not be very easy to guess."
    return issues


class SignUpHandler(V2Handler):
    def post(self) -> None:
        body = self.body()
        if body is None:
            return
        email = str(body.get("email") or "").strip().lower()
        password = str(body.get("password") or "").strip()
        first = str(body.get("firstName") or "Anonymous").strip()
        last = str(body.get("lastName") or f"User-{int(time.time()) % 1000}").strip()
        issues = obvious_issues(body.get("terms"), email, password)
        if issues:
            return self.write_json({"issues": issues})
        caller = self.signed_in_as()
        if caller is not None and not self.store.is_admin(caller):
            return self.write_json(
                {"issues": {"api": "Error: Only users in the group 'admin' are allowed to create new users."}}
            )
        if caller is None and not self.ctx.allow_sign_up:
            return self.write_json({"issues": {"email": SIGN_UP_DISABLED}})
        if self.store.account_by_email(email):
            return self.write_json({"issues": {"email": f'Email address "{email}" already in use.'}})
        account_id = self.store.create_account(email, password, first, last)
        if caller is None:
            set_sign_in_cookies(self, account_id)
        self.write_json({"account_id": account_id})


def routes(ctx) -> list:
    return [(r"/api/v2/auth/sign-up", SignUpHandler, {"ctx": ctx})]
