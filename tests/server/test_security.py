"""What a key may not do: leave HOME, reach another account's project, guess passwords, or
get anything at all without a key; and what the server never does: answer 500 with a traceback."""

from __future__ import annotations

import json
import logging
import os
import random
import uuid

import pytest
import requests

from cocalc_magic.server.v1.schemas import SCHEMAS, R


@pytest.fixture
def srv(cocalc_servers):
    return cocalc_servers("v1")


def post(srv, event, key, **fields) -> requests.Response:
    return requests.post(f"{srv.url}/api/v1/{event}", json=fields, auth=(key, "") if key else None, timeout=30)


def account(srv) -> tuple[str, str]:
    store = srv.ctx.store
    acct = store.create_account(f"sec-{uuid.uuid4().hex[:8]}@m.local", "pw-secret-1", "Sec", "Urity")
    _, key = store.create_api_key(acct, name="sec")
    return acct, key


@pytest.fixture
def mine(srv):
    acct, key = account(srv)
    pid = srv.ctx.store.create_project(acct, "mine")
    # Something outside HOME worth stealing, and a link pointing at it.
    secret_dir = srv.data_dir / f"outside-{uuid.uuid4().hex[:6]}"
    secret_dir.mkdir()
    (secret_dir / "secret.txt").write_text("TOP SECRET")
    home = srv.ctx.store.home(pid)
    os.symlink(secret_dir, home / "escape")
    os.symlink(secret_dir / "secret.txt", home / "secret-link.txt")
    return acct, key, pid, secret_dir


@pytest.mark.parametrize("path", ["../x.txt", "../../cocalc.sqlite3", "/etc/passwd", "a/../../x",
                                  "escape/secret.txt", "secret-link.txt", "{secret}/secret.txt"])
def test_reads_outside_home_are_refused(srv, mine, path):
    acct, key, pid, secret_dir = mine
    path = path.format(secret=secret_dir)
    r = post(srv, "read_text_file_from_project", key, project_id=pid, path=path).json()
    assert r["event"] == "error" and "outside the project's home directory" in r["error"], r
    assert "TOP SECRET" not in json.dumps(r)


@pytest.mark.parametrize("path", ["../evil.txt", "/tmp/evil-{u}.txt", "escape/evil.txt", "a/../../evil.txt"])
def test_writes_outside_home_are_refused(srv, mine, path):
    acct, key, pid, secret_dir = mine
    u = uuid.uuid4().hex[:6]
    r = post(srv, "write_text_file_to_project", key, project_id=pid, path=path.format(u=u), content="pwned").json()
    assert r["event"] == "error" and "outside the project's home directory" in r["error"]
    assert not (secret_dir / "evil.txt").exists() and not os.path.exists(f"/tmp/evil-{u}.txt")
    assert not (srv.ctx.store.projects_dir / "evil.txt").exists()


def test_exec_path_and_copies_cannot_leave_home(srv, mine):
    acct, key, pid, secret_dir = mine
    r = post(srv, "project_exec", key, project_id=pid, command="pwd", path="..").json()
    assert r["event"] == "error" and "outside" in r["error"]
    r = post(srv, "project_exec", key, project_id=pid, command="cat", path="escape").json()
    assert r["event"] == "error" and "outside" in r["error"]
    pid2 = srv.ctx.store.create_project(acct, "target")
    r = post(srv, "copy_path_between_projects", key, src_project_id=pid, src_path="escape/secret.txt",
             target_project_id=pid2, target_path="stolen.txt", wait_until_done=True).json()
    assert r["event"] == "error" and not (srv.ctx.store.home(pid2) / "stolen.txt").exists()
    r = post(srv, "copy_path_between_projects", key, src_project_id=pid, src_path="",
             target_project_id=pid2, target_path="../..", wait_until_done=True).json()
    assert r["event"] == "error"
    # a directory copy skips symlinks rather than following them out of HOME
    post(srv, "write_text_file_to_project", key, project_id=pid, path="dir/ok.txt", content="ok")
    os.symlink(secret_dir / "secret.txt", srv.ctx.store.home(pid) / "dir" / "link.txt")
    post(srv, "copy_path_between_projects", key, src_project_id=pid, src_path="dir", target_project_id=pid2)
    assert (srv.ctx.store.home(pid2) / "dir" / "ok.txt").read_text() == "ok"
    assert not (srv.ctx.store.home(pid2) / "dir" / "link.txt").exists()


