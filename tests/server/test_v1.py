"""Conformance of the local server's API v1 with a self-hosted CoCalc of 2024.

Shapes and texts come from reference/real-v1-transcripts.md (recorded) and the facts sheet.
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid

import pytest
import requests

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class Api:
    """A bare v1 caller: what a user's ``requests`` code would send."""

    def __init__(self, url: str, key: str | None):
        self.url, self.key = url, key

    def post(self, _event: str, _form: bool = False, _auth: str = "basic", **fields) -> requests.Response:
        event, form, auth = _event, _form, _auth
        headers = {}
        kw: dict = {"timeout": 30}
        if self.key is not None:
            if auth == "basic":
                kw["auth"] = (self.key, "")
            else:
                headers["Authorization"] = f"Bearer {self.key}"
        if form:
            kw["data"] = fields
        else:
            kw["json"] = fields
        return requests.post(f"{self.url}/api/v1/{event}", headers=headers, **kw)

    def call(self, _event: str, _form: bool = False, **fields) -> dict:
        r = self.post(_event, _form, **fields)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def srv(cocalc_servers):
    return cocalc_servers("v1")


@pytest.fixture
def admin(srv) -> Api:
    return Api(srv.url, srv.api_key)


def new_user(admin: Api, first="Jane", last="Roe") -> tuple[Api, str, str, str]:
    """A fresh account: (api, account_id, email, password)."""
    email = f"u-{uuid.uuid4().hex[:10]}@m.local"
    password = "pw-" + uuid.uuid4().hex[:10]
    r = admin.call("create_account", first_name=first, last_name=last, email_address=email,
                   password=password, agreed_to_terms=True, get_api_key=True)
    assert r["event"] == "account_created", r
    return Api(admin.url, r["api_key"]), r["account_id"], email, password


@pytest.fixture
def user(admin):
    return new_user(admin)


def new_project(api: Api, title="P", description="D") -> str:
    r = api.call("create_project", title=title, description=description)
    assert r["event"] == "project_created"
    return r["project_id"]


# ------------------------------------------------------------------------- transport
def test_ping_basic_bearer_form_and_id_echo(admin):
    for auth in ("basic", "bearer"):
        r = admin.call("ping") if auth == "basic" else admin.post("ping", _auth="bearer").json()
        assert list(r) == ["event", "id", "now"] and r["event"] == "pong"
        assert UUID_RE.match(r["id"]) and ISO_RE.match(r["now"])
    assert admin.call("ping", _form=True)["event"] == "pong"
    r = admin.call("ping", id="11111111-2222-3333-4444-555555555555")
    assert r["id"] == "11111111-2222-3333-4444-555555555555"
    r = requests.post(f"{admin.url}/api/v1/ping", auth=(admin.key, ""))  # curl -X POST, no body
    assert r.status_code == 200 and r.json()["event"] == "pong"
    r = requests.post(f"{admin.url}/api/v1/x/ping", auth=(admin.key, ""))  # the last segment is the event
    assert r.json()["event"] == "pong"


@pytest.mark.parametrize(
    "headers, text",
    [
        ({}, "You must provide authentication via an API key."),
        ({"Authorization": "Token abc"}, "Unknown authorization type 'Token'"),
        ({"Authorization": "Bearer sk_nope"}, "No account found. Is your API key wrong?"),
        ({"Authorization": "Basic " + "c2stYWJjZGVmZ2hpams6"}, "No account found. Is your API key wrong?"),
    ],
)
def test_key_errors(srv, headers, text):
    r = requests.post(f"{srv.url}/api/v1/ping", json={}, headers=headers)
    assert (r.status_code, r.json()) == (400, {"error": text})


def test_a_wrong_key_that_looks_real_is_refused(admin):
    r = Api(admin.url, admin.key[:-8] + "zzzz" + admin.key[-4:]).post("ping")
    assert (r.status_code, r.json()) == (400, {"error": "No account found. Is your API key wrong?"})


def test_dispatcher_errors(admin):
    cases = [
        ("no_such_thing", {}, "unknown endpoint 'no_such_thing'"),
        ("revoke_auth_token", {"auth_token": "x" * 24}, "unknown endpoint 'revoke_auth_token'"),
        ("delete_account", {"account_id": str(uuid.uuid4())}, "endpoint 'delete_account' is not part of the HTTP API"),
        ("forgot_password", {"email_address": "x@y.z"}, "endpoint 'forgot_password' is not part of the HTTP API"),
        ("ping", {"event": "ping"}, "invalid parameters 'Error: ValueError: must not define 'event' when calling "
                                    "message creation function (opts={\"event\":\"ping\"}, obj={\"event\":\"ping\"})'"),
        ("ping", {"bogus": 1}, "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'bogus' '"),
        ("write_text_file_to_project", {"path": "a.txt", "content": "x"},
         "invalid parameters 'Error: misc.defaults -- TypeError: property 'project_id' must be specified: '"),
        ("copy_path_status", {"id": str(uuid.uuid4()), "copy_path_id": str(uuid.uuid4())},
         "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'id' '"),
        ("create_support_ticket", {"email_address": "jd@example.com", "subject": "s", "body": "b", "url": "https://x"},
         "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'url' '"),
        ("query", {"query": {"accounts": {"account_id": None}}, "multi_response": True},
         "ReferenceError: otps is not defined"),
    ]
    for event, body, text in cases:
        for form in (False, True):
            if form and any(isinstance(v, (dict, bool)) for v in body.values()):
                continue
            r = admin.post(event, form, **body)
            assert (r.status_code, r.json()) == (400, {"error": text}), (event, form)


