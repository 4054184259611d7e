"""sync.history on the conat generation: a version per write through the API, in CoCalc's patch
stream shape (conat/hub/api/sync.ts, SyncDoc.commit_patch), the patches replaying to each
version, collaborator checks, and a restart."""

import json

import pytest
from diff_match_patch import diff_match_patch, patch_obj

from conat_client import UNKNOWN_UUID, Raw, second_user

conat = pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)


def _replay(patches):
    """Each version, by applying the compressed patches in order (as CoCalc's apply_patch)."""
    dmp, text, out = diff_match_patch(), "", []
    for p in patches:
        objs = []
        for diffs, s1, s2, l1, l2 in json.loads(p["mesg"]["patch"]):
            o = patch_obj()
            o.diffs, o.start1, o.start2, o.length1, o.length2 = [tuple(d) for d in diffs], s1, s2, l1, l2
            objs.append(o)
        text, ok = dmp.patch_apply(objs, text)
        assert all(ok)
        out.append(text)
    return out


@conat
def test_each_write_is_a_version(api):
    pid = api.hub("projects.createProject", {"title": "history"})
    assert api.hub("sync.history", {"project_id": pid, "path": "a.txt"}) == {"patches": [], "info": {}}
    versions = ["hello\n", "hello world\n", "hello world\nsecond line\n"]
    for v in versions:
        assert api.project(pid, "system.writeTextFileToProject", {"path": "a.txt", "content": v}) is None
    api.project(pid, "system.writeTextFileToProject", {"path": "./a.txt", "content": versions[-1]})  # unchanged
    out = api.hub("sync.history", {"project_id": pid, "path": "a.txt"})
    patches = out["patches"]
    assert [p["seq"] for p in patches] == [1, 2, 3]
    assert [p["mesg"]["version"] for p in patches] == [1, 2, 3]
    first, second = patches[0]["mesg"], patches[1]["mesg"]
    assert set(first) == {"time", "wall", "patch", "user_id", "is_snapshot", "parents", "version"}
    assert (first["user_id"], first["is_snapshot"], first["parents"]) == (0, False, [])
    assert second["parents"] == [first["time"]] and second["time"] > first["time"]
    assert json.loads(first["patch"]) == [[[[1, "hello\n"]], 0, 0, 0, 6]]
    assert _replay(patches) == versions
    info = out["info"]
    assert (info["path"], info["project_id"], info["users"]) == ("a.txt", pid, [pid])
    assert info["init"]["size"] == len(versions[-1]) and info["save"]["state"] == "done"


@conat
def test_v2_write_text_file_records_too(api):
    pid = api.hub("projects.createProject", {"title": "history v2"})
    assert api.v2("projects/write-text-file", {"project_id": pid, "path": "n.md", "content": "# x"}) == {"status": "ok"}
    assert len(api.hub("sync.history", {"project_id": pid, "path": "n.md"})["patches"]) == 1


@conat
def test_exec_writes_leave_no_history(api):
    pid = api.hub("projects.createProject", {"title": "history exec"})
    api.project(pid, "system.exec", {"command": "echo hi > e.txt", "bash": True})
    assert api.hub("sync.history", {"project_id": pid, "path": "e.txt"}) == {"patches": [], "info": {}}


@conat
def test_history_needs_a_collaborator(cocalc_server, api):
    pid = api.hub("projects.createProject", {"title": "private"})
    other = Raw(cocalc_server.url, second_user(cocalc_server)[1])
    refused = {"error": "Error: user must be collaborator on source project"}
    assert other.hub("sync.history", {"project_id": pid, "path": "a.txt"}) == refused
    assert api.hub("sync.history", {"project_id": UNKNOWN_UUID, "path": "a.txt"}) == refused  # admins too
    assert api.hub("sync.history", {"project_id": "nope", "path": "a.txt"}) == {
        "error": "Error: invalid account_id or project_id -- all must be valid uuid's"}


@conat
def test_start_and_end_seq(api):
    pid = api.hub("projects.createProject", {"title": "seq"})
    for i in range(4):
        api.project(pid, "system.writeTextFileToProject", {"path": "s.txt", "content": "x" * (i + 1)})
    out = api.hub("sync.history", {"project_id": pid, "path": "s.txt", "start_seq": 2, "end_seq": 3})
    assert [p["seq"] for p in out["patches"]] == [2, 3]


def test_history_survives_a_restart(tmp_path):
    from cocalc_magic.server import LocalServer

    with LocalServer(data_dir=tmp_path, api="conat") as srv:
        raw = Raw(srv.url, srv.api_key)
        pid = raw.hub("projects.createProject", {"title": "kept"})
        raw.project(pid, "system.writeTextFileToProject", {"path": "k.txt", "content": "one"})
        key = srv.api_key
    with LocalServer(data_dir=tmp_path, api="conat") as srv:
        raw = Raw(srv.url, srv.api_key if srv.api_key else key)
        raw.project(pid, "system.writeTextFileToProject", {"path": "k.txt", "content": "one two"})
        patches = raw.hub("sync.history", {"project_id": pid, "path": "k.txt"})["patches"]
        assert [p["mesg"]["version"] for p in patches] == [1, 2]
        assert _replay(patches) == ["one", "one two"]


@conat
def test_whole_file_rewrites_replay_exactly(api):
    """A rewrite that runs the diff into its timeout still gives a patch that replays exactly."""
    pid = api.hub("projects.createProject", {"title": "rewrites"})
    versions = ["".join(f"line {i} of {n}\n" for i in range(3000)) for n in range(3)]
    for v in versions:
        api.project(pid, "system.writeTextFileToProject", {"path": "big.txt", "content": v})
    assert _replay(api.hub("sync.history", {"project_id": pid, "path": "big.txt"})["patches"]) == versions
