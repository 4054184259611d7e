"""Conformance of POST /api/conat/hub with the recorded exchanges (real-hub-transcripts.md §1)."""

import base64
import time

import pytest
import requests

from conat_client import UNKNOWN_UUID, Raw, project_key, second_user

pytestmark = pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)

NOT_SIGNED_IN = "must be signed in and MUST provide an api key (cookies are not allowed)"
NO_KEY = "You must provide authentication via an API key."
SPLIT = "TypeError: Cannot read properties of undefined (reading 'split')"
INVALID_UUIDS = "Error: invalid account_id or project_id -- all must be valid uuid's"


@pytest.fixture
def user2(cocalc_server):
    account_id, key, email, password = second_user(cocalc_server)
    return Raw(cocalc_server.url, key), account_id, email, password


def _post(url, body=None, headers=None, auth=None, data=None, method="POST"):
    return requests.request(method, url + "/api/conat/hub", json=body, data=data, headers=headers, auth=auth, timeout=30)


# ------------------------------------------------------------------ auth and request format
def test_auth_failures_are_http_200_with_each_cases_text(cocalc_server, api):
    url, key = cocalc_server.url, cocalc_server.api_key
    ping = {"name": "system.ping", "args": []}
    r = _post(url, ping)
    assert (r.status_code, r.json()) == (200, {"error": NO_KEY})
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert _post(url, ping, auth=("sk-unknownunknownunk000001", "")).json() == {"error": NOT_SIGNED_IN}
    assert _post(url, ping, headers={"Authorization": f"Token {key}"}).json() == {"error": "Unknown authorization type 'Token'"}
    as_password = "Basic " + base64.b64encode(f":{key}".encode()).decode()
    assert _post(url, {"name": "system.test"}, headers={"Authorization": as_password}).json() == {"error": NOT_SIGNED_IN}
    assert _post(url, ping, headers={"Authorization": f"Bearer {key}"}).json()["now"] > 0


def test_project_key_is_refused_on_the_hub_bridge(cocalc_server, api):
    pid = api.hub("projects.createProject", {"title": "pk"})
    pk = Raw(cocalc_server.url, project_key(cocalc_server, pid))
    assert pk.hub("system.test") == {"error": NOT_SIGNED_IN}
    assert pk.hub("projects.createProject", {"title": "x"}) == {"error": NOT_SIGNED_IN}


def test_cookies_are_ignored(cocalc_server):
    cookie = cocalc_server.ctx.store.create_session(cocalc_server.account_id, 3600)
    r = _post(cocalc_server.url, {"name": "system.test"}, headers={"Cookie": f"remember_me={cookie}"})
    assert r.json() == {"error": NO_KEY}


def test_body_is_read_only_as_json_or_form(cocalc_server):
    url, auth = cocalc_server.url, (cocalc_server.api_key, "")
    body = '{"name": "system.test", "args": []}'
    for ctype in ("application/x-www-form-urlencoded", "text/plain"):
        r = _post(url, data=body, headers={"Content-Type": ctype}, auth=auth)
        assert r.json() == {"error": SPLIT}
    r = _post(url, data="name=system.test", headers={"Content-Type": "application/x-www-form-urlencoded"}, auth=auth)
    assert r.json()["account_id"] == cocalc_server.account_id
    r = requests.get(url + "/api/conat/hub?name=system.ping", auth=auth, timeout=10)
    assert (r.status_code, r.json()) == (200, {"error": SPLIT})
    assert _post(url, data="", headers={"Content-Type": "application/json"}, auth=auth).json() == {"error": SPLIT}
    assert _post(url, [1, 2], auth=auth).json() == {"error": SPLIT}
    assert _post(url, {"args": []}, auth=auth).json() == {"error": SPLIT}


def test_invalid_json_is_the_one_400(cocalc_server):
    r = _post(cocalc_server.url, data='{"name":', headers={"Content-Type": "application/json"},
              auth=(cocalc_server.api_key, ""))
    assert (r.status_code, r.reason, r.text) == (400, "Invalid JSON", "Invalid JSON")
    assert "Content-Type" not in r.headers


def test_body_over_one_megabyte_is_413(cocalc_server):
    big = {"name": "system.ping", "args": ["x" * (1024 * 1024)]}
    r = _post(cocalc_server.url, big, auth=(cocalc_server.api_key, ""))
    assert (r.status_code, r.text) == (413, "Body exceeded 1mb limit")