def test_null_counts_as_missing_for_required_fields(admin):
    r = admin.post("project_exec", project_id=None, command="ls")
    assert r.status_code == 400 and "property 'project_id' must be specified" in r.json()["error"]


def test_get_is_not_routed(admin):
    r = requests.get(f"{admin.url}/api/v1/ping", auth=(admin.key, ""))
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/html")


def test_body_limits(admin, user):
    api, _, _, _ = user
    pid = new_project(api)
    # JSON: 100 kB including the envelope
    envelope = len(('{"project_id": "%s", "path": "f.txt", "content": ""}' % pid).encode())
    fits = "x" * (102_400 - envelope)
    assert api.call("write_text_file_to_project", project_id=pid, path="f.txt", content=fits)["event"] == "file_written_to_project"
    r = api.post("write_text_file_to_project", project_id=pid, path="f.txt", content=fits + "x")
    assert r.status_code == 413
    assert "102400 bytes" in r.json()["error"] and "too large" in r.json()["error"]
    # form: 1 MB
    big = "y" * 900_000
    assert api.call("write_text_file_to_project", _form=True, project_id=pid, path="g.txt", content=big)["event"] == "file_written_to_project"
    assert api.call("read_text_file_from_project", project_id=pid, path="g.txt")["content"] == big
    r = api.post("write_text_file_to_project", _form=True, project_id=pid, path="g.txt", content="y" * 1_000_001)
    assert r.status_code == 413 and "1000000 bytes" in r.json()["error"]


# ------------------------------------------------------------------------- accounts
def test_create_account_json_form_duplicate_and_issues(admin):
    _, acct, email, password = new_user(admin)
    assert UUID_RE.match(acct)
    email2 = f"jd-{uuid.uuid4().hex[:8]}@example.com"
    form = {"first_name": "John00", "last_name": "Doe00", "email_address": email2, "password": "xyzabc09090",
            "agreed_to_terms": "true"}
    r = admin.call("create_account", _form=True, **form)
    assert list(r) == ["event", "id", "account_id"] and r["event"] == "account_created"
    r = admin.call("create_account", _form=True, **form)
    assert r["event"] == "account_creation_failed"
    assert r["reason"] == {"email_address": "This e-mail address is already taken."}
    r = admin.call("create_account", _form=True, first_name="A", last_name="B",
                   email_address=f"nt-{uuid.uuid4().hex[:6]}@m.local", password="xyzabc09090")
    assert r["event"] == "account_created"  # agreeing to the terms is not required
    r = admin.call("create_account", email_address="not-an-email", password="123")
    assert r == {"event": "account_creation_failed", "id": r["id"],
                 "reason": {"email_address": "Email address does not appear to be valid.",
                            "password": "Password must be between 6 and 64 characters in length."}}


def test_new_account_key_works_and_is_the_new_account(admin):
    api, acct, _, _ = new_user(admin)
    r = api.call("query", query={"accounts": {"account_id": None, "first_name": None}})
    assert r["query"] == {"accounts": {"account_id": acct, "first_name": "Jane"}}


def test_get_usernames(admin):
    _, a1, _, _ = new_user(admin, "John", "Doe")
    _, a2, _, _ = new_user(admin, "Jane", "Roe")
    r = admin.call("get_usernames", account_ids=[a1, a2])
    assert r == {"event": "usernames", "id": r["id"],
                 "usernames": {a1: {"first_name": "John", "last_name": "Doe"}, a2: {"first_name": "Jane", "last_name": "Roe"}}}


def test_change_password_round_trip_and_wrong_old(admin):
    api, acct, email, password = new_user(admin)
    r = api.call("change_password", _form=True, account_id=acct, old_password=password, new_password=password + "-2")
    assert list(r) == ["event", "id"] and r["event"] == "changed_password"
    r = api.call("change_password", _form=True, account_id=acct, old_password="nope-nope", new_password=password)
    assert r["event"] == "changed_password" and r["error"] == "invalid old password"
    # the new password is the one that counts now
    assert api.call("user_auth", account_id=acct, password=password + "-2")["event"] == "user_auth_token"
    r = api.call("change_password", account_id=acct, old_password=password + "-2", new_password="short")
    assert r["error"] == {"new_password": "Password must be between 6 and 64 characters in length."}
    # the key's owner is the account changed, whatever account_id the message names
    _, other_acct, _, other_pw = new_user(admin)
    api.call("change_password", account_id=other_acct, old_password=password + "-2", new_password="brand-new-pw")
    assert api.call("user_auth", account_id=acct, password="brand-new-pw")["event"] == "user_auth_token"
    assert api.call("user_auth", account_id=other_acct, password=other_pw)["event"] == "user_auth_token"


def test_change_email_address(admin):
    api, acct, email, password = new_user(admin)
    _, _, taken, _ = new_user(admin)
    new = f"new-{uuid.uuid4().hex[:8]}@email.com"
    r = api.call("change_email_address", _form=True, account_id=acct, password=password, new_email_address=new)
    assert r == {"event": "changed_email_address", "id": r["id"], "error": False}
    r = api.call("change_email_address", _form=True, account_id=acct, password=password, new_email_address=taken)
    assert r["error"] == "email_already_taken"
    r = api.call("change_email_address", _form=True, account_id=acct, password="bad", new_email_address="x" + new)
    assert r["error"] == "invalid_password"
    r = api.call("user_search", query=new)
    assert [x["account_id"] for x in r["results"]] == [acct]


