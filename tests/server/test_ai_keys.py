"""cocalc.ai keys on the local server: format, storage, scope rules, expiry, and LocalServer's
``create_key`` (texts from cocalc-ai's api-key-scope.ts / manage.ts and the recordings)."""

import re
import sqlite3
import time

import pytest
import requests

from cocalc_magic.server import LocalServer



@pytest.fixture
def cocalc_server(cocalc_servers):
    """The session's ai server (the testing plugin's, as ``cocalc_server`` parametrised with "ai")."""
    return cocalc_servers("ai")

ALL = ["account:read", "project:create", "project:list", "project:read", "project:write", "file:read",
       "file:write", "project:exec", "codex:run"]


def hub(srv, key, name, *args):
    return requests.post(srv.url + "/api/conat/hub", json={"name": name, "args": list(args)},
                         auth=(key, ""), timeout=30).json()


def test_the_first_key_has_every_capability_on_the_first_project(cocalc_server):
    srv = cocalc_server
    assert re.fullmatch(r"sk-cc-v2\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}", srv.api_key)
    assert srv.project_id and srv.ctx.store.project(srv.project_id)["title"]
    row = srv.ctx.store.query_one("SELECT * FROM ai_api_keys WHERE key_id=?", (srv.api_key.split(".")[1],))
    assert row["capabilities"] == '["' + '", "'.join(ALL) + '"]'
    assert srv.project_id in row["allowed_project_ids"]
    assert srv.env()["COCALC_PROJECT_ID"] == srv.project_id


def test_secrets_are_stored_hashed_only(cocalc_server):
    key = cocalc_server.create_key(["account:read"], [])
    db = sqlite3.connect(cocalc_server.data_dir / "cocalc.sqlite3")
    dump = "\n".join(db.iterdump())
    db.close()
    assert key.split(".")[2] not in dump and cocalc_server.api_key.split(".")[2] not in dump
    assert key.split(".")[1] in dump  # the key id is the lookup, as in cocalc-ai


def test_create_key_refuses_what_cocalc_ai_refuses(cocalc_server):
    srv = cocalc_server
    with pytest.raises(ValueError, match="^API keys with project, file, Codex, or exec capabilities must include "
                                         "at least one allowed project id$"):
        srv.create_key(["file:read"], [])
    with pytest.raises(ValueError, match=r"^invalid API key capability 'project:admin'$"):
        srv.create_key(["project:admin"])
    with pytest.raises(ValueError, match=r"^invalid allowed project id 'nope'$"):
        srv.create_key(["project:exec"], ["nope"])
    with pytest.raises(ValueError, match="^API keys must have at least one explicit capability$"):
        srv.create_key([], [])


def test_each_capability_is_needed_and_only_on_allowed_projects(cocalc_server):
    srv = cocalc_server
    names = hub(srv, srv.create_key(["project:list"], []), "system.getNames", [srv.account_id])
    assert names == {"error": "API key lacks required capability 'account:read'"}
    reader = srv.create_key(["account:read"], [])
    assert hub(srv, reader, "system.getNames", [srv.account_id])[srv.account_id]["display_name"]
    other = srv.ctx.store.create_project(srv.account_id, "other")
    scoped = srv.create_key(["project:read"], [other])
    assert hub(srv, scoped, "projects.getProjectState", {"project_id": other}) == {}
    assert hub(srv, scoped, "projects.getProjectState", {"project_id": srv.project_id}) == {
        "error": f"API key lacks required capability 'project:read' for project {srv.project_id}"}
    created = hub(srv, srv.create_key(["project:create"], []), "projects.createProject", {"title": "t"})
    assert srv.ctx.store.project(created)["title"] == "t"


def test_a_key_of_another_account_sees_only_its_own(cocalc_server):
    srv = cocalc_server
    store = srv.ctx.store
    other = store.create_account("someone@example.com", "pw-123456789", "Some", "One")
    theirs = store.create_project(other, "theirs")
    key = srv.create_key(["project:exec", "project:list"], [theirs, srv.project_id], account_id=other)
    r = requests.post(srv.url + "/api/conat/project", json={"project_id": srv.project_id, "name": "system.ping"},
                      auth=(key, ""), timeout=30).json()
    assert r == {"error": "user must be a collaborator on the project"}
    listed = requests.post(srv.url + "/api/v2/projects/get", json={}, auth=(key, ""), timeout=30).json()
    assert [p["project_id"] for p in listed] == [theirs]


