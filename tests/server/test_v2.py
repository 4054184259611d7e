"""Conformance of the /api/v2 routes with the recorded exchanges (real-hub-transcripts.md §3)."""

import json

import pytest
import requests

from conat_client import UNKNOWN_UUID, Raw, project_key, second_user

pytestmark = pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)


@pytest.fixture
def anon(cocalc_server):
    return Raw(cocalc_server.url, None)


@pytest.fixture
def user2(cocalc_server):
    account_id, key, *_ = second_user(cocalc_server)
    return Raw(cocalc_server.url, key), account_id


@pytest.fixture
def pid(api):
    return api.v2("projects/create", {"title": "Project B (v2)", "description": "created via v2"})["project_id"]


def test_post_only_and_unknown_routes(cocalc_server):
    r = requests.get(cocalc_server.url + "/api/v2/projects/get", auth=(cocalc_server.api_key, ""), timeout=10)
    assert (r.status_code, r.json()) == (405, {"message": "Method not allowed."})
    r = requests.post(cocalc_server.url + "/api/v2/projects/nonexistent-endpoint", json={},
                      auth=(cocalc_server.api_key, ""), timeout=10)
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/html")


def test_body_limit_and_invalid_json(cocalc_server):
    auth = (cocalc_server.api_key, "")
    r = requests.post(cocalc_server.url + "/api/v2/projects/get", json={"x": "y" * (1024 * 1024)}, auth=auth, timeout=10)
    assert (r.status_code, r.text) == (413, "Body exceeded 1mb limit")
    r = requests.post(cocalc_server.url + "/api/v2/projects/get", data="{", auth=auth, timeout=10,
                      headers={"Content-Type": "application/json"})
    assert (r.status_code, r.text) == (400, "Invalid JSON")


def test_projects_get_create_get_one(cocalc_server, api, anon, user2, pid):
    listed = api.v2("projects/get")
    assert {"project_id": pid, "title": "Project B (v2)", "description": "created via v2", "name": None} in listed
    assert listed[0]["project_id"] == pid  # newest first
    assert len(api.v2("projects/get", {"limit": 1})) == 1
    assert anon.v2("projects/get") == {"error": "Must be signed in."}
    assert Raw(cocalc_server.url, "sk-unknownunknownunk000001").v2("projects/get") == {"error": "Must be signed in."}
    u2, acct2 = user2
    assert u2.v2("projects/get", {"account_id": cocalc_server.account_id}) == {
        "error": "The `account_id` field may only be specified by account administrators."}
    theirs = u2.v2("projects/create", {"title": "theirs"})["project_id"]
    assert [p["project_id"] for p in api.v2("projects/get", {"account_id": acct2})] == [theirs]
    assert Raw(cocalc_server.url, project_key(cocalc_server, pid)).v2("projects/get") == []
    assert anon.v2("projects/create", {"title": "x"}) == {"error": "user must be signed in"}
    one = u2.v2("projects/get-one")
    assert one == {"project_id": theirs, "title": "theirs", "description": "", "name": None}
    acct3, key3, *_ = second_user(cocalc_server, "New", "Person")
    fresh = Raw(cocalc_server.url, key3).v2("projects/get-one")
    assert fresh["title"] == "Untitled Project" and cocalc_server.ctx.store.group(fresh["project_id"], acct3) == "owner"
    assert anon.v2("projects/get-one") == {"error": "getOneProject -- user must be authenticated"}
    # deleted and hidden projects are left out
    api.hub("projects.deleteProject", {"project_id": pid})
    assert pid not in [p["project_id"] for p in api.v2("projects/get")]


def test_remember_me_cookie_authenticates(cocalc_server, user2):
    _, acct2 = user2
    cookie = cocalc_server.ctx.store.create_session(acct2, 3600)
    r = requests.post(cocalc_server.url + "/api/v2/accounts/profile", json={}, cookies={"remember_me": cookie}, timeout=10)
    profile = r.json()["profile"]
    assert list(profile) == ["account_id", "first_name", "last_name", "name", "is_admin", "is_partner",
                             "is_anonymous", "email_address"]
    assert (profile["account_id"], profile["is_admin"]) == (acct2, False)


