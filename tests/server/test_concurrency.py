"""Many clients at once through the API lose nothing and never see a torn file; a restart on the
same data directory keeps every account, key, project and file."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from cocalc_magic.server import LocalServer


def call(url: str, key: str, event: str, **fields) -> dict:
    r = requests.post(f"{url}/api/v1/{event}", json=fields, auth=(key, ""), timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def test_many_threads_write_and_read_without_loss_or_tearing(tmp_path):
    with LocalServer(data_dir=tmp_path, api="v1", start_delay=0.05) as srv:
        url, key = srv.url, srv.api_key
        pid = call(url, key, "create_project", title="busy")["project_id"]
        # Each writer owns some files (nothing may be lost) and all share one hot file
        # (every read of it must be exactly one whole version).
        versions = [chr(ord("a") + i) * 60_000 for i in range(8)]
        seen: set[str] = set()
        errors: list[str] = []
        lock = threading.Lock()

        def writer(i: int) -> None:
            for j in range(10):
                r = call(url, key, "write_text_file_to_project", project_id=pid, path=f"own/{i}/{j}.txt",
                         content=f"{i}:{j}")
                if r["event"] != "file_written_to_project":
                    errors.append(str(r))
                r = call(url, key, "write_text_file_to_project", project_id=pid, path="hot/shared.txt",
                         content=versions[i % len(versions)])
                if r["event"] != "file_written_to_project":
                    errors.append(str(r))

        def reader() -> None:
            for _ in range(25):
                r = call(url, key, "read_text_file_from_project", project_id=pid, path="hot/shared.txt")
                if r["event"] == "text_file_read_from_project":
                    with lock:
                        seen.add(r["content"])
                elif "ENOENT" not in r["error"]:
                    errors.append(r["error"])

        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = [pool.submit(writer, i) for i in range(12)] + [pool.submit(reader) for _ in range(6)]
            for f in futures:
                f.result()
        assert errors == []
        assert seen and seen <= set(versions)  # never a torn or mixed file
        # nothing lost: every file of every writer is there with its own content
        listing = call(url, key, "project_exec", project_id=pid, command="find own -type f | wc -l")
        assert int(listing["stdout"]) == 120
        contents = call(url, key, "read_text_file_from_project", project_id=[pid] * 120,
                        path=[f"own/{i}/{j}.txt" for i in range(12) for j in range(10)])["content"]
        assert sorted(c["content"] for c in contents) == sorted(f"{i}:{j}" for i in range(12) for j in range(10))
        home = srv.ctx.store.home(pid)
        assert [p.name for p in (home / "hot").iterdir()] == ["shared.txt"]  # no temp files left behind


def test_concurrent_account_and_project_creation_and_exec(tmp_path):
    with LocalServer(data_dir=tmp_path, api="v1", start_delay=0.05) as srv:
        url, key = srv.url, srv.api_key

        def one(i: int) -> tuple[str, str, str]:
            acct = call(url, key, "create_account", first_name=f"U{i}", last_name="C",
                        email_address=f"c{i}-{uuid.uuid4().hex[:6]}@m.local", password="xyzabc09090",
                        get_api_key=True)
            pid = call(url, acct["api_key"], "create_project", title=f"p{i}")["project_id"]
            out = call(url, acct["api_key"], "project_exec", project_id=pid, command="echo", args=[str(i)])
            assert out["stdout"] == f"{i}\n"
            return acct["account_id"], acct["api_key"], pid

        with ThreadPoolExecutor(max_workers=10) as pool:
            made = list(pool.map(one, range(20)))
        assert len({m[0] for m in made}) == 20 and len({m[2] for m in made}) == 20
        for acct, k, pid in made:
            projects = call(url, k, "query", query={"projects": [{"project_id": None, "users": None}]})["query"]["projects"]
            assert [p["project_id"] for p in projects] == [pid]
            assert projects[0]["users"] == {acct: {"group": "owner"}}


def test_restart_keeps_accounts_keys_projects_and_files(tmp_path):
    with LocalServer(data_dir=tmp_path, api="v1", start_delay=0) as srv:
        url, admin_key = srv.url, srv.api_key
        acct = call(url, admin_key, "create_account", first_name="Keep", last_name="Me",
                    email_address="keep@m.local", password="xyzabc09090", get_api_key=True)
        legacy_key = acct["api_key"]
        pid = call(url, legacy_key, "create_project", title="kept", description="across restarts")["project_id"]
        call(url, legacy_key, "write_text_file_to_project", project_id=pid, path="notes/a.txt", content="still here")
        r = requests.post(f"{url}/api/v2/api-keys", json={"action": "create", "name": "new-style"}, auth=(legacy_key, ""))
        new_key = r.json()["response"][0]["secret"]
        friend = call(url, admin_key, "create_account", first_name="F", last_name="R", email_address="f@m.local",
                      password="xyzabc09090")["account_id"]
        call(url, legacy_key, "add_collaborator", project_id=pid, account_id=friend)
    with LocalServer(data_dir=tmp_path, api="v1", start_delay=0) as srv:
        url = srv.url
        assert srv.api_key != admin_key and call(url, srv.api_key, "ping")["event"] == "pong"  # a fresh admin key
        row = call(url, new_key, "query", query={"projects": {"project_id": pid, "title": None, "description": None,
                                                              "users": None, "state": None}})["query"]["projects"]
        assert row["title"] == "kept" and row["description"] == "across restarts"
        assert set(row["users"]) == {acct["account_id"], friend}
        assert row["state"]["state"] == "opened"  # processes do not survive a restart
        for k in (legacy_key, new_key):
            assert call(url, k, "read_text_file_from_project", project_id=pid, path="notes/a.txt")["content"] == "still here"
        r = requests.post(f"{url}/api/v2/auth/sign-in", json={"email": "keep@m.local", "password": "xyzabc09090"})
        assert r.json() == {"account_id": acct["account_id"]}