def test_another_accounts_project_is_refused_everywhere(srv, mine):
    acct, key, pid, _ = mine
    other, other_key = account(srv)
    calls = {
        "project_exec": {"project_id": pid, "command": "ls"},
        "read_text_file_from_project": {"project_id": pid, "path": "x"},
        "write_text_file_to_project": {"project_id": pid, "path": "x", "content": "y"},
        "touch_project": {"project_id": pid},
        "remove_collaborator": {"project_id": pid, "account_id": acct},
        "invite_collaborator": {"project_id": pid, "account_id": other},
        "add_collaborator": {"project_id": pid, "account_id": other},
        "invite_noncloud_collaborators": {"project_id": pid, "to": "a@b.cd", "email": "e", "title": "t", "link2proj": "l"},
        "copy_path_between_projects": {"src_project_id": pid, "src_path": "", "target_project_id": pid},
        "copy_path_status": {"src_project_id": pid},
        "disconnect_from_project": {"project_id": pid},
        "query": {"query": {"projects": {"project_id": pid, "title": "hacked"}}},
    }
    for event, fields in calls.items():
        r = post(srv, event, other_key, **fields)
        assert r.status_code == 200 and r.json()["event"] == "error", (event, r.text)
    assert srv.ctx.store.group(pid, other) is None
    assert srv.ctx.store.project(pid)["title"] == "mine"
    assert not (srv.ctx.store.home(pid) / "x").exists()
    # and listing projects never shows it
    r = post(srv, "query", other_key, query={"projects_all": [{"project_id": None}]}).json()
    assert pid not in json.dumps(r)


def test_nothing_answers_without_a_valid_key(srv, mine):
    acct, key, pid, _ = mine
    for event in list(SCHEMAS) + ["no_such_thing", "delete_account"]:
        for k in (None, "sk_" + "x" * 24, "sk-" + "y" * 22):
            r = post(srv, event, k, project_id=pid)
            assert r.status_code == 400, (event, r.text)
            assert r.json()["error"] in ("You must provide authentication via an API key.",
                                         "No account found. Is your API key wrong?")
    r = requests.post(f"{srv.url}/api/v2/api-keys", json={"action": "create"})
    assert r.json() == {"error": "must be signed in"}


def test_banned_accounts_are_refused(srv):
    acct, key = account(srv)
    srv.ctx.store.update_account(acct, banned=1)
    r = post(srv, "ping", key)
    assert (r.status_code, r.json()) == (400, {"error": "User is BANNED.  If this is a mistake, please contact help@cocalc.com"})


def test_wrong_passwords_are_throttled(srv):
    acct, key = account(srv)
    target = srv.ctx.store.create_account(f"t-{uuid.uuid4().hex[:6]}@m.local", "right-password", "T", "T")
    assert post(srv, "user_auth", key, account_id=target, password="guess-1").json()["error"] == "incorrect password"
    # right away, even the right password is blocked for 60 s
    r = post(srv, "user_auth", key, account_id=target, password="right-password").json()
    assert r["error"] == "banned -- please wait at least 60s before trying again"


def test_keys_and_passwords_are_stored_hashed(srv):
    acct, key = account(srv)
    raw = b"".join(p.read_bytes() for p in srv.data_dir.glob("cocalc.sqlite3*"))
    assert key.encode() not in raw and b"pw-secret-1" not in raw


