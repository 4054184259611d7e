"""The v1 account messages: ping, account creation, password and email, auth tokens,
collaborators, user search and the deprecated or billing messages (a mixin of ``V1Handler``)."""
from __future__ import annotations

import re
import time

from ..core import throttle
from ..core.jsvalues import js_str
from ..core.store import is_uuid, now_ms
from ..core.userquery import iso
from .schemas import STRIPE_EVENTS, Caller, V1Error, _number, _pg_uuid, _truthy

_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")



class AccountMessages:
    # ------------------------------------------------------------------ accounts
    async def m_ping(self, m: dict, caller: Caller) -> dict:
        return self.ok("pong", m, now=iso(now_ms()))

    async def m_create_account(self, m: dict, caller: Caller) -> dict:
        reason = self._create_account_issues(m, limit_ip=not caller.admin)
        if reason:
            return self.ok("account_creation_failed", m, reason=reason)
        email = m.get("email_address")
        account_id = self.store.create_account(
            email or None, m.get("password") or None, str(m.get("first_name") or ""), str(m.get("last_name") or "")
        )
        self._apply_creation_actions(account_id, email)
        reply = self.ok("account_created", m, account_id=account_id)
        if _truthy(m.get("get_api_key")):
            reply["api_key"] = self.store.set_legacy_api_key(account_id)
        return reply

    def _create_account_issues(self, m: dict, limit_ip: bool = True) -> dict | None:
        """CoCalc's checks in create-account.ts, in its order: input issues, the per-IP limit,
        the address taken.

        The limit (150 accounts per IP per 30 min) does not apply to an admin's key: on a local
        server an admin provisioning a class is the normal case (CoCalc raises it to 1500 for
        its ``gold`` group; exempting admins is our choice)."""
        issues: dict[str, str] = {}
        email, password = m.get("email_address"), m.get("password")
        if email and not (isinstance(email, str) and re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
            issues["email_address"] = "Email address does not appear to be valid."
        if password:
            if not isinstance(password, str):
                issues["password"] = "Password must be specified."
            elif not 6 <= len(password) <= 64:
                issues["password"] = "Password must be between 6 and 64 characters in length."
        if issues:
            return issues
        ip = self.request.remote_ip or ""
        window = self.ctx.caches.setdefault("v1_create_account_ip", {})
        now = time.time()
        recent = [t for t in window.get(ip, []) if now - t < 30 * 60]
        window[ip] = recent
        if limit_ip and len(recent) >= 150:
            return {"other": f'Unable to create account. Error: "Error: Too many accounts are being created from the '
                             f"ip address {ip}; try again later.  By default at most 150 accounts can be created "
                             "every 30 minutes from one IP; if you're using the API and need a higher limit, "
                             'contact us."'}
        if isinstance(email, str) and email and self.store.account_by_email(email):
            return {"email_address": "This e-mail address is already taken."}
        if limit_ip:  # an admin's accounts neither meet the limit nor count toward it
            recent.append(now)
        return None

    def _apply_creation_actions(self, account_id: str, email: str | None) -> None:
        """Invitations sent to this address before the account existed (14 days)."""
        if not email:
            return
        rows = self.store.query(
            "SELECT project_id, grp FROM v1_account_creation_actions WHERE email_address=? AND expire>?",
            (email.lower(), now_ms()),
        )
        for r in rows:
            if self.store.project(r["project_id"]):
                self.store.add_user(r["project_id"], account_id, r["grp"])
        self.store.execute("DELETE FROM v1_account_creation_actions WHERE email_address=?", (email.lower(),))

    async def m_change_password(self, m: dict, caller: Caller) -> dict:
        """hub/password.coffee: acts on the key owner's account (``account_id`` of the message is
        not used); the old password is checked first, unless the account has none."""
        if not caller.account_id:
            return self.ok("changed_password", m, error={"other": "no account for this key (a project key cannot change a password)"})
        acct = self.store.account(caller.account_id)
        if acct["password_hash"] and not self.store.check_password(caller.account_id, js_str(m.get("old_password") or "")):
            return self.ok("changed_password", m, error="invalid old password")
        new = m["new_password"]
        if not isinstance(new, str):
            return self.ok("changed_password", m, error={"new_password": "Password must be specified."})
        if not 6 <= len(new) <= 64:
            return self.ok("changed_password", m, error={"new_password": "Password must be between 6 and 64 characters in length."})
        self.store.set_password(caller.account_id, new)
        return self.ok("changed_password", m)

    async def m_change_email_address(self, m: dict, caller: Caller) -> dict:
        """hub/password.coffee at V1-FULL: failures inside changed_email_address (recorded)."""
        new = js_str(m["new_email_address"]).lower()
        if not _EMAIL.fullmatch(new):
            return self.ok("changed_email_address", m, error="email_invalid")
        if m["account_id"] != caller.account_id:
            return self.ok("changed_email_address", m, error="account_id in mesg is not what user is signed in as")
        acct = self.store.account(caller.account_id)
        if acct["password_hash"] and not self.store.check_password(caller.account_id, js_str(m.get("password") or "")):
            return self.ok("changed_email_address", m, error="invalid_password")
        other = self.store.account_by_email(new)
        if other and other["account_id"] != caller.account_id:
            return self.ok("changed_email_address", m, error="email_already_taken")
        self.store.update_account(caller.account_id, email_address=new)
        self._apply_creation_actions(caller.account_id, new)
        return self.ok("changed_email_address", m, error=False)

    # ------------------------------------------------------------------ auth tokens
    async def m_user_auth(self, m: dict, caller: Caller) -> dict:
        target, password = m["account_id"], m["password"]
        bans = throttle.ban_list(self.ctx, "v1_user_auth_ban", 60)
        ban_key = (caller.id, js_str(target))
        if bans.count(ban_key, 60):
            raise V1Error("banned -- please wait at least 60s before trying again")
        password = password if isinstance(password, str) else js_str(password)
        exists = is_uuid(target) and self.store.account(target) is not None
        if not (password == "" and caller.admin and exists):
            # Beyond CoCalc's per-(caller, target) ban: the target's sign-in limit, per account and
            # per IP, which fresh accounts or project keys do not reset.
            limits, who = throttle.sign_in_throttle(self.ctx), f"account:{js_str(target)}"
            refusal = limits.refusal(who, self.request.remote_ip, js_str(target))
            if refusal:
                raise V1Error(refusal)
            if not exists or not password or not self.store.check_password(target, password):
                bans.record(ban_key)
                limits.failed(who, self.request.remote_ip)
                raise V1Error("incorrect password")
        token = self.store.create_auth_token(target, caller.id, ttl_s=12 * 3600, is_admin=caller.admin and password == "")
        return self.ok("user_auth_token", m, auth_token=token)

    # ------------------------------------------------------------------ collaborators
    async def m_add_collaborator(self, m: dict, caller: Caller) -> dict:
        if m.get("token_id") is not None:
            raise V1Error("Error: project invite tokens are not supported by this server")
        projects = m.get("project_id")
        accounts = m["account_id"]
        projects = projects if isinstance(projects, list) else [projects]
        accounts = accounts if isinstance(accounts, list) else [accounts]
        if len(projects) == 1 and len(accounts) > 1:
            projects = projects * len(accounts)
        if len(accounts) == 1 and len(projects) > 1:
            accounts = accounts * len(projects)
        if len(projects) != len(accounts):
            raise V1Error("Error: the lists of projects and accounts must have the same length")
        for pid, acct in zip(projects, accounts):
            for value in (pid, acct):
                if not is_uuid(value):
                    raise V1Error(f'Error: invalid input syntax for type uuid: "{js_str(value)}"')
            if not self.can_write(caller, pid):
                raise V1Error(f"Error: user {caller.id} does not have write access to project {pid}")
        for pid, acct in zip(projects, accounts):
            self.store.add_user(pid, acct, "collaborator")
        return self.ok("success", m)

    async def m_remove_collaborator(self, m: dict, caller: Caller) -> dict:
        pid = self.access(caller, m["project_id"], "write")
        acct = m["account_id"]
        _pg_uuid(acct)
        self.store.remove_user(pid, acct)  # removing an owner is a silent no-op, as in CoCalc
        return self.ok("success", m)

    async def m_invite_collaborator(self, m: dict, caller: Caller) -> dict:
        pid = self.access(caller, m["project_id"], "write")
        acct = m["account_id"]
        _pg_uuid(acct)
        self.store.add_user(pid, acct, "collaborator")  # no e-mail is sent by a local server
        return self.ok("success", m)

    async def m_invite_noncloud_collaborators(self, m: dict, caller: Caller) -> dict:
        pid = self.access(caller, m["project_id"], "write")
        to = js_str(m["to"])
        if len(to) > 1024:
            raise V1Error("Specify less recipients when adding collaborators to project.")
        addresses = [x for x in re.sub(r"\s", ",", to).replace(";", ",").split(",") if x]
        for address in addresses:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
                raise V1Error(f"invalid email address '{address}'")
            if len(address) >= 128:
                raise V1Error(f"email address must be at most 128 characters: '{address.lower()}'")
        for address in addresses:
            address = address.lower()
            existing = self.store.account_by_email(address)
            if existing:
                self.store.add_user(pid, existing["account_id"], "collaborator")
            else:
                self.store.execute(
                    "INSERT INTO v1_account_creation_actions (email_address, project_id, grp, expire) VALUES (?,?,?,?)",
                    (address, pid, "collaborator", now_ms() + 14 * 24 * 3600 * 1000),
                )
        return self.ok("invite_noncloud_collaborators_resp", m, mesg=f"Invited {to} to collaborate on a project.")

    # ------------------------------------------------------------------ users
    async def m_get_usernames(self, m: dict, caller: Caller) -> dict:
        ids = m["account_ids"]
        if not isinstance(ids, list):
            ids = [ids]
        names: dict[str, dict] = {}
        for acct_id in ids:
            acct = self.store.account(acct_id) if is_uuid(acct_id) else None
            if acct:
                names[acct_id] = {"first_name": acct["first_name"], "last_name": acct["last_name"]}
        return self.ok("usernames", m, usernames=names)

    async def m_user_search(self, m: dict, caller: Caller) -> dict:
        admin = _truthy(m.get("admin"))
        if admin and not caller.admin:
            raise V1Error("Error: only admins may do an admin user search")  # guess
        try:
            limit = int(_number(m.get("limit", 20), "limit"))
        except V1Error:
            limit = 20
        if not caller.admin:
            limit = min(limit, 50)
        limit = max(limit, 0)
        return self.ok("user_search_results", m, results=self._user_search(js_str(m["query"]), limit, admin))

    def _user_search(self, query: str, limit: int, admin: bool) -> list[dict]:
        """server/accounts/search.ts: an account id or one e-mail address exactly; otherwise
        comma-separated terms, e-mails matched exactly and words as substrings of first name,
        last name or @name (admins: of the e-mail too). Most recently active first."""
        store = self.store

        def entry(acct: dict, with_email: bool) -> dict:
            out = {"account_id": acct["account_id"], "first_name": acct["first_name"],
                   "last_name": acct["last_name"], "name": (acct.get("settings") or {}).get("name")}
            if with_email or admin:
                out["email_address"] = acct["email_address"]
            out["last_active"] = int(acct["last_active"]) if acct.get("last_active") else None
            out["created"] = int(acct["created"]) if acct.get("created") else None
            out["email_address_verified"] = None
            return out

        def recency(e: dict) -> float:
            return max(e["last_active"] or 0, e["created"] or 0)

        q = query.strip()
        if is_uuid(q.lower()):
            acct = store.account(q.lower())
            return [entry(acct, False)] if acct else []
        if _EMAIL.fullmatch(q):
            acct = store.account_by_email(q)
            return [entry(acct, True)] if acct else []
        emails: list[str] = []
        strings: list[list[str]] = []
        for part in query.split(","):
            part = part.strip()
            m = re.search(r"<([^<>]+)>", part)  # "Jane Roe <jane@x.y>"
            address = m.group(1).strip() if m else part
            if _EMAIL.fullmatch(address):
                emails.append(address.lower())
            elif part:
                strings.append(part.lower().split())
        if admin:
            strings += [[e] for e in emails]
            emails = []
        results: list[dict] = []
        for address in emails:
            acct = store.account_by_email(address)
            if acct:
                results.append(entry(acct, True))
        room = limit - len(results)
        if strings and room > 0:
            rows = store.query("SELECT account_id FROM accounts ORDER BY COALESCE(last_active, created) DESC")
            for r in rows:
                acct = store.account(r["account_id"])
                if not acct or (not admin and (acct.get("settings") or {}).get("unlisted")):
                    continue
                name = (acct.get("settings") or {}).get("name")
                fields = [acct["first_name"].lower(), acct["last_name"].lower()]
                if name:
                    fields.append("@" + str(name).lower())
                if admin and acct["email_address"]:
                    fields.append(acct["email_address"])
                if any(all(any(t in f for f in fields) for t in terms) for terms in strings):
                    results.append(entry(acct, False))
                    room -= 1
                    if room <= 0:
                        break
        results.sort(key=recency, reverse=True)
        return results[:max(limit, 0)]

    # ------------------------------------------------------------------ projects, misc
    async def m_touch_project(self, m: dict, caller: Caller) -> dict:
        self.access(caller, m["project_id"], "write")
        return self.ok("success", m)

    async def m_disconnect_from_project(self, m: dict, caller: Caller) -> dict:
        pid = m["project_id"]
        if not is_uuid(pid):
            raise V1Error(f"unable to disconnect from project {js_str(pid)} -- project_id must be specified and valid")
        if not self.can_write(caller, pid):
            raise V1Error(f"unable to disconnect from project {pid} -- must have write access")
        return self.ok("success", m)

    async def m_log_client_error(self, m: dict, caller: Caller) -> dict:
        self.store.execute(
            "INSERT INTO client_error_log (account_id, time, error) VALUES (?,?,?)",
            (caller.id, now_ms(), js_str(m["error"])[:10_000]),
        )
        return self.ok("success", m)

    async def m_create_support_ticket(self, m: dict, caller: Caller) -> dict:
        raise V1Error("deprecated")

    async def m_get_support_tickets(self, m: dict, caller: Caller) -> dict:
        raise V1Error("deprecated")

    async def m_openai_embeddings_search(self, m: dict, caller: Caller) -> dict:
        raise V1Error("openai_embeddings_search is DEPRECATED")

    async def m_openai_embeddings_save(self, m: dict, caller: Caller) -> dict:
        raise V1Error("openai_embeddings_save is DEPRECATED")

    async def m_openai_embeddings_remove(self, m: dict, caller: Caller) -> dict:
        raise V1Error("openai_embeddings_remove is DEPRECATED")


async def _stripe(self: AccountMessages, m: dict, caller: Caller) -> dict:
    # Recorded for get_available_upgrades on a self-hosted server: accounts made through the
    # API have no Stripe customer. The other billing messages go through the same client.
    raise V1Error("Error: stripe customer not defined")


for _name in STRIPE_EVENTS:
    setattr(AccountMessages, "m_" + _name, _stripe)


CREATION_ACTIONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS v1_account_creation_actions (
    email_address TEXT NOT NULL,
    project_id TEXT NOT NULL,
    grp TEXT NOT NULL,
    expire REAL NOT NULL
);
"""