def test_user_search_shapes_limit_and_cap(admin):
    last = "Zz" + uuid.uuid4().hex[:8]
    made = [new_user(admin, "Jane", last)[1] for _ in range(3)]
    api, _, email, _ = new_user(admin, "Jane", last)
    r = api.call("user_search", _form=True, query=f"Jane {last}", limit="3")
    assert r["event"] == "user_search_results" and len(r["results"]) == 3
    item = r["results"][0]
    assert list(item) == ["account_id", "first_name", "last_name", "name", "last_active", "created", "email_address_verified"]
    assert item["first_name"] == "Jane" and isinstance(item["created"], int)
    assert set(x["account_id"] for x in api.call("user_search", query=f"jane {last}")["results"]) >= set(made)
    r = api.call("user_search", query=email)
    assert list(r["results"][0]) == ["account_id", "first_name", "last_name", "name", "email_address",
                                     "last_active", "created", "email_address_verified"]
    assert r["results"][0]["email_address"] == email


def test_user_search_default_limit_20_and_non_admin_cap_50(admin, srv):
    last = "Many" + uuid.uuid4().hex[:6]
    store = srv.ctx.store
    for i in range(55):
        store.create_account(f"m{i}-{last}@m.local".lower(), None, "Many", last)
    api, _, _, _ = new_user(admin)
    assert len(api.call("user_search", query=f"Many {last}")["results"]) == 20
    assert len(api.call("user_search", query=f"Many {last}", limit=100)["results"]) == 50
    assert len(admin.call("user_search", query=f"Many {last}", limit=100)["results"]) == 55
    r = api.call("user_search", query="x", admin=True)
    assert r["event"] == "error"


# ------------------------------------------------------------------------- projects and query
def test_create_project_form_and_json(admin, user):
    api, acct, _, _ = user
    r = api.call("create_project", _form=True, title="SYNTHMON", description="Synthetic Monitoring")
    assert list(r) == ["event", "id", "project_id"] and UUID_RE.match(r["project_id"])
    pid2 = new_project(api, "TESTPROJECT 99", "No Description")
    r = api.call("query", query={"projects": {"project_id": r["project_id"], "title": None, "description": None}})
    assert r == {"query": {"projects": {"project_id": r["query"]["projects"]["project_id"], "title": "SYNTHMON",
                                        "description": "Synthetic Monitoring"}},
                 "multi_response": False, "event": "query", "id": r["id"]}
    assert list(r) == ["query", "multi_response", "event", "id"]
    lst = api.call("query", query={"projects": [{"project_id": None, "title": None, "description": None}]})
    assert [p["title"] for p in lst["query"]["projects"]] == ["TESTPROJECT 99", "SYNTHMON"]  # newest first
    assert lst["query"]["projects"][0]["project_id"] == pid2
    allp = api.call("query", query={"projects_all": [{"project_id": None, "title": None, "description": None}]})
    assert allp["query"]["projects_all"] == lst["query"]["projects"]


def test_query_by_title_users_and_sets(admin, user):
    api, acct, _, _ = user
    pid = new_project(api, "MY NEW PROJECT 2", "desc 2")
    r = api.call("query", query={"projects": {"project_id": None, "title": "MY NEW PROJECT 2", "description": "desc 2"}})
    assert r["query"]["projects"] == {"project_id": pid, "title": "MY NEW PROJECT 2", "description": "desc 2"}
    r = api.call("query", query={"projects": {"project_id": pid, "users": None}})
    assert r["query"] == {"projects": {"project_id": pid, "users": {acct: {"group": "owner"}}}}
    r = api.call("query", query={"projects": {"project_id": pid, "title": "REVISED TITLE", "description": "REVISED DESC"}})
    assert r == {"query": {}, "multi_response": False, "event": "query", "id": r["id"]}
    r = api.call("query", query={"projects": {"project_id": pid, "users": {acct: {"upgrades": {"cpu_shares": 1024}}}}})
    assert r["query"] == {}
    r = api.call("query", query={"projects": {"project_id": pid, "title": None, "users": None}})
    assert r["query"]["projects"] == {"project_id": pid, "title": "REVISED TITLE",
                                      "users": {acct: {"group": "owner", "upgrades": {"cpu_shares": 1024}}}}


def test_query_shapes_of_state_dates_and_deleted(admin, user, srv):
    api, acct, _, _ = user
    pid = new_project(api)
    r = api.call("query", query={"projects": [{"project_id": pid, "state": None, "last_edited": None,
                                               "created": None, "deleted": None}]})
    row = r["query"]["projects"][0]
    assert list(row["state"]) == ["time", "state"] and row["state"]["state"] == "opened"
    assert ISO_RE.match(row["last_edited"]) and ISO_RE.match(row["created"]) and "deleted" not in row
    api.call("query", query={"projects": {"project_id": pid, "deleted": True}})
    r = api.call("query", query={"projects_all": [{"project_id": pid, "deleted": None}]})
    assert r["query"]["projects_all"] == [{"project_id": pid, "deleted": True}]


def test_query_window_of_21_days_and_limit_100(admin, srv):
    api, acct, _, _ = new_user(admin)
    store = srv.ctx.store
    old = store.create_project(acct, "old one")
    store.update_project(old, last_edited=(time.time() - 22 * 86400) * 1000)
    for i in range(101):
        store.create_project(acct, f"p{i}")
    recent = api.call("query", query={"projects": [{"project_id": None, "title": None}]})["query"]["projects"]
    assert len(recent) == 100 and all(p["title"] != "old one" for p in recent)
    everything = api.call("query", query={"projects_all": [{"project_id": None, "title": None}]})["query"]["projects_all"]
    assert len(everything) == 102 and everything[-1]["title"] == "old one"


