"""``Org``: one organization of a CoCalc server, for provisioning a class or a team.

An org admin (or a site admin) creates accounts in the org and hands each person a sign-in
link, where open sign-up is closed. The calls are the hub's ``org.*`` functions (conat
generation); on a server without them (legacy v1, cocalc.ai keys) every method raises
``NotSupported``. The server's refusals become typed errors that say whose key is needed.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..errors import CoCalcError, InvalidRequest, NotFound, PermissionDenied
from ..settings import SecretStr, register_secret
from .backends.base import user_info
from .models import OrgInfo, SignInLink, UserInfo

if TYPE_CHECKING:
    from .cocalc import CoCalc

_NAME_TAKEN = re.compile(r"already used by some account or organization|organizations_lower_name")

# The org texts of server/conat/api/org.ts → (error class, what it means, hints.HINTS id). First match wins.
_REFUSALS: list[tuple[re.Pattern[str], type[CoCalcError], str, str | None]] = [
    (re.compile(r"admin of the organization or site-admin"), PermissionDenied,
     "this key's account is not an admin of organization {org!r}", "org_admin"),
    (re.compile(r"must be a site admin|only admins may create|only site admins can"), PermissionDenied,
     "this key's account is not a site admin", "site_admin"),
    (re.compile(r"no org named"), NotFound, "there is no organization {org!r}", "no_org"),
    (re.compile(r"cannot find user|no such account|account not found"), NotFound, "no such account", "no_account"),
    (re.compile(r"user is not in an org"), InvalidRequest, "that account is not in any organization",
     "not_in_org"),
    (re.compile(r"already member of another organization"), InvalidRequest,
     "that account belongs to another organization", "other_org"),
    (_NAME_TAKEN, InvalidRequest, "the organization name {org!r} is taken", "org_taken"),
    (re.compile(r"accounts_email_address_key"), InvalidRequest, "an account with that email address exists",
     "email_taken"),
    (re.compile(r"character varying\(39\)"), InvalidRequest, "the organization name is too long",
     "org_name_long"),
]


def _refined(err: CoCalcError, org: str) -> CoCalcError:
    """The server's org refusal as the error class and hint that say what to do (CoCalc's own
    text stays in ``server_message``)."""
    text = err.server_message or ""
    for pattern, cls, what, hint in _REFUSALS:
        if pattern.search(text):
            return cls(what.format(org=org), status=err.status, endpoint=err.endpoint, server_message=text, hint=hint)
    return err


def _user_ref(user: "str | UserInfo") -> str:
    return user.account_id if isinstance(user, UserInfo) else str(user)


def _expire_ms(expire: "datetime | float | None") -> int | None:
    """``expire``: a datetime, or seconds from now."""
    if expire is None:
        return None
    if isinstance(expire, datetime):
        when = expire if expire.tzinfo else expire.replace(tzinfo=timezone.utc)
        return int(when.timestamp() * 1000)
    return int((datetime.now(timezone.utc).timestamp() + float(expire)) * 1000)


class Org:
    """The organization ``name`` on ``client``'s server (nothing is asked until a method runs)."""

    def __init__(self, client: "CoCalc", name: str) -> None:
        self.client = client
        self.name = name

    def __repr__(self) -> str:
        return f"Org({self.name!r}, host={self.client.host!r})"

    def _call(self, fn: str, idempotent: bool = False, **opts: Any) -> Any:
        args = {k: v for k, v in opts.items() if v is not None}
        try:
            return self.client._b.org(fn, args, idempotent=idempotent)
        except CoCalcError as err:
            raise _refined(err, self.name) from None

    def info(self) -> OrgInfo:
        """Title, description, link, email and admins (site admins and the org's admins)."""
        row = self._call("get", True, name=self.name) or {}
        return OrgInfo(name=row.get("name") or self.name, title=row.get("title"), description=row.get("description"),
                       link=row.get("link"), email_address=row.get("email_address"),
                       admin_account_ids=tuple(row.get("admin_account_ids") or ()))

    def update(self, *, title: str | None = None, description: str | None = None, link: str | None = None,
               email_address: str | None = None) -> None:
        """Change the given properties (the name itself never changes)."""
        if all(v is None for v in (title, description, link, email_address)):
            raise ValueError("nothing to update: give title=, description=, link= or email_address=")
        self._call("set", name=self.name, title=title, description=description, link=link,
                   email_address=email_address)

    def users(self) -> list[UserInfo]:
        """The accounts in the organization."""
        return [user_info(r) for r in self._call("getUsers", True, name=self.name) or []]

    def create_user(self, email: str, first_name: str = "", last_name: str = "",
                    password: str | None = None) -> UserInfo:
        """A new account in the organization (no password: a random one; use sign_in_link)."""
        register_secret(password)  # never shown, whatever comes back
        account_id = self._call("createUser", name=self.name, email=email, firstName=first_name,
                                lastName=last_name, password=password)
        return UserInfo(account_id=str(account_id), email_address=email, first_name=first_name, last_name=last_name)

    def get_or_create_user(self, email: str, first_name: str = "", last_name: str = "",
                           password: str | None = None) -> UserInfo:
        """The member with this email, created when missing (so a notebook can run twice)."""
        for u in self.users():
            if (u.email_address or "").lower() == email.lower():
                return u
        return self.create_user(email, first_name, last_name, password)

    def add_user(self, user: "str | UserInfo") -> None:
        """Put an existing account (id or email) in this organization (site admins)."""
        self._call("addUser", name=self.name, user=_user_ref(user))

    def remove_user(self, user: "str | UserInfo") -> None:
        self._call("removeUser", name=self.name, user=_user_ref(user))

    def add_admin(self, user: "str | UserInfo") -> None:
        """Make a member (or an account in no org) an admin of this organization (site admins)."""
        self._call("addAdmin", name=self.name, user=_user_ref(user))

    def remove_admin(self, user: "str | UserInfo") -> None:
        self._call("removeAdmin", name=self.name, user=_user_ref(user))

    def sign_in_link(self, user: "str | UserInfo", expire: "datetime | float | None" = None) -> SignInLink:
        """A link that signs the browser in as ``user`` (a member), valid until ``expire``
        (a datetime or seconds from now; default 24 h) and reusable until then. Shown masked."""
        out = self._call("createToken", user=_user_ref(user), expire=_expire_ms(expire))
        if not isinstance(out, dict) or not out.get("token"):
            raise InvalidRequest(f"the server made no sign-in link for {_user_ref(user)}",
                                 endpoint="/api/conat/hub org.createToken")
        return SignInLink(url=SecretStr(str(out.get("url") or "")), token=SecretStr(str(out["token"])),
                          user=_user_ref(user))

    def revoke(self, link: "SignInLink | str") -> None:
        """Make a sign-in link (or its token) stop working at once."""
        token = str(link.token) if isinstance(link, SignInLink) else str(link)
        if "auth_token=" in token:
            token = token.split("auth_token=", 1)[1].split("&", 1)[0]
        self._call("expireToken", token=token)

    def message(self, subject: str, body: str) -> None:
        """Send a CoCalc message (markdown body) to every member."""
        self._call("message", name=self.name, subject=subject, body=body)


def create_org(client: "CoCalc", name: str, exist_ok: bool = False) -> Org:
    """``cc.create_org``: a new organization (site admins); ``exist_ok``: one of that name is fine."""
    org = Org(client, name)
    try:
        org._call("create", name=name)
    except InvalidRequest as err:
        if not (exist_ok and _NAME_TAKEN.search(err.server_message or "")):
            raise
    return org


def all_orgs(client: "CoCalc") -> list[OrgInfo]:
    """``cc.orgs``: every organization of the server (site admins)."""
    rows = Org(client, "")._call("getAll", True) or []
    return [OrgInfo(name=r.get("name") or "", title=r.get("title"),
                    admin_account_ids=tuple(r.get("admin_account_ids") or ())) for r in rows]