def _fuzz_bodies(pid: str) -> list[tuple[str, bytes, str]]:
    rnd = random.Random(1234)
    bodies: list[tuple[str, bytes, str]] = [
        ("application/json", b"{", "json"),
        ("application/json", b"[1,2,3]", "json"),
        ("application/json", b'"just a string"', "json"),
        ("application/json", b"null", "json"),
        ("application/json", b"\xff\xfe\x00garbage", "json"),
        ("application/json", json.dumps({"project_id": pid, "command": ["ls"], "args": {"a": 1}}).encode(), "json"),
        ("application/json", json.dumps({"project_id": pid, "command": "ls", "timeout": "soon"}).encode(), "json"),
        ("application/json", json.dumps({"project_id": pid, "command": "ls", "max_output": [1]}).encode(), "json"),
        ("application/json", b'{"project_id": "%s", "command": "ls", "timeout": NaN, "max_output": Infinity}' % pid.encode(), "json"),
        ("application/json", json.dumps({"project_id": pid, "command": "ls", "timeout": "inf", "limit": "nan",
                                         "offset": "nan", "src_project_id": pid}).encode(), "json"),
        ("application/json", json.dumps({"project_id": [pid], "path": {"x": 1}}).encode(), "json"),
        ("application/json", json.dumps({"project_id": 5, "path": 7, "content": None}).encode(), "json"),
        ("application/json", json.dumps({"query": [[[]]], "options": "x"}).encode(), "json"),
        ("application/json", json.dumps({"query": {"projects": [{}, {}]}}).encode(), "json"),
        ("application/json", json.dumps({"account_ids": "not-a-list", "query": 5}).encode(), "json"),
        ("application/x-www-form-urlencoded", b"%%%&&&==&a[]=1&a[b]=2", "form"),
        ("application/x-www-form-urlencoded", b"project_id=" + pid.encode() + b"&path=\x00\x01", "form"),
        ("text/plain", b"hello", "other"),
        ("application/octet-stream", bytes(rnd.randrange(256) for _ in range(500)), "other"),
    ]
    for _ in range(15):
        junk = {rnd.choice(["project_id", "path", "command", "args", "query", "limit", "id", "content"]):
                rnd.choice([None, 1, -1, 1e308, True, "", "x" * 50, [], {}, [None], {"a": None}, pid])
                for _ in range(rnd.randrange(1, 5))}
        bodies.append(("application/json", json.dumps(junk).encode(), "json"))
    return bodies


def test_malformed_bodies_never_get_a_500_or_a_traceback(srv, mine):
    acct, key, pid, _ = mine
    logged: list[str] = []
    handler = _Collect(logged)
    logging.getLogger("cocalc_magic.server").addHandler(handler)
    events = ["ping", "project_exec", "read_text_file_from_project", "write_text_file_to_project", "query",
              "get_usernames", "user_search", "copy_path_between_projects", "copy_path_status", "add_collaborator",
              "create_account", "user_auth", "invite_noncloud_collaborators"]
    for ctype, body, _ in _fuzz_bodies(pid):
        for event in events:
            r = requests.post(f"{srv.url}/api/v1/{event}", data=body, headers={"Content-Type": ctype},
                              auth=(key, ""), timeout=30)
            assert r.status_code in (200, 400, 413), (event, body[:80], r.status_code, r.text[:200])
            assert "Traceback" not in r.text and 'File "' not in r.text
            assert isinstance(r.json(), dict)
    # the v2 routes on a private server: failed sign-ins count against 127.0.0.1 (the throttle),
    # which must not spill into other tests that share the session's server
    from cocalc_magic.server import LocalServer

    with LocalServer(api="v1", start_delay=0) as own:
        for path in ("auth/sign-in", "api-keys"):
            for ctype, body, _ in _fuzz_bodies(pid)[:16]:
                r = requests.post(f"{own.url}/api/v2/{path}", data=body, headers={"Content-Type": ctype},
                                  auth=(own.api_key, ""), timeout=30)
                assert r.status_code in (200, 400, 413) and "Traceback" not in r.text, (path, body[:60], r.text[:200])
    logging.getLogger("cocalc_magic.server").removeHandler(handler)
    assert logged == []  # no handler crashed on the way (each would be an unplanned "Error: ..." reply)
    # the server still works afterwards
    assert post(srv, "ping", key).json()["event"] == "pong"


class _Collect(logging.Handler):
    def __init__(self, out: list[str]):
        super().__init__(logging.ERROR)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        self.out.append(record.getMessage())


def test_every_message_survives_random_field_values(srv, mine):
    """Each v1 message with its own fields set to odd values: a clear answer, never a crash."""
    acct, key, pid, _ = mine
    rnd = random.Random(99)
    values = [None, 0, -1, 2.5, 1e308, True, False, "", "x", "../../etc/passwd", pid, acct, str(uuid.uuid4()),
              [], [pid], [None], {}, {"a": None}, {"projects": None}, "nan", "2024-01-01T00:00:00Z"]
    logged: list[str] = []
    handler = _Collect(logged)
    logging.getLogger("cocalc_magic.server").addHandler(handler)
    try:
        for event, fields in SCHEMAS.items():
            names = list(fields) or ["id"]
            for _ in range(6):
                chosen = set(rnd.sample(names, rnd.randint(1, len(names))))
                chosen |= {n for n, d in fields.items() if d is R}  # get past the dispatcher, into the handler
                body = {n: rnd.choice(values[1:]) for n in chosen}
                if event == "project_exec":
                    body["timeout"] = 1  # keep odd commands short
                r = requests.post(f"{srv.url}/api/v1/{event}", json=body, auth=(key, ""), timeout=60)
                assert r.status_code in (200, 400), (event, body, r.status_code, r.text[:200])
                assert "Traceback" not in r.text
    finally:
        logging.getLogger("cocalc_magic.server").removeHandler(handler)
    assert logged == []