@pytest.mark.parametrize(
    "query, text",
    [
        ({"nosuchtable": {"x": None}}, "FATAL: get queries not allowed for table 'nosuchtable'"),
        ({"accounts": {"account_id": None}, "projects": {"project_id": None}}, "FATAL: must specify exactly one key in the query"),
        ({"projects": {"project_id": None, "no_such_field": None}}, "FATAL: user get query not allowed for projects.no_such_field"),
        ({"projects": {"project_id": "not-a-uuid", "title": "x"}}, 'postgresql error: invalid input syntax for type uuid: "not-a-uuid"'),
        ({"projects": "x"}, "FATAL: invalid user_query of 'projects' -- query must be an object"),
    ],
)
def test_query_errors(admin, query, text):
    r = admin.call("query", query=query)
    assert r == {"event": "error", "id": r["id"], "error": text}


def test_query_set_on_someone_elses_project_needs_admin(admin, user):
    api, _, _, _ = user
    other, _, _, _ = new_user(admin)
    pid = new_project(other)
    r = api.call("query", query={"projects": {"project_id": pid, "title": "hacked"}})
    assert r["error"] == "FATAL: user must be an admin"
    # and a get of it finds nothing
    assert api.call("query", query={"projects": {"project_id": pid, "title": None}})["query"] == {}


def test_accounts_row_get_and_set(admin, user):
    api, acct, email, _ = user
    r = api.call("query", query={"accounts": {"account_id": acct, "editor_settings": None}})
    es = r["query"]["accounts"]["editor_settings"]
    assert es["theme"] == "default" and es["tab_size"] == 4 and es["jupyter_classic"] is False
    r = api.call("query", query={"accounts": {"account_id": acct, "editor_settings": {"jupyter_classic": True}}})
    assert r["query"] == {}
    r = api.call("query", query={"accounts": {"account_id": acct, "editor_settings": None, "passports": None,
                                              "email_address": None, "groups": None}})
    row = r["query"]["accounts"]
    assert row["editor_settings"]["jupyter_classic"] is True and row["editor_settings"]["tab_size"] == 4
    assert row["passports"] == {} and row["email_address"] == email and row["groups"] == []
    api.call("query", query={"accounts": {"account_id": acct, "first_name": "Alice"}})
    assert admin.call("get_usernames", account_ids=[acct])["usernames"][acct]["first_name"] == "Alice"


def test_site_settings_admin_only(admin, user, srv):
    api, _, _, _ = user
    before = srv.ctx.store.setting("iframe_comm_hosts")  # the server is shared: put it back afterwards
    try:
        r = admin.call("query", query={"site_settings": {"name": "iframe_comm_hosts", "value": "example.com"}})
        assert r["query"] == {}
        r = admin.call("query", query={"site_settings": {"name": "iframe_comm_hosts", "value": None}})
        assert r["query"]["site_settings"] == {"name": "iframe_comm_hosts", "value": "example.com"}
        r = api.call("query", query={"site_settings": {"name": "iframe_comm_hosts", "value": None}})
        assert r["error"] == "FATAL: user must be an admin"
        r = api.call("query", query={"site_settings": {"name": "iframe_comm_hosts", "value": "evil.com"}})
        assert r["error"] == "FATAL: user must be an admin"
        assert srv.ctx.store.setting("iframe_comm_hosts") == "example.com"
    finally:
        srv.ctx.store.set_setting("iframe_comm_hosts", before)


def test_action_request_start_stop_restart(admin, user, srv):
    api, _, _, _ = user
    pid = new_project(api)

    def state():
        return api.call("query", query={"projects": {"project_id": pid, "state": None}})["query"]["projects"]["state"]["state"]

    def act(action):
        t = f"2024-01-01T00:00:{time.time() % 60:06.3f}Z"
        return api.call("query", query={"projects": {"project_id": pid, "action_request": {"action": action, "time": t}}})

    assert state() == "opened"
    assert act("start")["query"] == {}
    assert state() in ("starting", "running")
    deadline = time.time() + 10
    while state() != "running" and time.time() < deadline:
        time.sleep(0.05)
    assert state() == "running"
    act("stop")
    deadline = time.time() + 10
    while state() != "opened" and time.time() < deadline:
        time.sleep(0.05)
    assert state() == "opened"
    act("restart")
    deadline = time.time() + 10
    while state() != "running" and time.time() < deadline:
        time.sleep(0.05)
    assert state() == "running"
    ar = api.call("query", query={"projects": {"project_id": pid, "action_request": None}})["query"]["projects"]["action_request"]
    assert ar["action"] == "restart" and "started" in ar
    r = act("frobnicate")
    assert r["event"] == "error" and r["error"] == "FATAL: action 'frobnicate' not implemented"


# ------------------------------------------------------------------------- exec
@pytest.fixture
def proj(user):
    api, acct, _, _ = user
    pid = new_project(api)
    api.call("write_text_file_to_project", _form=True, project_id=pid, path="Assignments/A1/h1.txt", content="hello")
    return api, pid


