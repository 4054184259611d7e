"""The hub's org.* functions on the conat generation: shapes, the three roles (site admin, org
admin, member), CoCalc's error texts (server/conat/api/org.ts at 5cb3315c30; recorded hub-org-*),
sign-in links that work in /auth/impersonate, and state that survives a restart."""

import re
import uuid

import pytest
import requests

from conat_client import UNKNOWN_UUID, Raw, second_user

conat = pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)

NOT_ALLOWED = {"error": "Error: user must be an admin of the organization or site-admin"}


def _name(prefix="org"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def org(api):
    """A fresh org, made by the site admin."""
    name = _name()
    assert re.fullmatch(r"[0-9a-f-]{36}", api.hub("org.create", {"name": name}))
    return name


def _member(api, org, first="Alice", last="Example"):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    account_id = api.hub("org.createUser", {"name": org, "email": email, "firstName": first, "lastName": last,
                                            "password": "pw-" + uuid.uuid4().hex[:8]})
    return account_id, email


def _key(srv, account_id):
    _, key = srv.ctx.store.create_api_key(account_id, name="org test")
    return Raw(srv.url, key)


# ------------------------------------------------------------------ site admin
@conat
def test_create_get_set_getall(api, org):
    assert api.hub("org.get", {"name": org}) == {"name": org, "title": None, "description": None, "link": None,
                                                 "email_address": None, "admin_account_ids": None}
    assert api.hub("org.set", {"name": org, "title": "Acme", "link": "https://acme.example"}) is None
    got = api.hub("org.get", {"name": org})
    assert (got["title"], got["link"], got["description"]) == ("Acme", "https://acme.example", None)
    listed = api.hub("org.getAll", {})
    assert {"name": org, "title": "Acme", "admin_account_ids": None} in listed
    assert all(set(o) == {"name", "title", "admin_account_ids"} for o in listed)


@conat
def test_create_errors(api, org):
    assert api.hub("org.create", {"name": org}) == {
        "error": f"Error: name {org} is already used by some account or organization"}
    assert api.hub("org.create", {"name": org.upper()}) == {
        "error": 'error: duplicate key value violates unique constraint "organizations_lower_name__unique_idx"'}
    assert api.hub("org.create", {"name": "x" * 40}) == {"error": "error: value too long for type character varying(39)"}
    assert api.hub("org.get", {"name": "no-such-org-" + org}) == {"error": f"Error: no org named 'no-such-org-{org}'"}
    assert api.hub("org.set", {"name": org}) == {"error": 'error: syntax error at or near "WHERE"'}
    assert api.hub("org.set", {"name": org, "title": "t" * 255}) == {
        "error": "error: value too long for type character varying(254)"}


@conat
def test_create_user_and_get_users(cocalc_server, api, org):
    account_id, email = _member(api, org)
    assert api.hub("org.getUsers", {"name": org}) == [
        {"first_name": "Alice", "last_name": "Example", "account_id": account_id, "email_address": email,
         "last_active": None}]
    # the account works at once (password sign-in) and has its "My First Project", not started
    projects = cocalc_server.ctx.store.projects_of(account_id)
    assert [(p["title"], p["state"]) for p in projects] == [("My First Project", "opened")]
    assert api.hub("org.createUser", {"name": org, "email": email}) == {
        "error": 'error: duplicate key value violates unique constraint "accounts_email_address_key"'}


@conat
def test_create_user_into_an_org_never_created(api):
    name = _name("never-created")
    account_id, _ = _member(api, name)
    assert [u["account_id"] for u in api.hub("org.getUsers", {"name": name})] == [account_id]
    assert api.hub("org.get", {"name": name}) == {"error": f"Error: no org named '{name}'"}


@conat
def test_admins_sorted_and_removed_to_empty_list(api, org):
    a, _ = _member(api, org)
    b, _ = _member(api, org)
    assert api.hub("org.addAdmin", {"name": org, "user": b}) is None
    assert api.hub("org.addAdmin", {"name": org, "user": a}) is None
    assert api.hub("org.addAdmin", {"name": org, "user": a}) is None  # no duplicates
    assert api.hub("org.get", {"name": org})["admin_account_ids"] == sorted([a, b])  # array_agg(DISTINCT)
    assert api.hub("org.removeUser", {"name": org, "user": a}) == {
        "error": "Error: admin cannot be removed from org; first remove them from being an admin"}
    api.hub("org.removeAdmin", {"name": org, "user": a})
    api.hub("org.removeAdmin", {"name": org, "user": b})
    assert api.hub("org.get", {"name": org})["admin_account_ids"] == []
    assert api.hub("org.removeUser", {"name": org, "user": a}) is None
    assert [u["account_id"] for u in api.hub("org.getUsers", {"name": org})] == [b]


@conat
def test_add_admin_and_add_user_moves(api, org):
    other = _name("other")
    api.hub("org.create", {"name": other})
    u, email = _member(api, other)
    assert api.hub("org.addAdmin", {"name": org, "user": u}) == {
        "error": f"Error: User '{u}' is already member of another organization"}
    assert api.hub("org.addUser", {"name": org, "user": email}) is None  # by email; moves the account
    assert api.hub("org.addAdmin", {"name": org, "user": u}) is None
    assert u in api.hub("org.get", {"name": org})["admin_account_ids"]
    assert api.hub("org.getUsers", {"name": other}) == []
    assert api.hub("org.addAdmin", {"name": org, "user": UNKNOWN_UUID}) == {
        "error": f"Error: no such account '{UNKNOWN_UUID}'"}
    assert api.hub("org.addUser", {"name": org, "user": "nobody@example.com"}) == {
        "error": "Error: cannot find user 'nobody@example.com'"}


# ------------------------------------------------------------------ roles
@conat
def test_org_admin_may_provision_but_not_administer_the_site(cocalc_server, api, org):
    admin_id, _ = _member(api, org)
    api.hub("org.addAdmin", {"name": org, "user": admin_id})
    oa = _key(cocalc_server, admin_id)
    new_id = oa.hub("org.createUser", {"name": org, "email": f"{uuid.uuid4().hex[:8]}@example.com"})
    assert {u["account_id"] for u in oa.hub("org.getUsers", {"name": org})} == {admin_id, new_id}
    assert oa.hub("org.get", {"name": org})["admin_account_ids"] == [admin_id]
    assert oa.hub("org.set", {"name": org, "description": "by the org admin"}) is None
    link = oa.hub("org.createToken", {"user": new_id})
    assert set(link) == {"token", "url"}
    assert oa.hub("org.message", {"name": org, "subject": "hi", "body": "from the org admin"}) is None
    assert oa.hub("org.getAll", {}) == {"error": "Error: must be a site admin"}
    assert oa.hub("org.create", {"name": _name()}) == {"error": "Error: only admins may create organizations"}
    assert oa.hub("org.addUser", {"name": org, "user": new_id}) == {
        "error": "Error: only site admins can add/move a user to an org right now"}
    assert oa.hub("org.addAdmin", {"name": org, "user": new_id}) == {
        "error": "Error: only site admins can make a user an organization admin right now"}
    other = _name("other")
    api.hub("org.create", {"name": other})
    stranger, _ = _member(api, other)
    for fn, extra in (("get", {}), ("getUsers", {}), ("set", {"title": "x"}), ("message", {"subject": "s", "body": "b"}),
                      ("createUser", {"email": "x@example.com"}), ("removeAdmin", {"user": stranger})):
        assert oa.hub(f"org.{fn}", {"name": other, **extra}) == NOT_ALLOWED, fn
    assert oa.hub("org.createToken", {"user": stranger}) == NOT_ALLOWED
    # CoCalc's removeUser checks the caller against the named org only, then clears the user's
    # org whichever it is: kept as it is (a real hub does the same)
    assert oa.hub("org.removeUser", {"name": org, "user": stranger}) is None
    assert api.hub("org.getUsers", {"name": other}) == []


@conat
def test_member_and_outsider_may_do_nothing(cocalc_server, api, org):
    member_id, _ = _member(api, org)
    member = _key(cocalc_server, member_id)
    outsider = Raw(cocalc_server.url, second_user(cocalc_server)[1])
    for who in (member, outsider):
        assert who.hub("org.get", {"name": org}) == NOT_ALLOWED
        assert who.hub("org.getUsers", {"name": org}) == NOT_ALLOWED
        assert who.hub("org.createUser", {"name": org, "email": "y@example.com"}) == NOT_ALLOWED
        assert who.hub("org.createToken", {"user": member_id}) == NOT_ALLOWED
        assert who.hub("org.getAll", {}) == {"error": "Error: must be a site admin"}


# ------------------------------------------------------------------ sign-in links
@conat
def test_create_token_signs_in_through_impersonate(cocalc_server, api, org):
    account_id, email = _member(api, org)
    out = api.hub("org.createToken", {"user": email})
    assert out["url"] == f"{cocalc_server.url}/auth/impersonate?auth_token={out['token']}"
    r = requests.get(out["url"], timeout=30, allow_redirects=False)
    assert r.status_code == 200 and r.cookies.get("account_id") == account_id and r.cookies.get("remember_me")
    again = requests.get(out["url"], timeout=30, allow_redirects=False)  # reusable until it expires
    assert again.cookies.get("account_id") == account_id
    assert api.hub("org.expireToken", {"token": out["token"]}) is None
    gone = requests.get(out["url"], timeout=30, allow_redirects=False)
    assert gone.text == f"ERROR: impersonate error -- Error: unknown or expired token: '{out['token']}'"
    assert not gone.cookies.get("remember_me")


@conat
def test_create_token_errors(cocalc_server, api):
    lone = second_user(cocalc_server)[0]
    assert api.hub("org.createToken", {"user": lone}) == {"error": "Error: user is not in an org"}
    assert api.hub("org.createToken", {"user": "nobody@example.com"}) == {"error": "Error: user is not in an org"}
    assert api.hub("org.expireToken", {"token": "not-a-token"}) is None  # no check, as in CoCalc


@conat
def test_expired_link_is_refused(cocalc_server, api, org):
    account_id, _ = _member(api, org)
    out = api.hub("org.createToken", {"user": account_id, "expire": 1000})  # 1970: already expired
    r = requests.get(out["url"], timeout=30, allow_redirects=False)
    assert r.text.startswith("ERROR: impersonate error -- Error: unknown or expired token")


# ------------------------------------------------------------------ restart
def test_orgs_survive_a_restart(tmp_path):
    from cocalc_magic.server import LocalServer

    with LocalServer(data_dir=tmp_path, api="conat") as srv:
        admin = Raw(srv.url, srv.api_key)
        admin.hub("org.create", {"name": "kept"})
        admin.hub("org.set", {"name": "kept", "title": "Kept"})
        u, email = _member(admin, "kept")
        admin.hub("org.addAdmin", {"name": "kept", "user": u})
        org_admin_key = srv.ctx.store.create_api_key(u, name="k")[1]
        token = admin.hub("org.createToken", {"user": u})["token"]
    with LocalServer(data_dir=tmp_path, api="conat") as srv:
        oa = Raw(srv.url, org_admin_key)
        assert oa.hub("org.get", {"name": "kept"})["title"] == "Kept"
        assert oa.hub("org.get", {"name": "kept"})["admin_account_ids"] == [u]
        assert [x["email_address"] for x in oa.hub("org.getUsers", {"name": "kept"})] == [email]
        r = requests.get(f"{srv.url}/auth/impersonate?auth_token={token}", timeout=30, allow_redirects=False)
        assert r.cookies.get("account_id") == u


@pytest.mark.parametrize("cocalc_server", ["v1"], indirect=True)
def test_a_2024_server_has_none_of_it(cocalc_server):
    """v1 (a self-hosted CoCalc of 2024-03): no conat bridge, no org or messages message."""
    for name in ("org.getAll", "org.createUser", "messages.send", "sync.history"):
        r = requests.post(cocalc_server.url + "/api/conat/hub", json={"name": name, "args": [{}]},
                          auth=(cocalc_server.api_key, ""), timeout=30)
        assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/html")
    r = requests.post(cocalc_server.url + "/api/v1/org", json={}, auth=(cocalc_server.api_key, ""), timeout=30)
    assert (r.status_code, r.json()) == (400, {"error": "unknown endpoint 'org'"})


@pytest.mark.parametrize("cocalc_server", ["ai"], indirect=True)
def test_cocalc_ai_refuses_them_to_keys(cocalc_server):
    """cocalc.ai: org.*, messages.* and sync.* are outside the eight hub calls a key may make."""
    for name in ("org.getAll", "org.createUser", "org.createToken", "messages.send", "messages.get", "sync.history"):
        r = requests.post(cocalc_server.url + "/api/conat/hub", json={"name": name, "args": [{}]},
                          auth=(cocalc_server.api_key, ""), timeout=30)
        assert (r.status_code, r.json()) == (200, {"error": f"API keys are not allowed to call hub RPC '{name}'"})


def test_the_recorded_org_exchanges_in_order(tmp_path):
    """hub-org-getAll-empty, -create, -createUser, -createToken, -getUsers, -get, on a fresh server."""
    from cocalc_magic.server import LocalServer

    with LocalServer(data_dir=tmp_path, api="conat") as srv:
        a = Raw(srv.url, srv.api_key)
        assert a.hub("org.getAll", {}) == []
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}",
                            a.hub("org.create", {"name": "acme"}))
        email2, password2 = "alice@example.com", "pw-" + uuid.uuid4().hex
        acct2 = a.hub("org.createUser", {"name": "acme", "email": email2, "firstName": "Alice", "lastName": "Example",
                                         "password": password2})
        signin = requests.post(srv.url + "/api/v2/auth/sign-in", json={"email": email2, "password": password2},
                               timeout=30)
        assert signin.json() == {"account_id": acct2}  # "usable immediately (password sign-in works)"
        token = a.hub("org.createToken", {"user": email2})
        assert token == {"token": token["token"], "url": f"{srv.url}/auth/impersonate?auth_token={token['token']}"}
        assert a.hub("org.getUsers", {"name": "acme"}) == [
            {"first_name": "Alice", "last_name": "Example", "account_id": acct2, "email_address": email2,
             "last_active": None}]
        assert a.hub("org.get", {"name": "acme"}) == {"name": "acme", "title": None, "description": None,
                                                      "link": None, "email_address": None, "admin_account_ids": None}