def test_unknown_functions(api):
    assert api.hub("system.doesNotExist") == {"error": "Error: unknown function 'system.doesNotExist'"}
    assert api.hub("nosuchgroup.fn") == {"error": "Error: unknown function 'nosuchgroup.fn'"}


def test_args_shapes(api):
    assert api.post("/api/conat/hub", {"name": "system.test"})[1]["server_time"] > 0
    assert api.hub("system.ping", {"foo": 1})["now"] > 0
    assert api.post("/api/conat/hub", {"name": "system.getNames", "args": "not-a-list"})[1] == {
        "error": 'error: malformed array literal: "n"'
    }
    pid = api.hub("projects.createProject", {})
    assert api.post("/api/conat/hub", {"name": "projects.start", "args": {"project_id": pid}})[1] == {
        "error": "TypeError: Spread syntax requires ...iterable[Symbol.iterator] to be a function"
    }
    assert api.hub("projects.state", pid) == {"error": f"TypeError: Cannot create property 'account_id' on string '{pid}'"}


def test_bridge_timeout_is_conat_408_with_trailing_space(cocalc_server, api):
    pid = api.hub("projects.createProject", {"title": "timeout"})
    api.project(pid, "system.writeTextFileToProject", {"path": "tx/empty.txt", "content": ""})
    t0 = time.monotonic()
    out = api.hub("projects.copyPathBetweenProjects",
                  {"src_project_id": pid, "src_path": "tx/empty.txt", "target_path": "tx/copy-delay.txt",
                   "debug_delay_ms": 3000}, timeout=300)
    assert out == {"error": f"timeout - callHub: subject='hub.account.{cocalc_server.account_id}.api', "
                            "name='projects.copyPathBetweenProjects', code='408' "}
    assert time.monotonic() - t0 < 2.5
    # the copy itself ran on
    assert api.project(pid, "system.readTextFileFromProject", {"path": "tx/copy-delay.txt"}) == ""


# ------------------------------------------------------------------ system.*
def test_ping_and_test(cocalc_server, api, user2):
    now = api.hub("system.ping")
    assert set(now) == {"now"} and abs(now["now"] - time.time() * 1000) < 60_000
    assert api.hub("system.test")["account_id"] == cocalc_server.account_id
    u2, acct2, *_ = user2
    assert u2.hub("system.test")["account_id"] == acct2


def test_get_names(cocalc_server, api, user2):
    _, acct2, *_ = user2
    me = cocalc_server.account_id
    names = api.hub("system.getNames", [me, acct2, UNKNOWN_UUID])
    assert names[acct2] == {"first_name": "Alice", "last_name": "Example", "profile": None}
    assert names[UNKNOWN_UUID] == {"first_name": "Deleted", "last_name": "User"}
    assert api.hub("system.getNames", ["not-a-uuid"]) == {"error": 'error: invalid input syntax for type uuid: "not-a-uuid"'}
    assert api.hub("system.getNames") == {"error": "TypeError: account_ids is not iterable"}
    assert api.hub("system.getNames", me) == {"error": f'error: malformed array literal: "{me}"'}


def test_user_search(cocalc_server, api, user2):
    u2, acct2, email2, _ = user2
    by_email = api.hub("system.userSearch", {"query": email2})
    assert [r["account_id"] for r in by_email] == [acct2]
    assert list(by_email[0]) == ["account_id", "first_name", "last_name", "name", "email_address",
                                 "last_active", "created", "email_address_verified"]
    by_name = u2.hub("system.userSearch", {"query": "Local Admin"})
    assert cocalc_server.account_id in [r["account_id"] for r in by_name]
    assert all("email_address" not in r for r in by_name)
    admin = api.hub("system.userSearch", {"query": email2.split("@")[0], "admin": True})
    assert admin[0]["email_address"] == email2 and "banned" in admin[0]
    assert u2.hub("system.userSearch", {"query": "x", "admin": True}) == {"error": "Error: Must be an admin to do admin search."}
    assert api.hub("system.userSearch", {}) == []
    assert api.hub("system.userSearch", {"query": "nobody-here@example.com"}) == []