# ---------------------------------------------------------------------------- public paths
@pytest.fixture
def shared(srv):
    """Someone's project with a public folder ``pub`` beside a private file, and a link in ``pub``."""
    from cocalc_magic.server.core.userquery import set_public_path

    owner, _ = account(srv)
    src = srv.ctx.store.create_project(owner, "has a public folder")
    home = srv.ctx.store.home(src)
    (home / "pub" / "sub").mkdir(parents=True)
    (home / "pub" / "ok.txt").write_text("public words")
    (home / "secret.txt").write_text("PRIVATE WORDS")
    (home / "private").mkdir()
    (home / "private" / "diary.txt").write_text("PRIVATE WORDS")
    os.symlink(home / "secret.txt", home / "pub" / "link.txt")
    os.symlink(home / "private", home / "pub" / "linkdir")
    set_public_path(srv.ctx.store, src, "pub", description="shared")
    thief, key = account(srv)
    target = srv.ctx.store.create_project(thief, "loot")
    return src, home, key, target, srv.ctx.store.home(target)


@pytest.mark.parametrize("path", [
    "pub/../secret.txt", "pub/./../secret.txt", "pub//../secret.txt", "pub/sub/../../secret.txt", "pub/..",
    "pub/../private", "{home}/secret.txt", "{home}/pub/../secret.txt", "pub/link.txt", "pub/linkdir/diary.txt",
    "pub/linkdir",
])
def test_a_public_path_cannot_reach_private_files(srv, shared, path):
    src, home, key, target, target_home = shared
    r = post(srv, "copy_public_path_between_projects", key, src_project_id=src, src_path=path.format(home=home),
             target_project_id=target, target_path="stolen").json()
    assert r["event"] == "error" and r["error"].endswith("is not public"), r
    assert "PRIVATE WORDS" not in "".join(p.read_text() for p in target_home.rglob("*") if p.is_file())


def test_a_public_folder_is_still_copied_without_its_links(srv, shared):
    src, home, key, target, target_home = shared
    r = post(srv, "copy_public_path_between_projects", key, src_project_id=src, src_path="pub",
             target_project_id=target, target_path="copy").json()
    assert r["event"] == "success", r
    assert (target_home / "copy" / "ok.txt").read_text() == "public words"
    assert not (target_home / "copy" / "link.txt").exists() and not (target_home / "copy" / "linkdir").exists()


# ---------------------------------------------------------------------------- copies through links
@pytest.fixture
def linked_target(tmp_path_factory, cocalc_servers, request):
    """A source project with ``data/new.txt`` and a target whose ``data`` folder holds links that
    point outside HOME (a folder, a file, and a ``~`` backup name)."""
    srv = cocalc_servers(request.param)
    acct, key = account(srv)
    store = srv.ctx.store
    src, dst = store.create_project(acct, "src"), store.create_project(acct, "dst")
    (store.home(src) / "data" / "sub").mkdir(parents=True)
    (store.home(src) / "data" / "new.txt").write_text("copied")
    (store.home(src) / "data" / "sub" / "deep.txt").write_text("copied")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "keep.txt").write_text("MUST SURVIVE")
    (outside / "sub").mkdir()
    (outside / "sub" / "keep.txt").write_text("MUST SURVIVE")
    (store.home(dst) / "data").mkdir()
    os.symlink(outside / "sub", store.home(dst) / "data" / "sub")
    os.symlink(outside / "keep.txt", store.home(dst) / "data" / "new.txt")
    os.symlink(outside, store.home(dst) / "elsewhere")
    return srv, key, src, dst, outside


def _untouched(outside) -> None:
    assert sorted(p.name for p in outside.rglob("*")) == ["keep.txt", "keep.txt", "sub"]
    assert (outside / "keep.txt").read_text() == "MUST SURVIVE"
    assert (outside / "sub" / "keep.txt").read_text() == "MUST SURVIVE"