def test_exec_recorded_shapes(proj, srv):
    api, pid = proj
    home = str(srv.ctx.store.home(pid).resolve())
    r = api.call("project_exec", _form=True, command="pwd", project_id=pid)
    assert r == {"event": "project_exec_output", "id": r["id"], "stdout": home + "\n", "stderr": "", "exit_code": 0}
    api.call("project_exec", command="mkdir", args=["Private"], project_id=pid)
    assert api.call("project_exec", _form=True, command="pwd", path="Private", project_id=pid)["stdout"] == home + "/Private\n"
    assert api.call("project_exec", command="echo", args=["xyz", "abc"], project_id=pid)["stdout"] == "xyz abc\n"
    r = api.call("project_exec", command="echo", args=["xyz", "abc"], max_output=3, project_id=pid)
    assert r["stdout"] == "xyz (truncated at 3 characters)"
    assert api.call("project_exec", command="echo xyz", max_output=3, project_id=pid)["stdout"] == "xyz (truncated at 3 characters)"
    assert api.call("project_exec", command="cat", args=["Assignments/A1/h1.txt"], project_id=pid)["stdout"] == "hello"
    r = api.call("project_exec", command="false", err_on_exit=False, project_id=pid)
    assert r == {"event": "project_exec_output", "id": r["id"], "stdout": "", "stderr": "", "exit_code": 1}


def test_exec_error_texts(proj):
    api, pid = proj
    r = api.call("project_exec", command="false", project_id=pid)
    assert r["event"] == "error" and r["error"] == (
        "Error executing command 'false' with args '' -- command 'false' (args=) exited with nonzero code 1 "
        "-- stderr='', undefined, undefined")
    r = api.call("project_exec", command="sleep 5", timeout=1, project_id=pid)
    tmp = re.escape(tempfile.gettempdir())  # the server's tmpdir(), as Node's honours TMPDIR
    assert re.fullmatch(rf"Error executing command 'sleep 5' with args '' -- killed command 'bash {tmp}/cocalc-[^/]+/a\.sh', "
                        r"undefined, undefined", r["error"]), r
    t0 = time.time()
    r = api.call("project_exec", command="sleep", args=["30"], timeout=1, project_id=pid)
    assert r["error"] == "Error executing command 'sleep' with args '30' -- killed command 'sleep 30', undefined, undefined"
    assert time.time() - t0 < 10
    r = api.call("project_exec", command="echo boom >&2; exit 3", project_id=pid)
    assert r["error"].endswith("exited with nonzero code 3 -- stderr='boom\n', undefined, undefined")
    r = api.call("project_exec", command="smc-jupyter", project_id=pid)
    assert r["error"] == "do not run smc-jupyter directly"


def test_exec_form_strings_and_bash(proj):
    api, pid = proj
    r = api.call("project_exec", _form=True, command="sleep 3", timeout="1", project_id=pid)
    assert r["event"] == "error" and "killed command" in r["error"]
    r = api.call("project_exec", _form=True, command="false", err_on_exit="false", project_id=pid)
    assert r["exit_code"] == 1
    r = api.call("project_exec", command="echo $HOME | wc -c", bash=True, project_id=pid)
    assert r["exit_code"] == 0 and int(r["stdout"]) > 10
    # execute-code.ts@a50170846e: a command that could not run is an error "regardless of err_on_exit"
    r = api.call("project_exec", command="definitely-not-a-command", err_on_exit=False, project_id=pid)
    assert r["event"] == "error" and "(args=) was not able to run -- stderr='" in r["error"]
    assert '"code":"ENOENT"' in r["error"]


def test_exec_timeout_kills_the_process_group(proj, srv):
    api, pid = proj
    r = api.call("project_exec", command="(sleep 2; touch late.txt) & sleep 30", timeout=1, project_id=pid)
    assert "killed command" in r["error"]
    time.sleep(2.5)  # the background child was in the killed group: it never wakes up to write
    assert not (srv.ctx.store.home(pid) / "late.txt").exists()


def test_exec_starts_the_project(proj):
    api, pid = proj
    api.call("query", query={"projects": {"project_id": pid, "action_request": {"action": "stop", "time": "2020-01-01T00:00:00Z"}}})
    time.sleep(0.3)
    assert api.call("project_exec", command="true", project_id=pid)["exit_code"] == 0
    st = api.call("query", query={"projects": {"project_id": pid, "state": None}})["query"]["projects"]["state"]
    assert st["state"] == "running"


def test_exec_not_a_collaborator(admin, proj):
    api, pid = proj
    other, other_acct, _, _ = new_user(admin)
    r = other.call("project_exec", command="pwd", project_id=pid)
    assert r["error"] == f"User {other_acct} does not have write access to project {pid}"
    r = other.call("project_exec", command="pwd", project_id="not-a-uuid")
    assert r["error"] == "Write access denied -- invalid project_id -- not-a-uuid"


# ------------------------------------------------------------------------- files
def test_write_read_recorded(proj, srv):
    api, pid = proj
    r = api.call("read_text_file_from_project", _form=True, project_id=pid, path="Assignments/A1/h1.txt")
    assert r == {"event": "text_file_read_from_project", "id": r["id"], "content": "hello"}
    r = api.call("read_text_file_from_project", _form=True, project_id=pid, path="nope/none.txt")
    home = srv.ctx.store.home(pid).resolve()
    assert r == {"event": "error", "id": r["id"],
                 "error": f"Error: ENOENT: no such file or directory, stat '{home}/nope/none.txt'"}
    r = api.call("read_text_file_from_project", project_id="not-a-uuid", path="x")
    assert r["error"] == "Read access denied -- invalid project_id -- not-a-uuid"
    r = api.call("write_text_file_to_project", project_id=pid, path="deep/er/u.txt", content="héllo ✓\r\n")
    assert list(r) == ["event", "id"] and r["event"] == "file_written_to_project"
    assert (home / "deep/er/u.txt").read_bytes() == "héllo ✓\r\n".encode()
    assert api.call("read_text_file_from_project", project_id=pid, path="deep/er/u.txt")["content"] == "héllo ✓\r\n"