def test_start_stop_touch(cocalc_server, api, anon, user2, pid):
    assert api.v2("projects/start", {"project_id": pid}) == {"status": "ok"}
    assert api.hub("projects.state", {"project_id": pid})["state"] == "running"
    assert api.v2("projects/stop", {"project_id": pid}) == {"status": "ok"}
    assert api.hub("projects.state", {"project_id": pid})["state"] == "opened"
    assert api.v2("projects/touch", {"project_id": pid}) == {}
    assert api.hub("projects.state", {"project_id": pid})["state"] == "running"
    u2, _ = user2
    for route, verb in (("start", "start"), ("stop", "stop"), ("touch", "stop")):
        assert api.v2(f"projects/{route}", {"project_id": "not-a-uuid"}) == {"error": "project_id must be a valid uuid"}
        assert api.v2(f"projects/{route}", {}) == {"error": "project_id must be a valid uuid"}
        assert anon.v2(f"projects/{route}", {"project_id": pid}) == {"error": "must be signed in"}
        assert u2.v2(f"projects/{route}", {"project_id": pid}) == {"error": f"must be a collaborator to {verb} project"}
        assert api.v2(f"projects/{route}", {"project_id": UNKNOWN_UUID}) == {"error": f"must be a collaborator to {verb} project"}
    api.v2("projects/stop", {"project_id": pid})


def test_update_and_delete(cocalc_server, api, anon, user2, pid):
    store = cocalc_server.ctx.store
    assert api.v2("projects/update", {"project_id": pid, "title": "Renamed", "description": "new"}) == {"status": "ok"}
    assert (store.project(pid)["title"], store.project(pid)["description"]) == ("Renamed", "new")
    assert anon.v2("projects/update", {"project_id": pid, "title": "x"}) == {"error": "Must be signed in to update project."}
    u2, _ = user2
    assert u2.v2("projects/update", {"project_id": pid, "title": "hacked"}) == {"error": "FATAL: user must be an admin"}
    assert u2.v2("projects/delete", {"project_id": pid}) == {"error": "must be an owner to delete a project"}
    assert anon.v2("projects/delete", {"project_id": pid}) == {"error": "must be signed in"}
    assert api.v2("projects/delete", {"project_id": "nope"}) == {"error": "project_id must be a valid UUID"}
    assert api.v2("projects/delete", {"project_id": pid}) == {"status": "ok"}
    assert store.project(pid)["deleted"] == 1


def test_write_text_file_and_call(cocalc_server, api, anon, user2, pid):
    note = "# Written via api/v2\n\nhello\n"
    assert api.v2("projects/write-text-file", {"project_id": pid, "path": "v2dir/note.md", "content": note}) == {"status": "ok"}
    assert api.v2("projects/write-text-file", {"project_id": pid, "path": "v2dir/a/b/c.txt", "content": "deep\n"}) == {"status": "ok"}
    assert (cocalc_server.ctx.store.home(pid) / "v2dir/a/b/c.txt").read_text() == "deep\n"
    assert api.v2("projects/write-text-file", {"project_id": pid, "content": "x"}) == {"error": "must specify a 'path'"}
    assert api.v2("projects/write-text-file", {"project_id": pid, "path": "a.txt"}) == {"error": "must include content of file"}
    assert api.v2("projects/write-text-file", {"project_id": "x", "path": "a", "content": ""}) == {
        "error": "must set project_id to a valid uuid"}
    assert anon.v2("projects/write-text-file", {"project_id": pid, "path": "a", "content": ""}) == {"error": "must be authenticated"}
    u2, _ = user2
    assert u2.v2("projects/write-text-file", {"project_id": pid, "path": "x.txt", "content": "x"}) == {
        "error": "callProject -- authenticated user must be a collaborator on the project"}
    out = api.v2("projects/call", {"project_id": pid, "mesg": {"event": "read_text_file_from_project", "path": "v2dir/note.md"}})
    assert list(out) == ["event", "id", "content"]
    assert (out["event"], out["content"]) == ("text_file_read_from_project", note)
    assert u2.v2("projects/call", {"project_id": pid, "mesg": {"event": "read_text_file_from_project", "path": "x"}}) == {
        "error": "callProject -- authenticated user must be a collaborator on the project"}


