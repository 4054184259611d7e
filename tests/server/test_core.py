"""The server core both generations stand on: store, HOME files, exec, life cycle, restart."""

import asyncio
import json
import os
import tempfile
import threading

import pytest

from cocalc_magic.server import LocalServer
from cocalc_magic.server.core import homes
from cocalc_magic.server.core.execute import ExecOptions, project_env, run
from cocalc_magic.server.core.store import Store, decode62, encode62


def test_keys_round_trip_and_hashing(tmp_path):
    store = Store(tmp_path)
    acct = store.create_account("a@b.c", "secret-pw", "A", "B")
    row, key = store.create_api_key(acct, name="k")
    assert key.startswith("sk-") and decode62(key[-6:]) == row["id"]
    assert store.resolve_api_key(key)["account_id"] == acct
    assert store.resolve_api_key(key[:-7] + "x" + key[-6:]) is None
    raw = (tmp_path / "cocalc.sqlite3").read_bytes()
    assert key.encode() not in raw and b"secret-pw" not in raw
    legacy = store.set_legacy_api_key(acct)
    assert store.resolve_api_key(legacy)["account_id"] == acct
    assert decode62(encode62(123456)) == 123456


def test_project_key_dies_with_its_creator_leaving(tmp_path):
    store = Store(tmp_path)
    owner, other = store.create_account("o@x"), store.create_account("c@x")
    pid = store.create_project(owner, "P")
    store.add_user(pid, other)
    _, key = store.create_api_key(other, project_id=pid)
    assert store.resolve_api_key(key)["project_id"] == pid
    store.remove_user(pid, other)
    assert store.resolve_api_key(key) is None
    store.remove_user(pid, owner)  # owners are never removed
    assert store.group(pid, owner) == "owner"


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../x", "link/escape"])
def test_paths_cannot_leave_home(tmp_path, bad):
    home = tmp_path / "home"
    home.mkdir()
    os.symlink("/etc", home / "link")
    with pytest.raises(homes.PathOutsideHome):
        homes.resolve(home, bad)


def test_atomic_writes_lose_nothing_and_never_tear(tmp_path):
    home = tmp_path / "h"
    home.mkdir()
    payloads = [chr(65 + i) * 200_000 for i in range(8)]
    seen = set()

    def writer(p):
        for _ in range(20):
            homes.write_text(home, "d/f.txt", p)

    def reader():
        for _ in range(200):
            try:
                seen.add(homes.read_text(home, "d/f.txt"))
            except FileNotFoundError:
                pass

    threads = [threading.Thread(target=writer, args=(p,)) for p in payloads] + [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen <= set(payloads)
    assert homes.read_text(home, "d/f.txt") in payloads
    assert [p.name for p in (home / "d").iterdir()] == ["f.txt"]


def _exec(tmp_path, **kw):
    env = project_env(tmp_path, "pid")
    return asyncio.run(run(ExecOptions(**kw), env))


def test_exec_semantics(tmp_path):
    out = _exec(tmp_path, command="echo", args=["xyz", "abc"], max_output=3)
    assert (out.stdout, out.exit_code) == ("xyz (truncated at 3 characters)", 0)
    out = _exec(tmp_path, command="echo $HOME; exit 3")
    assert out.bash and out.stdout == f"{tmp_path}\n" and out.exit_code == 3
    out = _exec(tmp_path, command="sleep 5", timeout=0.5)
    assert out.killed and out.spawned.startswith(f"bash {tempfile.gettempdir()}/cocalc-") and out.spawned.endswith("/a.sh")
    out = _exec(tmp_path, command="definitely-not-a-command")
    assert out.exit_code == 1 and out.spawn_error["code"] == "ENOENT"
    assert "COCALC_API_KEY" not in _exec(tmp_path, command="env").stdout


def test_restart_keeps_everything_but_the_admin_key(tmp_path):
    with LocalServer(data_dir=tmp_path, api="v1") as srv:
        key, acct = srv.api_key, srv.account_id
        pid = srv.ctx.store.create_project(acct, "Keep me")
        homes.write_text(srv.ctx.store.home(pid), "a/b.txt", "kept")
    with LocalServer(data_dir=tmp_path, api="conat") as srv:
        assert srv.account_id == acct and srv.api_key != key  # a fresh key each start
        assert srv.ctx.store.resolve_api_key(key) is None and srv.ctx.store.resolve_api_key(srv.api_key)
        assert srv.ctx.store.project(pid)["title"] == "Keep me"
        assert homes.read_text(srv.ctx.store.home(pid), "a/b.txt") == "kept"
        assert oct((tmp_path / "admin.json").stat().st_mode)[-3:] == "600"


def test_admin_json_holds_no_secret_a_project_could_read(tmp_path):
    """Every project runs commands as the server's user, so the data dir is readable from any of
    them: admin.json must give nothing away (neither the key nor the password)."""
    with LocalServer(data_dir=tmp_path, api="conat") as srv:
        saved = (tmp_path / "admin.json").read_text()
        assert srv.api_key not in saved and srv.password not in saved
        assert json.loads(saved) == {"account_id": srv.account_id, "email": srv.email}
        assert srv.ctx.store.check_password(srv.account_id, srv.password)
        first_password = srv.password
    old = {"account_id": srv.account_id, "api_key": "sk-old", "email": srv.email, "password": "old-pw"}
    (tmp_path / "admin.json").write_text(json.dumps(old))  # a data dir from before: upgraded
    with LocalServer(data_dir=tmp_path, api="conat") as srv:
        assert "old-pw" not in (tmp_path / "admin.json").read_text()
        assert not srv.ctx.store.check_password(srv.account_id, first_password)


def test_refuses_non_loopback_without_the_loud_option():
    with pytest.raises(ValueError, match="dangerously"):
        LocalServer(host="0.0.0.0")


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_stopping_the_server_stops_what_projects_run(tmp_path):
    import time

    import requests

    srv = LocalServer(data_dir=tmp_path, api="conat", start_delay=0).start()
    pid = srv.ctx.store.create_project(srv.account_id, "long runner")
    body = {"project_id": pid, "name": "system.exec", "timeout": 60000,
            "args": [{"command": "sleep 300", "bash": True, "timeout": 300}]}
    threading.Thread(target=lambda: requests.post(f"{srv.url}/api/conat/project", json=body,
                                                  auth=(srv.api_key, ""), timeout=70), daemon=True).start()
    deadline = time.monotonic() + 10
    while not srv.ctx.runtime.processes.pids(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    (group,) = srv.ctx.runtime.processes.pids(pid)
    assert _running(group)
    srv.stop()
    deadline = time.monotonic() + 5
    while _running(group) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(group)