def test_read_array_form(admin, proj):
    api, pid = proj
    pid2 = new_project(api)
    api.call("write_text_file_to_project", project_id=pid2, path="b.txt", content="bee")
    r = api.call("read_text_file_from_project", project_id=[pid, pid2, pid], path=["Assignments/A1/h1.txt", "b.txt", "zz"])
    by_pair = {(c["project_id"], c["path"]): c for c in r["content"]}
    assert by_pair[(pid, "Assignments/A1/h1.txt")] == {"project_id": pid, "path": "Assignments/A1/h1.txt", "content": "hello"}
    assert by_pair[(pid2, "b.txt")]["content"] == "bee"
    assert by_pair[(pid, "zz")]["error"].startswith("Error: ENOENT")
    r = api.call("read_text_file_from_project", project_id=[pid, pid2], path="b.txt")
    assert r["error"] == "if project_id is an array, then path must be an array of the same length"


def test_read_refuses_files_over_10_mb(proj, srv):
    api, pid = proj
    (srv.ctx.store.home(pid) / "big.txt").write_bytes(b"x" * 12_000_000)
    r = api.call("read_text_file_from_project", project_id=pid, path="big.txt")
    assert r["error"] == ("Error: Attempt to open large file of size 12MB; the maximum allowed size is 10MB. "
                          "Use vim, emacs, or pico from a terminal instead.")


def test_write_not_a_collaborator(admin, proj):
    api, pid = proj
    other, other_acct, _, _ = new_user(admin)
    r = other.call("write_text_file_to_project", project_id=pid, path="x", content="y")
    assert r["error"] == f"User {other_acct} does not have write access to project {pid}"
    r = other.call("read_text_file_from_project", project_id=pid, path="Assignments/A1/h1.txt")
    assert r["error"] == f"User {other_acct} does not have read access to project {pid}"


def test_admin_may_act_on_any_project(admin, proj):
    api, pid = proj
    assert admin.call("read_text_file_from_project", project_id=pid, path="Assignments/A1/h1.txt")["content"] == "hello"


# ------------------------------------------------------------------------- copies
def test_copy_path_between_projects_and_status(proj, srv):
    api, pid = proj
    pid2 = new_project(api)
    r = api.call("copy_path_between_projects", _form=True, src_project_id=pid, src_path="Assignments",
                 target_project_id=pid2)
    assert r == {"event": "copy_path_between_projects_response", "id": r["id"], "copy_path_id": "",
                 "note": "Query copy_path_status with the copy_path_id to learn if the copy operation was successful."}
    assert api.call("read_text_file_from_project", project_id=pid2, path="Assignments/A1/h1.txt")["content"] == "hello"
    api.call("copy_path_between_projects", src_project_id=pid, src_path="Assignments/A1/h1.txt",
             target_project_id=pid2, target_path="renamed/x.txt")
    assert api.call("read_text_file_from_project", project_id=pid2, path="renamed/x.txt")["content"] == "hello"
    # a copy of a missing path: answered the same way (recorded), its failure visible in copy_path_status
    r = api.call("copy_path_between_projects", src_project_id=pid, src_path="A/doc.txt", target_project_id=pid2)
    assert r["copy_path_id"] == ""
    assert api.call("read_text_file_from_project", project_id=pid2, path="A/doc.txt")["error"].startswith("Error: ENOENT")
    st = api.call("copy_path_status", src_project_id=pid, pending=False, failed=True)
    assert st["event"] == "copy_path_status_response"
    assert [d["source_path"] for d in st["data"]] == ["A/doc.txt"] and "No such file" in st["data"][0]["error"]
    assert set(st["data"][0]) == {"copy_path_id", "time", "source_project_id", "source_path", "target_project_id",
                                  "target_path", "overwrite_newer", "delete_missing", "backup", "started",
                                  "finished", "scheduled", "error", "exclude"}
    r = api.call("copy_path_between_projects", src_project_id=pid, src_path="nope", target_project_id=pid2,
                 wait_until_done=True)
    assert r["event"] == "error" and "No such file" in r["error"]


def test_copy_path_status_errors_and_scheduled_delete(proj):
    api, pid = proj
    pid2 = new_project(api)
    r = api.call("copy_path_status")
    assert r["error"] == "'copy_path_id' (UUID) of a copy operation or 'src_project_id/target_project_id' must be defined"
    r = api.call("copy_path_status", src_project_id=pid, limit=5000)
    assert r["error"] == "ILLEGAL VALUE limit='5000' (must be in [0, 1000])"
    r = api.call("copy_path_status", src_project_id=pid, offset=-1)
    assert r["error"] == "ILLEGAL VALUE offset='-1' (must be in [0, 100000])"
    missing = str(uuid.uuid4())
    assert api.call("copy_path_status", copy_path_id=missing)["error"] == f"Can't find copy operation with ID={missing}"
    r = api.call("copy_path_between_projects", src_project_id="nope", src_path="a", target_project_id=pid2)
    assert r["error"] == "src_project_id='nope' not valid"
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    r = api.call("copy_path_between_projects", src_project_id=pid, src_path="Assignments", target_project_id=pid2,
                 scheduled=later)
    cid = r["copy_path_id"]
    assert UUID_RE.match(cid)
    st = api.call("copy_path_status", copy_path_id=cid)
    assert st["data"]["copy_path_id"] == cid and st["data"]["started"] is None and st["data"]["scheduled"]
    r = api.call("copy_path_delete", copy_path_id=cid)
    assert r == {"event": "copy_path_status_response", "id": r["id"], "data": f"copy_path_id = '{cid}' deleted"}
    assert api.call("copy_path_status", copy_path_id=cid)["error"] == f"Can't find copy operation with ID={cid}"
    r = api.call("copy_path_delete", copy_path_id=cid)
    assert r["error"] == f"Copy operation '{cid}' either does not exist or already finished"