def test_generate_and_revoke_user_auth_token(cocalc_server, api, user2):
    u2, acct2, email2, password2 = user2
    store = cocalc_server.ctx.store
    token = api.hub("system.generateUserAuthToken", {"user_account_id": acct2})
    assert isinstance(token, str) and len(token) == 24 and store.auth_token_account(token) == acct2
    row = store.query_one("SELECT created, expire FROM auth_tokens WHERE account_id=?", (acct2,))
    assert abs((row["expire"] - row["created"]) - 24 * 3600 * 1000) < 5000
    assert api.hub("system.revokeUserAuthToken", token) is None
    assert store.auth_token_account(token) is None
    assert api.hub("system.revokeUserAuthToken", "no-such-token-xxxxxxxxxxx") is None
    assert api.hub("system.revokeUserAuthToken") is None
    # non-admin: needs the target's password; a wrong one bans the pair for 30 s
    assert u2.hub("system.generateUserAuthToken", {"user_account_id": acct2}) == {"error": "Error: incorrect password"}
    own = cocalc_server.ctx.store.create_account(None, None)  # a third account, no password
    assert u2.hub("system.generateUserAuthToken", {"user_account_id": own, "password": "x"}) == {
        "error": "Error: incorrect password"}
    assert u2.hub("system.generateUserAuthToken", {"user_account_id": own, "password": "x"}) == {
        "error": "Error: banned -- please wait at least #{BAN_TIME_MS/1000}s before trying again"}
    bans = cocalc_server.ctx.caches["current.auth_token_bans"]
    bans.clock = lambda: time.monotonic() + 31  # the ban lasts 30 s
    assert u2.hub("system.generateUserAuthToken", {"user_account_id": own, "password": "x"}) == {
        "error": "Error: incorrect password"}
    admin_pw = cocalc_server.password
    t2 = u2.hub("system.generateUserAuthToken", {"user_account_id": cocalc_server.account_id, "password": admin_pw})
    assert store.auth_token_account(t2) == cocalc_server.account_id
    assert api.hub("system.generateUserAuthToken", {"user_account_id": "not-a-uuid"}) == {
        "error": 'error: invalid input syntax for type uuid: "not-a-uuid"'}


def test_manage_api_keys(cocalc_server, api, user2):
    u2, *_ = user2
    pid = api.hub("projects.createProject", {"title": "keys"})
    created = api.hub("system.manageApiKeys", {"action": "create", "project_id": pid, "name": "project-A-key"})
    assert len(created) == 1
    row = created[0]
    assert list(row) == ["id", "account_id", "expire", "created", "name", "last_active", "trunc", "secret"]
    assert row["secret"].startswith("sk-") and row["trunc"] == "sk-..." + row["secret"][-6:]
    assert row["created"].endswith("Z") and row["expire"] is None and row["last_active"] is None
    listed = api.hub("system.manageApiKeys", {"action": "get", "project_id": pid})
    assert [k["name"] for k in listed] == ["project-A-key"] and "secret" not in listed[0]
    assert list(listed[0]) == ["id", "account_id", "expire", "created", "name", "trunc", "last_active"]
    assert "project-A-key" not in [k["name"] for k in api.hub("system.manageApiKeys", {"action": "get"})]
    temp = api.hub("system.manageApiKeys", {"action": "create", "name": "temp-account-key"})[0]
    assert Raw(cocalc_server.url, temp["secret"]).hub("system.test")["account_id"] == cocalc_server.account_id
    assert api.hub("system.manageApiKeys", {"action": "get", "id": temp["id"]})[0]["name"] == "temp-account-key"
    assert api.hub("system.manageApiKeys", {"action": "edit", "id": temp["id"], "name": "renamed"}) is None
    assert api.hub("system.manageApiKeys", {"action": "get", "id": temp["id"]})[0]["name"] == "renamed"
    assert api.hub("system.manageApiKeys", {"action": "edit", "id": 999999, "name": "x"}) == {
        "error": "Error: no api key with id 999999"}
    assert api.hub("system.manageApiKeys", {"action": "delete", "id": temp["id"]}) is None
    # the lookup cache is off by default: a deleted key stops working at once
    assert Raw(cocalc_server.url, temp["secret"]).hub("system.test") == {"error": NOT_SIGNED_IN}
    assert api.hub("system.manageApiKeys", {"action": "delete", "id": 999999}) is None
    assert api.hub("system.manageApiKeys", {"action": "frobnicate"}) is None
    assert api.hub("system.manageApiKeys") is None
    assert u2.hub("system.manageApiKeys", {"action": "get", "project_id": pid}) == {
        "error": "Error: user must be collaborator on project to manage project_id api keys"}