def test_exec(cocalc_server, api, anon, pid):
    api.v2("projects/write-text-file", {"project_id": pid, "path": "v2dir/note.md", "content": "hello\n"})
    assert api.v2("exec", {"project_id": pid, "command": "cat", "args": ["v2dir/note.md"]}) == {
        "stdout": "hello\n", "stderr": "", "exit_code": 0, "type": "blocking"}
    assert list(api.v2("exec", {"project_id": pid, "command": "echo", "args": ["hi"]})) == ["stdout", "stderr", "exit_code", "type"]
    assert api.v2("exec", {"project_id": pid, "command": "exit 7", "bash": True}) == {"error": (
        "Error executing command 'exit 7' with args 'undefined' -- command 'exit 7' exited with nonzero code 7 -- stderr=''")}
    assert api.v2("exec", {"project_id": pid, "command": "exit 7", "bash": True, "err_on_exit": False}) == {
        "stdout": "", "stderr": "", "exit_code": 7, "type": "blocking"}
    assert api.v2("exec", {"project_id": pid}) == {"error": (
        "Error executing command 'undefined' with args 'undefined' -- TypeError: Cannot read properties of undefined (reading 'split')")}
    out = api.v2("exec", {"project_id": pid, "command": "sleep 5", "bash": True, "timeout": 1})
    assert out["error"].startswith("Error executing command 'sleep 5' with args 'undefined' -- killed command 'bash ")
    assert api.v2("exec", {"project_id": UNKNOWN_UUID, "command": "ls"}) == {"error": "user must be a collaborator on the project"}
    assert anon.v2("exec", {"project_id": pid, "command": "ls"}) == {"error": "must be signed in"}
    pk = Raw(cocalc_server.url, project_key(cocalc_server, pid))
    assert pk.v2("exec", {"project_id": pid, "command": "cat", "args": ["v2dir/note.md"]})["stdout"] == "hello\n"
    assert pk.v2("exec", {"command": "pwd"}) == {"error": "invalid account_id or project_id -- all must be valid uuid's"}
    job = api.v2("exec", {"project_id": pid, "command": "sleep 1; echo v2-async", "bash": True, "async_call": True})
    assert list(job) == ["stdout", "stderr", "exit_code", "type", "job_id", "start", "status", "pid"]
    done = api.v2("exec", {"project_id": pid, "async_get": job["job_id"], "async_await": True})
    assert list(done) == ["stdout", "stderr", "exit_code", "type", "job_id", "start", "status", "elapsed_s", "pid"]
    assert (done["stdout"], done["status"]) == ("v2-async\n", "completed")


def test_user_query(cocalc_server, api, anon, user2, pid):
    me = cocalc_server.account_id
    out = api.v2("user-query", {"query": {"accounts": {"account_id": None, "first_name": None}}})
    assert out == {"query": {"accounts": {"account_id": me, "first_name": "Local"}}}
    assert api.v2("user-query", {"query": {"projects": {"project_id": pid, "title": "Set via v2"}}}) == {"query": {}}
    assert api.v2("user-query", {"query": {"projects": {"project_id": pid, "title": None}}}) == {
        "query": {"projects": {"project_id": pid, "title": "Set via v2"}}}
    assert api.v2("user-query", {"query": {"no_such_table": {"x": None}}}) == {
        "error": "FATAL: get queries not allowed for table 'no_such_table'"}
    u2, _ = user2
    assert u2.v2("user-query", {"query": {"projects": {"project_id": pid, "title": "hacked"}}}) == {
        "error": "FATAL: user must be an admin"}
    assert anon.v2("user-query", {"query": {"accounts": {"account_id": None}}}) == {
        "error": "FATAL: anonymous get queries not allowed for table 'accounts'"}
    assert api.v2("user-query") == {"error": "Cannot read properties of undefined (reading 'undefined')"}


