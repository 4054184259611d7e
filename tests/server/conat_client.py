"""Raw HTTP helpers for the current-generation conformance tests (plain requests, no client
library: these tests check what is on the wire)."""

from __future__ import annotations

import requests

UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"


class Raw:
    """POSTs to one server as one key; returns (status, parsed JSON body)."""

    def __init__(self, url: str, key: str | None):
        self.url, self.key = url, key

    def _auth(self):
        return (self.key, "") if self.key else None

    def post(self, path: str, body=None, **kw) -> tuple[int, object]:
        r = requests.post(self.url + path, json=body, auth=self._auth(), timeout=60, **kw)
        return r.status_code, (r.json() if r.headers.get("Content-Type", "").startswith("application/json") else r.text)

    def hub(self, name: str, *args, **extra):
        status, body = self.post("/api/conat/hub", {"name": name, "args": list(args), **extra})
        assert status == 200
        return body

    def project(self, project_id: str | None, name: str, *args, **extra):
        payload = {"name": name, "args": list(args), **extra}
        if project_id:
            payload["project_id"] = project_id
        status, body = self.post("/api/conat/project", payload)
        assert status == 200
        return body

    def v2(self, path: str, body=None, **kw):
        status, out = self.post("/api/v2/" + path, {} if body is None else body, **kw)
        assert status == 200, (status, out)
        return out


def second_user(srv, first="Alice", last="Example"):
    """A fresh non-admin account with an account key: (account_id, key, email, password)."""
    import secrets

    store = srv.ctx.store
    email = f"user-{secrets.token_hex(4)}@example.com"
    password = "pw-" + secrets.token_hex(6)
    account_id = store.create_account(email, password, first, last)
    _, key = store.create_api_key(account_id, name="user key")
    return account_id, key, email, password


def project_key(srv, project_id: str, account_id: str | None = None) -> str:
    _, key = srv.ctx.store.create_api_key(account_id or srv.account_id, project_id=project_id, name="pk")
    return key