# ------------------------------------------------------------------ projects.*
def test_create_project_defaults_and_state(cocalc_server, api):
    store = cocalc_server.ctx.store
    pid = api.hub("projects.createProject")
    assert store.project(pid)["title"] == "No Title"
    pid2 = api.hub("projects.createProject", {"title": 12345, "description": "d"})
    assert (store.project(pid2)["title"], store.project(pid2)["description"]) == ("12345", "d")
    st = api.hub("projects.state", {"project_id": pid})
    assert list(st) == ["ip", "state", "time"] and st["state"] == "opened" and st["time"].endswith("Z")


def test_start_stop_touch_status(cocalc_server, api):
    pid = api.hub("projects.createProject", {"title": "life"})
    assert api.hub("projects.status", {"project_id": pid}) == {}
    assert api.hub("projects.start", {"project_id": pid}) is None
    assert api.hub("projects.state", {"project_id": pid})["state"] == "running"
    status = api.hub("projects.status", {"project_id": pid})
    assert set(status) == {"project.pid", "hub-server.port", "browser-server.port", "start_ts", "session_id"}
    assert api.hub("projects.start", {"project_id": pid}) is None
    assert api.hub("projects.stop", {"project_id": pid}) is None
    assert api.hub("projects.state", {"project_id": pid})["state"] == "opened"
    assert api.hub("projects.stop", {"project_id": pid}) is None
    assert api.hub("projects.touch", {"project_id": pid}) is None  # touch starts it
    assert api.hub("projects.state", {"project_id": pid})["state"] == "running"
    api.hub("projects.stop", {"project_id": pid})


@pytest.mark.parametrize("fn,what", [("start", "start it"), ("stop", "stop it"), ("touch", "touch it"),
                                     ("state", "get state"), ("status", "get status")])
def test_lifecycle_permission_texts(cocalc_server, api, user2, fn, what):
    u2, *_ = user2
    theirs = u2.hub("projects.createProject", {"title": "private"})
    assert api.hub(f"projects.{fn}", {"project_id": theirs}) == {"error": f"Error: must be collaborator on project to {what}"}
    assert api.hub(f"projects.{fn}", {"project_id": UNKNOWN_UUID}) == {"error": f"Error: must be collaborator on project to {what}"}
    assert api.hub(f"projects.{fn}", {"project_id": "not-a-uuid"}) == {"error": INVALID_UUIDS}
    assert api.hub(f"projects.{fn}") == {"error": INVALID_UUIDS}


def test_copy_path_between_projects(cocalc_server, api, user2):
    u2, *_ = user2
    a = api.hub("projects.createProject", {"title": "A"})
    b = api.hub("projects.createProject", {"title": "B"})
    theirs = u2.hub("projects.createProject", {"title": "private"})
    api.project(a, "system.writeTextFileToProject", {"path": "hello/world.txt", "content": "Hello\n"})
    assert api.hub("projects.copyPathBetweenProjects", {"src_project_id": a, "src_path": "hello/world.txt",
                                                        "target_project_id": b, "target_path": "copied/world.txt"}) is None
    assert api.project(b, "system.readTextFileFromProject", {"path": "copied/world.txt"}) == "Hello\n"
    assert api.hub("projects.copyPathBetweenProjects", {"src_project_id": a, "src_path": "hello",
                                                        "target_path": "hello-copy"}) is None
    assert [e["name"] for e in api.project(a, "system.listing", {"path": "hello-copy"})] == ["world.txt"]
    home = str(cocalc_server.ctx.store.home(a).resolve())
    assert api.hub("projects.copyPathBetweenProjects", {"src_project_id": a, "src_path": "does/not/exist.txt",
                                                        "target_project_id": b}) == {
        "error": f"Error: ENOENT: no such file or directory, stat '{home}/does/not/exist.txt'"}
    assert api.hub("projects.copyPathBetweenProjects", {"src_project_id": a, "target_project_id": b}) == {
        "error": "Error: path must be specified"}
    assert api.hub("projects.copyPathBetweenProjects", {"src_project_id": theirs, "src_path": "x",
                                                        "target_project_id": b}) == {
        "error": "Error: user must be collaborator on source project"}
    assert api.hub("projects.copyPathBetweenProjects", {"src_project_id": a, "src_path": "hello/world.txt",
                                                        "target_project_id": theirs}) == {
        "error": "Error: user must be collaborator on target project"}
    assert api.hub("projects.copyPathBetweenProjects", {"src_project_id": "not-a-uuid", "src_path": "x"}) == {
        "error": INVALID_UUIDS}