def test_collaborators(cocalc_server, api, anon, user2, pid):
    me = cocalc_server.account_id
    u2, acct2 = user2
    assert api.v2("projects/collaborators/list", {"project_id": pid}) == [
        {"account_id": me, "first_name": "Local", "last_name": "Admin"}]
    assert u2.v2("projects/collaborators/list", {"project_id": pid}) == []
    assert api.v2("projects/collaborators/list", {"project_id": "not-a-uuid"}) == {"error": "project_id must be a uuid"}
    assert anon.v2("projects/collaborators/list", {"project_id": pid}) == {"error": "must be signed in"}
    assert u2.v2("projects/collaborators/add", {"project_id": pid, "account_id": acct2}) == {
        "error": f'cannot add self to "{pid}" -- must be an admin'}
    assert anon.v2("projects/collaborators/add", {"project_id": pid, "account_id": acct2}) == {"error": "must be signed in"}
    assert api.v2("projects/collaborators/add", {"project_id": pid, "account_id": acct2}) == {"status": "ok"}
    assert {c["account_id"] for c in u2.v2("projects/collaborators/list", {"project_id": pid})} == {me, acct2}
    assert u2.v2("projects/collaborators/remove", {"project_id": pid, "account_id": me}) == {
        "error": "Cannot remove an owner. Demote to collaborator first."}
    assert api.v2("projects/collaborators/remove", {"project_id": "not-a-uuid", "account_id": acct2}) == {}
    assert api.v2("projects/collaborators/remove", {"project_id": pid, "account_id": acct2}) == {"status": "ok"}
    other = api.v2("projects/create", {"title": "other"})["project_id"]
    assert u2.v2("projects/collaborators/remove", {"project_id": other, "account_id": me}) == {
        "error": f"user {acct2} does not have write access to project {other}"}


def test_accounts(cocalc_server, api, anon, user2):
    me = cocalc_server.account_id
    _, acct2 = user2
    names = api.v2("accounts/get-names", {"account_ids": [me, acct2, UNKNOWN_UUID]})["names"]
    assert names[acct2] == {"first_name": "Alice", "last_name": "Example", "profile": None}
    assert names[UNKNOWN_UUID] == {"first_name": "Deleted", "last_name": "User"}
    assert api.v2("accounts/get-names", {"account_ids": ["not-a-uuid"]}) == {
        "error": 'invalid input syntax for type uuid: "not-a-uuid"'}
    assert api.v2("accounts/get-names") == {"error": "account_ids is not iterable"}
    assert anon.v2("accounts/get-names", {"account_ids": [me]}) == {"error": "must be signed in"}
    assert api.v2("accounts/profile")["profile"]["is_admin"] is True
    assert anon.v2("accounts/profile") == {"profile": {}}
    assert api.v2("accounts/profile", {"account_id": acct2})["profile"]["first_name"] == "Alice"
    found = anon.v2("accounts/search", {"query": "Alice"})
    assert acct2 in [u["account_id"] for u in found] and all("email_address" not in u for u in found)


def test_customize_needs_no_auth(cocalc_server, anon):
    full = anon.v2("customize")
    assert full["siteURL"] == cocalc_server.url and "siteName" in full
    assert anon.v2("customize", {"fields": ["siteName"]}) == {"siteName": full["siteName"]}
    assert json.loads(json.dumps(full)) == full