def test_copy_needs_write_on_target(admin, proj):
    api, pid = proj
    other, _, _, _ = new_user(admin)
    theirs = new_project(other)
    r = api.call("copy_path_between_projects", src_project_id=pid, src_path="Assignments", target_project_id=theirs)
    assert r["error"] == f"ACCESS BLOCKED -- No write access to target project -- {theirs}"
    r = api.call("copy_path_between_projects", src_project_id=theirs, src_path="x", target_project_id=pid)
    assert r["error"] == f"ACCESS BLOCKED -- No read access to source project -- {theirs}"
    r = api.call("copy_path_status", target_project_id=theirs)
    assert r["error"] == f"ACCESS BLOCKED -- No write access to target project -- {theirs}"


def test_copy_public_path(admin, proj):
    api, pid = proj
    other, _, _, _ = new_user(admin)
    pid2 = new_project(other)
    api.call("write_text_file_to_project", project_id=pid, path="PUBLIC/doc.txt", content="pub")
    r = api.call("query", query={"public_paths": {"project_id": pid, "path": "PUBLIC/doc.txt", "description": "shared"}})
    assert r["query"] == {}
    r = other.call("copy_public_path_between_projects", _form=True, src_project_id=pid, src_path="PUBLIC/doc.txt",
                   target_project_id=pid2, target_path="A/sample.txt")
    assert r == {"event": "success", "id": r["id"]}
    assert other.call("read_text_file_from_project", project_id=pid2, path="A/sample.txt")["content"] == "pub"
    r = other.call("copy_public_path_between_projects", _form=True, src_project_id=pid, src_path="Assignments/A1/h1.txt",
                   target_project_id=pid2, target_path="A/x.txt")
    assert r["error"] == f"path 'Assignments/A1/h1.txt' of project with id '{pid}' is not public"


# ------------------------------------------------------------------------- auth tokens
def test_user_auth_password_ban_and_admin(admin, srv):
    api, acct, _, password = new_user(admin)
    caller, _, _, _ = new_user(admin)
    r = caller.call("user_auth", _form=True, account_id=acct, password=password)
    assert list(r) == ["event", "id", "auth_token"] and r["event"] == "user_auth_token" and len(r["auth_token"]) == 24
    row = srv.ctx.store.query_one("SELECT created, expire FROM auth_tokens WHERE account_id=? ORDER BY created DESC", (acct,))
    assert abs((row["expire"] - row["created"]) - 12 * 3600 * 1000) < 5000
    assert srv.ctx.store.auth_token_account(r["auth_token"]) == acct
    r = caller.call("user_auth", _form=True, account_id=acct, password="bad")
    assert r == {"event": "error", "id": r["id"], "error": "incorrect password"}
    r = caller.call("user_auth", _form=True, account_id=acct, password=password)  # blocked for 60 s now
    assert r["error"] == "banned -- please wait at least 60s before trying again"
    # only that (caller, target) pair is blocked; admins may pass an empty password
    assert api.call("user_auth", account_id=acct, password=password)["event"] == "user_auth_token"
    assert admin.call("user_auth", account_id=acct, password="")["event"] == "user_auth_token"
    r = api.call("user_auth", account_id=srv.account_id, password="")
    assert r["error"] == "incorrect password"


# ------------------------------------------------------------------------- collaborators
def test_add_remove_invite_collaborator(admin, proj):
    api, pid = proj
    friend, friend_acct, _, _ = new_user(admin, "John", "Doe")
    assert friend.call("read_text_file_from_project", project_id=pid, path="Assignments/A1/h1.txt")["event"] == "error"
    r = api.call("add_collaborator", _form=True, account_id=friend_acct, project_id=pid)
    assert r == {"event": "success", "id": r["id"]}
    assert friend.call("read_text_file_from_project", project_id=pid, path="Assignments/A1/h1.txt")["content"] == "hello"
    users = api.call("query", query={"projects": {"project_id": pid, "users": None}})["query"]["projects"]["users"]
    assert users[friend_acct] == {"group": "collaborator"}
    assert api.call("remove_collaborator", _form=True, account_id=friend_acct, project_id=pid)["event"] == "success"
    assert friend.call("read_text_file_from_project", project_id=pid, path="Assignments/A1/h1.txt")["event"] == "error"
    assert api.call("invite_collaborator", _form=True, account_id=friend_acct, project_id=pid)["event"] == "success"
    assert friend.call("read_text_file_from_project", project_id=pid, path="Assignments/A1/h1.txt")["content"] == "hello"
    # a collaborator cannot remove the owner (silently kept), nor add to projects they are not on
    owner = [a for a, u in users.items() if u["group"] == "owner"][0]
    assert friend.call("remove_collaborator", account_id=owner, project_id=pid)["event"] == "success"
    assert api.call("project_exec", command="true", project_id=pid)["exit_code"] == 0
    stranger, stranger_acct, _, _ = new_user(admin)
    r = stranger.call("add_collaborator", account_id=stranger_acct, project_id=pid)
    assert r["error"] == f"Error: user {stranger_acct} does not have write access to project {pid}"