def test_add_and_remove_collaborator(cocalc_server, api, user2):
    u2, acct2, *_ = user2
    me = cocalc_server.account_id
    pid = api.hub("projects.createProject", {"title": "shared"})
    mine_only = api.hub("projects.createProject", {"title": "mine"})
    assert api.hub("projects.addCollaborator", {"project_id": pid, "account_id": acct2}) == {
        "error": "TypeError: Cannot read properties of undefined (reading 'project_id')"}
    assert api.hub("projects.addCollaborator", {"opts": {"project_id": pid, "account_id": acct2}}) == {"project_id": [pid]}
    assert api.hub("projects.addCollaborator", {"opts": {"project_id": pid, "account_id": acct2}}) == {"project_id": [pid]}
    assert u2.hub("projects.state", {"project_id": pid})["state"] == "opened"
    assert api.hub("projects.addCollaborator", {"opts": {"project_id": pid, "account_id": UNKNOWN_UUID}}) == {"project_id": [pid]}
    assert cocalc_server.ctx.store.group(pid, UNKNOWN_UUID) == "collaborator"
    assert u2.hub("projects.addCollaborator", {"opts": {"project_id": mine_only, "account_id": acct2}}) == {
        "error": f'Error: cannot add self to "{mine_only}" -- must be an admin'}
    assert u2.hub("projects.removeCollaborator", {"opts": {"project_id": pid, "account_id": me}}) == {
        "error": "OwnershipError: Cannot remove an owner. Demote to collaborator first."}
    assert u2.hub("projects.removeCollaborator", {"opts": {"project_id": mine_only, "account_id": me}}) == {
        "error": "Error: user must be a collaborator"}
    assert api.hub("projects.removeCollaborator", {"project_id": pid, "account_id": acct2}) == {
        "error": "TypeError: Cannot read properties of undefined (reading 'project_id')"}
    assert api.hub("projects.removeCollaborator", {"opts": {"project_id": pid, "account_id": acct2}}) is None
    assert api.hub("projects.removeCollaborator", {"opts": {"project_id": pid, "account_id": acct2}}) is None
    # lookup cache off: the removed user loses access at once
    assert u2.hub("projects.state", {"project_id": pid}) == {"error": "Error: must be collaborator on project to get state"}


def test_lookup_cache_reproduces_cocalc_com_when_enabled(cocalc_server, api, user2):
    u2, acct2, *_ = user2
    pid = api.hub("projects.createProject", {"title": "cached"})
    api.hub("projects.addCollaborator", {"opts": {"project_id": pid, "account_id": acct2}})
    temp = api.hub("system.manageApiKeys", {"action": "create", "name": "cached-key"})[0]
    ctx = cocalc_server.ctx
    ctx.lookup_cache = True
    try:
        assert Raw(cocalc_server.url, temp["secret"]).hub("system.test")["account_id"] == cocalc_server.account_id
        assert u2.hub("projects.state", {"project_id": pid})["state"] == "opened"
        api.hub("system.manageApiKeys", {"action": "delete", "id": temp["id"]})
        api.hub("projects.removeCollaborator", {"opts": {"project_id": pid, "account_id": acct2}})
        # as recorded right after the change: both still work
        assert Raw(cocalc_server.url, temp["secret"]).hub("system.test")["account_id"] == cocalc_server.account_id
        assert u2.hub("projects.state", {"project_id": pid})["state"] == "opened"
    finally:
        ctx.lookup_cache = False
        ctx.caches.pop("current.keys", None)
        ctx.caches.pop("current.collab", None)
    assert Raw(cocalc_server.url, temp["secret"]).hub("system.test") == {"error": NOT_SIGNED_IN}