def test_expired_and_malformed_keys_are_not_signed_in(cocalc_server):
    srv = cocalc_server
    key = srv.create_key(["account:read"], [], expire_s=0.5)
    assert hub(srv, key, "system.ping")["now"] > 0
    time.sleep(0.6)
    not_signed_in = {"error": "must be signed in and MUST provide an api key (cookies are not allowed)"}
    assert hub(srv, key, "system.ping") == not_signed_in
    assert srv.ctx.store.query_one("SELECT * FROM ai_api_keys WHERE key_id=?", (key.split(".")[1],)) is None
    legacy = "sk-cocalc-v2." + srv.api_key.split(".", 1)[1]  # the old prefix is parsed too
    assert hub(srv, legacy, "system.ping") == not_signed_in  # (its hash is of the sk-cc-v2 form)
    for bad in ("sk-cc-v2..x", "sk-cc-v2.onlyone", "sk-" + "a" * 22):
        assert hub(srv, bad, "system.ping") == not_signed_in


def test_create_key_is_only_for_the_ai_generation(tmp_path):
    with LocalServer(data_dir=tmp_path, api="current") as srv:
        with pytest.raises(ValueError, match="api='ai'"):
            srv.create_key()
        assert srv.project_id == "" and "COCALC_PROJECT_ID" not in srv.env()


def test_a_restart_keeps_the_project_and_makes_a_fresh_key(tmp_path):
    with LocalServer(data_dir=tmp_path, api="ai") as first:
        key, pid = first.api_key, first.project_id
        kept = first.create_key(["account:read"], [])
    saved = (tmp_path / "ai.json").read_text()
    assert oct((tmp_path / "ai.json").stat().st_mode & 0o777) == "0o600"
    assert pid in saved and key.split(".")[2] not in saved and key.split(".")[1] not in saved
    with LocalServer(data_dir=tmp_path, api="ai") as again:
        assert again.project_id == pid and again.api_key != key
        assert hub(again, again.api_key, "system.ping")["now"] > 0
        assert hub(again, key, "system.ping") == {
            "error": "must be signed in and MUST provide an api key (cookies are not allowed)"}
        assert hub(again, kept, "system.ping")["now"] > 0  # keys made with create_key stay


def test_demo_projects_are_in_the_first_keys_allowed_list(tmp_path):
    with LocalServer(data_dir=tmp_path, api="ai", demo=True) as srv:
        listed = requests.post(srv.url + "/api/v2/projects/get", json={}, auth=(srv.api_key, ""), timeout=30).json()
        assert len(listed) == 3
        for p in listed:
            assert hub(srv, srv.api_key, "projects.getProjectCreated", {"project_id": p["project_id"]}).endswith("Z")


def test_edit_key_changes_what_a_key_may_do(cocalc_server):
    srv = cocalc_server
    key = srv.create_key(["project:create", "project:exec"])
    p2 = hub(srv, key, "projects.createProject", {"title": "mine"})
    ping = {"project_id": p2, "name": "system.ping", "timeout": 200}
    r = requests.post(srv.url + "/api/conat/project", json=ping, auth=(key, ""), timeout=30).json()
    assert r == {"error": f"API key lacks required capability 'project:exec' for project {p2}"}
    srv.edit_key(key, add_projects=[p2])
    r = requests.post(srv.url + "/api/conat/project", json=ping, auth=(key, ""), timeout=30).json()
    assert "timeout" in r["error"] and "code='408'" in r["error"]  # allowed now; the project is not running
    srv.edit_key(key, capabilities=["project:create"])
    r = requests.post(srv.url + "/api/conat/project", json=ping, auth=(key, ""), timeout=30).json()
    assert r == {"error": f"API key lacks required capability 'project:exec' for project {p2}"}
    with pytest.raises(ValueError, match="invalid API key capability 'nope'"):
        srv.edit_key(key, capabilities=["nope"])