@pytest.mark.parametrize("linked_target", ["conat"], indirect=True)
@pytest.mark.parametrize("target_path", ["data", "elsewhere"])
def test_conat_copy_never_writes_or_deletes_through_a_link_in_the_target(linked_target, target_path):
    srv, key, src, dst, outside = linked_target
    r = requests.post(f"{srv.url}/api/conat/hub", auth=(key, ""), timeout=30, json={
        "name": "projects.copyPathBetweenProjects",
        "args": [{"src_project_id": src, "src_path": "data", "target_project_id": dst, "target_path": target_path,
                  "delete_missing": True, "overwrite_newer": True}]}).json()
    _untouched(outside)
    home = srv.ctx.store.home(dst)
    if target_path == "data":  # the links were replaced by what was copied, as rsync does
        assert r is None, r
        assert not (home / "data" / "sub").is_symlink() and (home / "data" / "sub" / "deep.txt").read_text() == "copied"
        assert not (home / "data" / "new.txt").is_symlink() and (home / "data" / "new.txt").read_text() == "copied"
    else:
        assert "outside the project's home directory" in r["error"], r


@pytest.mark.parametrize("linked_target", ["v1"], indirect=True)
@pytest.mark.parametrize("backup", [False, True])
def test_v1_copy_never_writes_or_deletes_through_a_link_in_the_target(linked_target, backup):
    srv, key, src, dst, outside = linked_target
    os.symlink(outside / "keep.txt", srv.ctx.store.home(dst) / "data" / "other.txt~")
    (srv.ctx.store.home(src) / "data" / "other.txt").write_text("copied")
    (srv.ctx.store.home(dst) / "data" / "other.txt").write_text("old")
    r = post(srv, "copy_path_between_projects", key, src_project_id=src, src_path="data", target_project_id=dst,
             target_path="data", delete_missing=True, overwrite_newer=True, backup=backup,
             wait_until_done=True).json()
    assert r["event"] == "copy_path_between_projects_response", r
    _untouched(outside)
    home = srv.ctx.store.home(dst)
    assert (home / "data" / "sub" / "deep.txt").read_text() == "copied" and not (home / "data" / "sub").is_symlink()


# ---------------------------------------------------------------------------- password guessing
def test_v1_user_auth_guesses_from_fresh_callers_meet_the_account_limit(srv):
    """CoCalc bans a (caller, target) pair for 60 s; a fresh account or project key is a fresh
    caller. The target's own sign-in limit (5 a minute) holds whoever asks."""
    victim, _ = account(srv)
    srv.ctx.store.set_password(victim, "the-right-one")
    thief, _ = account(srv)
    answers = []
    for i in range(7):
        project = srv.ctx.store.create_project(thief, f"keys {i}")  # a project key acts as its project:
        _, key = srv.ctx.store.create_api_key(thief, project_id=project, name=f"k{i}")  # a fresh caller
        answers.append(post(srv, "user_auth", key, account_id=victim, password=f"guess-{i}").json()["error"])
    assert answers[:6] == ["incorrect password"] * 6
    assert answers[6].startswith(f'Too many attempts per minute to sign in as "{victim}"')
    _, key = srv.ctx.store.create_api_key(thief, name="right")
    r = post(srv, "user_auth", key, account_id=victim, password="the-right-one").json()
    assert r["event"] == "error" and "Too many attempts" in r["error"]  # the right password waits too


def test_conat_auth_token_guesses_from_fresh_callers_meet_the_account_limit(cocalc_servers):
    server = cocalc_servers("conat")
    victim, _ = account(server)
    errors = []
    for i in range(7):
        _, key = account(server)  # a fresh account each time
        r = requests.post(f"{server.url}/api/conat/hub", auth=(key, ""), timeout=10, json={
            "name": "system.generateUserAuthToken", "args": [{"user_account_id": victim, "password": f"g{i}"}]})
        errors.append(r.json()["error"])
    assert errors[:6] == ["Error: incorrect password"] * 6
    assert errors[6].startswith(f'Error: Too many attempts per minute to sign in as "{victim}"')


def test_the_html_sign_in_form_is_throttled(cocalc_servers):
    server = cocalc_servers("conat")
    email = f"form-{uuid.uuid4().hex[:6]}@m.local"
    server.ctx.store.create_account(email, "right-password-1")
    texts = [requests.post(f"{server.url}/auth/sign-in", data={"email": email, "password": f"w{i}"}, timeout=10,
                           allow_redirects=False).text for i in range(7)]
    assert all("is incorrect" in t for t in texts[:6]) and "Too many attempts per minute" in texts[6]
    r = requests.post(f"{server.url}/auth/sign-in", data={"email": email, "password": "right-password-1"},
                      timeout=10, allow_redirects=False)
    assert r.status_code == 200 and "Too many attempts per minute" in r.text and "remember_me" not in r.cookies