def test_delete_project(cocalc_server, api, user2):
    u2, *_ = user2
    store = cocalc_server.ctx.store
    pid = api.hub("projects.createProject", {})
    api.hub("projects.start", {"project_id": pid})
    assert api.hub("projects.deleteProject", {"project_id": pid}) is None
    assert store.project(pid)["deleted"] == 1
    assert api.hub("projects.state", {"project_id": pid})["state"] == "opened"  # stopped first
    assert api.hub("projects.deleteProject", {"project_id": pid}) is None
    assert api.hub("projects.deleteProject", {"project_id": "not-a-uuid"}) == {"error": "Error: project_id must be a valid UUID"}
    assert api.hub("projects.deleteProject", {"project_id": UNKNOWN_UUID}) == {
        "error": f"FATAL: unknown project_id '{UNKNOWN_UUID}'"}
    mine = api.hub("projects.createProject", {})
    assert u2.hub("projects.deleteProject", {"project_id": mine}) == {"error": "Error: must be an owner to delete a project"}
    theirs = u2.hub("projects.createProject", {"title": "theirs"})
    assert api.hub("projects.deleteProject", {"project_id": theirs}) is None  # admins may


# ------------------------------------------------------------------ jupyter (org.*: test_conat_org.py)
def test_jupyter_kernels_and_execute_on_the_hub(api):
    pid = api.hub("projects.createProject", {"title": "jup"})
    assert [k["name"] for k in api.hub("jupyter.kernels", {"project_id": pid})] == ["python3"]
    out = api.hub("jupyter.execute", {"input": "print(1)\n2+3", "kernel": "python3", "project_id": pid})
    assert out["output"] == [{"name": "stdout", "text": "1\n"}, {"data": {"text/plain": "5"}}]
    assert out["created"].endswith("Z")


# ------------------------------------------------------------------ db.userQuery
def test_db_user_query(cocalc_server, api, user2):
    u2, acct2, *_ = user2
    me = cocalc_server.account_id
    pid = api.hub("projects.createProject", {"title": "Queried"})
    fields = {"project_id": None, "title": None, "state": None, "last_edited": None, "created": None,
              "deleted": None, "users": None}
    rows = api.hub("db.userQuery", {"query": {"projects": [fields]}})["projects"]
    row = next(r for r in rows if r["project_id"] == pid)
    assert row["title"] == "Queried" and row["users"] == {me: {"group": "owner"}}
    assert row["state"]["state"] == "opened" and "deleted" not in row  # null fields are left out
    assert api.hub("db.userQuery", {"query": {"projects": {"project_id": pid, "title": "Renamed"}}}) == {}
    assert api.hub("db.userQuery", {"query": {"projects": {"project_id": pid, "title": None}}}) == {
        "projects": {"project_id": pid, "title": "Renamed"}}
    assert api.hub("db.userQuery", {"query": {"accounts": {"account_id": None, "groups": None}}}) == {
        "accounts": {"account_id": me, "groups": ["admin"]}}
    assert u2.hub("db.userQuery", {"query": {"projects": {"project_id": pid, "title": "hacked"}}}) == {
        "error": "FATAL: user must be an admin"}
    assert api.hub("db.userQuery", {"query": {"no_such_table": {"x": None}}}) == {
        "error": "FATAL: get queries not allowed for table 'no_such_table'"}
    assert api.hub("db.userQuery", {}) == {"error": "TypeError: Cannot read properties of undefined (reading 'undefined')"}
    assert api.hub("db.userQuery", {"query": {"accounts": {"account_id": None}, "projects": {"project_id": pid, "title": None}}}) == {
        "error": "FATAL: must specify exactly one key in the query"}
    # options are ignored, as recorded (hub-db-userQuery-projects-list-limit)
    api.hub("projects.createProject", {"title": "another"})
    many = api.hub("db.userQuery", {"query": {"projects": [{"project_id": None}]}, "options": [{"limit": 1}]})
    assert len(many["projects"]) >= 2


def test_banned_accounts_keys_are_refused(cocalc_server):
    account_id, key, *_ = second_user(cocalc_server)
    u = Raw(cocalc_server.url, key)
    assert u.hub("system.test")["account_id"] == account_id
    cocalc_server.ctx.store.update_account(account_id, banned=1)
    assert u.hub("system.test") == {"error": NOT_SIGNED_IN}
    assert u.project(UNKNOWN_UUID, "system.ping") == {"error": "must sign in as project or account"}