def test_invite_noncloud_collaborators(admin, proj):
    api, pid = proj
    _, existing_acct, existing_email, _ = new_user(admin)
    newcomer = f"someone-{uuid.uuid4().hex[:6]}@m.local"
    to = f"{existing_email}, {newcomer}"
    r = api.call("invite_noncloud_collaborators", _form=True, project_id=pid, to=to,
                 email="Please sign up and join this project.", title="Class Project",
                 link2proj=f"https://cocalc.com/projects/{pid}/")
    assert r == {"event": "invite_noncloud_collaborators_resp", "id": r["id"],
                 "mesg": f"Invited {to} to collaborate on a project."}
    users = api.call("query", query={"projects": {"project_id": pid, "users": None}})["query"]["projects"]["users"]
    assert existing_acct in users
    created = admin.call("create_account", first_name="S", last_name="O", email_address=newcomer, password="xyzabc09090")
    users = api.call("query", query={"projects": {"project_id": pid, "users": None}})["query"]["projects"]["users"]
    assert created["account_id"] in users
    r = api.call("invite_noncloud_collaborators", project_id=pid, to="a" * 1025, email="e", title="t", link2proj="l")
    assert r["error"] == "Specify less recipients when adding collaborators to project."
    r = api.call("invite_noncloud_collaborators", project_id=pid, to="nope", email="e", title="t", link2proj="l")
    assert r["error"] == "invalid email address 'nope'"


# ------------------------------------------------------------------------- the rest
def test_touch_disconnect_log_and_deprecated(admin, proj, srv):
    api, pid = proj
    before = srv.ctx.store.project(pid)["last_edited"]
    time.sleep(0.01)
    assert api.call("touch_project", project_id=pid)["event"] == "success"
    assert srv.ctx.store.project(pid)["last_edited"] > before
    assert api.call("disconnect_from_project", project_id=pid)["event"] == "success"
    r = api.call("disconnect_from_project", project_id="x")
    assert r["error"] == "unable to disconnect from project x -- project_id must be specified and valid"
    r = api.call("log_client_error", _form=True, id="34a424dc-1731-4b31-ba3d-fc8a484980d9", error="cannot load library xyz")
    assert r == {"event": "success", "id": "34a424dc-1731-4b31-ba3d-fc8a484980d9"}
    assert srv.ctx.store.query_one("SELECT error FROM client_error_log WHERE error=?", ("cannot load library xyz",))
    r = api.call("get_available_upgrades", _form=True)
    assert r == {"event": "error", "id": r["id"], "error": "Error: stripe customer not defined"}
    r = api.call("create_support_ticket", email_address="jd@example.com", subject="package xyz", body="please",
                 tags=["member"], info={"user_agent": "Mozilla/5.0"})
    assert r["error"] == "deprecated"
    assert api.call("get_support_tickets", _form=True)["error"] == "deprecated"


def test_project_key_acts_only_on_its_project(admin, proj, srv):
    api, pid = proj
    owner = srv.ctx.store.project(pid)["users"]
    acct = next(iter(owner))
    _, key = srv.ctx.store.create_api_key(acct, project_id=pid, name="pk")
    pk = Api(admin.url, key)
    assert pk.call("read_text_file_from_project", project_id=pid, path="Assignments/A1/h1.txt")["content"] == "hello"
    pid2 = new_project(api)
    r = pk.call("read_text_file_from_project", project_id=pid2, path="x")
    assert r["error"] == f"User {pid} does not have read access to project {pid2}"


def test_create_account_limit_per_ip_spares_admins(tmp_path):
    from cocalc_magic.server import LocalServer

    with LocalServer(data_dir=tmp_path, api="v1", start_delay=0) as srv:
        admin = Api(srv.url, srv.api_key)
        user, _, _, _ = new_user(admin)
        for i in range(150):
            assert user.call("create_account", first_name="S", last_name=str(i))["event"] == "account_created"
        r = user.call("create_account", first_name="S", last_name="151")
        assert r["event"] == "account_creation_failed"
        assert r["reason"] == {"other": 'Unable to create account. Error: "Error: Too many accounts are being created from '
                                        "the ip address 127.0.0.1; try again later.  By default at most 150 accounts "
                                        "can be created every 30 minutes from one IP; if you're using the API and need "
                                        'a higher limit, contact us."'}
        assert admin.call("create_account", first_name="A", last_name="Dmin")["event"] == "account_created"


def test_user_search_by_id_mixed_terms_and_admin_substring(admin):
    api, acct, email, _ = new_user(admin, "Quentin", "Zyx" + uuid.uuid4().hex[:4])
    other, other_acct, other_email, _ = new_user(admin, "Rita", "Q")
    r = other.call("user_search", query=acct)["results"]
    assert [x["account_id"] for x in r] == [acct] and "email_address" not in r[0]
    r = other.call("user_search", query=f"quentin, Someone <{other_email}>")["results"]
    assert {x["account_id"] for x in r} >= {acct, other_acct}
    by_id = {x["account_id"]: x for x in r}
    assert by_id[other_acct]["email_address"] == other_email and "email_address" not in by_id[acct]
    # only admins match parts of e-mail addresses, and see them
    part = email.split("@")[0][2:]
    assert other.call("user_search", query=part)["results"] == []
    r = admin.call("user_search", query=part, admin=True)["results"]
    assert [(x["account_id"], x["email_address"]) for x in r] == [(acct, email)]
