"""Conformance of POST /api/conat/project with the recorded exchanges (real-hub-transcripts.md §2)."""

import os
import tempfile
import time

import pytest
import requests

from conat_client import UNKNOWN_UUID, Raw, project_key, second_user

pytestmark = pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)


@pytest.fixture
def pid(api):
    return api.hub("projects.createProject", {"title": "bridge"})


@pytest.fixture
def home(cocalc_server, pid):
    return str(cocalc_server.ctx.store.home(pid).resolve())


# ------------------------------------------------------------------ auth and routing
def test_auth_texts_of_the_project_bridge(cocalc_server, api, pid):
    url = cocalc_server.url
    body = {"project_id": pid, "name": "system.ping", "args": []}
    r = requests.post(url + "/api/conat/project", json=body, timeout=10)
    assert (r.status_code, r.json()) == (200, {"error": "You must provide authentication via an API key."})
    r = requests.post(url + "/api/conat/project", json=body, auth=("sk-unknownunknownunk000001", ""), timeout=10)
    assert r.json() == {"error": "must sign in as project or account"}
    r = requests.post(url + "/api/conat/project", json=body, timeout=10,
                      headers={"Authorization": f"Token {cocalc_server.api_key}"})
    assert r.json() == {"error": "Unknown authorization type 'Token'"}
    assert api.project(None, "system.ping") == {"error": "must specify project_id or use project-specific api key"}
    assert api.project("not-a-uuid", "system.ping") == {
        "error": "invalid account_id or project_id -- all must be valid uuid's"}
    assert api.project(UNKNOWN_UUID, "system.ping") == {"error": "user must be a collaborator on the project"}


def test_admin_gets_no_bypass_and_collaborators_get_in(cocalc_server, api, pid):
    acct2, key2, *_ = second_user(cocalc_server)
    u2 = Raw(cocalc_server.url, key2)
    theirs = u2.hub("projects.createProject", {"title": "theirs"})
    assert api.project(theirs, "system.ping") == {"error": "user must be a collaborator on the project"}
    assert u2.project(pid, "system.ping") == {"error": "user must be a collaborator on the project"}
    api.hub("projects.addCollaborator", {"opts": {"project_id": pid, "account_id": acct2}})
    out = u2.project(pid, "system.test")
    assert list(out) == ["project_id", "server_time"] and out["project_id"] == pid


def test_project_keys_are_scoped_to_their_project(cocalc_server, api, pid):
    other = api.hub("projects.createProject", {"title": "other"})
    pk = Raw(cocalc_server.url, project_key(cocalc_server, pid))
    assert pk.project(None, "system.test")["project_id"] == pid
    assert pk.project(pid, "system.test")["project_id"] == pid
    assert pk.project(other, "system.test") == {"error": "project specific api key must match requested project"}
    assert pk.project(other, "system.ping") == {"error": "project specific api key must match requested project"}
    pk.project(None, "system.writeTextFileToProject", {"path": "hello/world.txt", "content": "x\n"})
    assert pk.project(None, "system.exec", {"command": "ls", "args": ["hello"]}) == {
        "type": "blocking", "stdout": "world.txt\n", "stderr": "", "exit_code": 0}


def test_bridge_starts_a_stopped_project(api, pid):
    assert api.hub("projects.state", {"project_id": pid})["state"] == "opened"
    assert set(api.project(pid, "system.ping", timeout=15000)) == {"now"}
    assert api.hub("projects.state", {"project_id": pid})["state"] == "running"


def test_unknown_functions(api, pid):
    assert api.project(pid, "system.doesNotExist") == {"error": "Error: unknown function 'system.doesNotExist'"}
    assert api.project(pid, "nosuchgroup.fn") == {"error": "Error: unknown function 'nosuchgroup.fn'"}


def test_bridge_timeout(api, pid):
    out = api.project(pid, "system.exec", {"command": "sleep 3; echo late", "bash": True}, timeout=500)
    assert out == {"error": f"timeout - callHub: subject='project.{pid}.0.api.-', name='system.exec', code='408' "}


def test_system_test_reports_the_addressed_project(api, pid):
    other = api.hub("projects.createProject", {})
    assert api.project(pid, "system.test", {"project_id": other, "x": 1})["project_id"] == pid


def test_version_is_a_build_timestamp(api, pid):
    v = api.project(pid, "system.version")
    assert isinstance(v, int) and v > 1_700_000_000


# ------------------------------------------------------------------ exec
def test_exec_blocking_shapes_and_texts(api, pid, home):
    ex = lambda **o: api.project(pid, "system.exec", o)  # noqa: E731
    api.project(pid, "system.writeTextFileToProject", {"path": "hello/world.txt", "content": "Hello ünï\n"})
    assert ex(command="cat", args=["hello/world.txt"]) == {"type": "blocking", "stdout": "Hello ünï\n", "stderr": "", "exit_code": 0}
    assert ex(command="echo $HOME; exit 3", bash=True) == {
        "error": "command 'echo $HOME; exit 3' exited with nonzero code 3 -- stderr=''"}
    out = ex(command="echo $HOME; pwd; echo oops >&2; exit 3", bash=True, err_on_exit=False)
    assert out == {"type": "blocking", "stdout": f"{home}\n{home}\n", "stderr": "oops\n", "exit_code": 3}
    out = ex(command="sleep 5", bash=True, timeout=1)
    assert out["error"].startswith(f"killed command 'bash {tempfile.gettempdir()}/") and out["error"].endswith("/a.sh'")
    assert ex(command="sleep", args=["5"], timeout=1) == {"error": "killed command 'sleep 5'"}
    out = ex(command="echo started; sleep 5", bash=True, timeout=1, err_on_exit=False)
    assert out["error"].startswith("killed command 'bash ")
    assert ex() == {"error": "TypeError: Cannot read properties of undefined (reading 'split')"}
    assert ex(command="definitely-not-a-command") == {"error": (
        "command ''definitely-not-a-command' (args=)' exited with nonzero code 1 -- stderr='"
        '{"errno":-2,"code":"ENOENT","syscall":"spawn definitely-not-a-command","path":"definitely-not-a-command","spawnargs":[]}'
        "'")}
    assert ex(command="echo out; echo err >&2", bash=True) == {"type": "blocking", "stdout": "out\n", "stderr": "err\n", "exit_code": 0}
    assert ex(command="false") == {"error": "command ''false' (args=)' exited with nonzero code 1 -- stderr=''"}
    assert ex(command="false", err_on_exit=False) == {"type": "blocking", "stdout": "", "stderr": "", "exit_code": 1}
    assert ex(command="echo partial; echo boom >&2; exit 2", bash=True) == {
        "error": "command 'echo partial; echo boom >&2; exit 2' exited with nonzero code 2 -- stderr='boom\n'"}
    trunc = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10 (truncated at 20 characters)"
    assert ex(command="seq 1 1000", bash=True, max_output=20)["stdout"] == trunc
    assert ex(command="seq", args=["1", "1000"], max_output=20)["stdout"] == trunc
    assert ex(command="printf", args=["[%s]\\n", "a b", "$HOME", "*"])["stdout"] == "[a b]\n[$HOME]\n[*]\n"
    out = ex(command='echo "argc=$#"', bash=True, args=["x", "y"])
    assert out["error"].startswith("command ''echo \"argc=$#\"' x y' exited with nonzero code 127 -- stderr='")
    assert ex(command="pwd; ls", bash=True, path="hello")["stdout"] == f"{home}/hello\nworld.txt\n"
    assert ex(command="pwd", path="no/such/dir") == {"error": (
        "command ''pwd' (args=)' exited with nonzero code 1 -- stderr='"
        '{"errno":-2,"code":"ENOENT","syscall":"spawn pwd","path":"pwd","spawnargs":[]}'"'")}
    assert ex(command='echo "FOO=$FOO"', bash=True, env={"FOO": "bar"})["stdout"] == "FOO=bar\n"
    assert ex(command="echo hello world")["stdout"] == "hello world\n"


def test_exec_async_jobs(api, pid):
    ex = lambda **o: api.project(pid, "system.exec", o)  # noqa: E731
    job = ex(command="sleep 1; echo async-done", bash=True, async_call=True)
    assert list(job) == ["type", "stdout", "stderr", "exit_code", "start", "job_id", "status", "pid"]
    assert (job["type"], job["status"], job["stdout"], job["exit_code"]) == ("async", "running", "", 0)
    running = ex(async_get=job["job_id"])
    assert running["status"] == "running" and "elapsed_s" not in running
    done = ex(async_get=job["job_id"], async_await=True, command="")
    assert list(done) == ["type", "stdout", "stderr", "exit_code", "start", "job_id", "status", "pid", "elapsed_s"]
    assert (done["status"], done["stdout"], done["exit_code"]) == ("completed", "async-done\n", 0)
    again = ex(async_get=job["job_id"], async_stats=True)
    assert again["stdout"] == "async-done\n" and isinstance(again["stats"], list)
    assert set(again["stats"][0]) == {"timestamp", "mem_rss", "cpu_pct", "cpu_secs"}
    assert ex(async_get=UNKNOWN_UUID) == {"error": f"Error: Async operation '{UNKNOWN_UUID}' does not exist."}
    failing = ex(command="echo x; exit 5", bash=True, async_call=True)
    failed = ex(async_get=failing["job_id"], async_await=True)
    assert (failed["status"], failed["stdout"], failed["stderr"], failed["exit_code"]) == ("error", "", "No result", 1)


def test_async_jobs_belong_to_their_project(api, pid):
    other = api.hub("projects.createProject", {})
    job = api.project(pid, "system.exec", {"command": "true", "async_call": True})
    assert api.project(other, "system.exec", {"async_get": job["job_id"]}) == {
        "error": f"Error: Async operation '{job['job_id']}' does not exist."}


def test_signal_cancels_a_job_of_this_project_only(api, pid):
    other = api.hub("projects.createProject", {})
    job = api.project(pid, "system.exec", {"command": "sleep 30", "bash": True, "async_call": True})
    for target in (job["pid"], -job["pid"]):
        assert api.project(other, "system.signal", {"signal": 9, "pid": target}) == {"error": "Error: kill ESRCH"}
    assert api.project(pid, "system.exec", {"async_get": job["job_id"]})["status"] == "running"
    t0 = time.monotonic()
    assert api.project(pid, "system.signal", {"signal": 9, "pids": [-job["pid"]]}) is None  # the group
    done = api.project(pid, "system.exec", {"async_get": job["job_id"], "async_await": True})
    assert done["status"] == "error" and done["exit_code"] == 1 and time.monotonic() - t0 < 10
    assert api.project(pid, "system.signal", {"signal": 9, "pid": os.getpid()}) == {"error": "Error: kill ESRCH"}
    assert api.project(pid, "system.signal", {"signal": 9, "pid": -os.getpgid(0)}) == {"error": "Error: kill ESRCH"}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_signal_to_a_plain_pid_stops_that_process_only_as_on_cocalc(api, pid):
    """CoCalc's system.signal is process.kill(pid): the shell dies and the command it started
    runs on. A client that wants the whole command stopped signals -pid (the group)."""
    job = api.project(pid, "system.exec", {"command": "sleep 30; echo never", "bash": True, "async_call": True})
    deadline = time.monotonic() + 10
    children: list[int] = []
    while not children and time.monotonic() < deadline:
        children = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != job["pid"]
                    and _pgid(int(p)) == job["pid"]]
        time.sleep(0.05)
    assert children, "bash never started its sleep"
    assert api.project(pid, "system.signal", {"signal": 9, "pid": job["pid"]}) is None
    deadline = time.monotonic() + 5
    while _alive(job["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(job["pid"]) and all(_alive(c) for c in children)
    assert api.project(pid, "system.signal", {"signal": 9, "pid": children[0]}) is None  # a child of the job: ours
    assert api.project(pid, "system.signal", {"signal": 9, "pid": -job["pid"]}) in (None, {"error": "Error: kill ESRCH"})


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


# ------------------------------------------------------------------ files
def test_write_and_read_text_files(cocalc_server, api, pid, home):
    w = lambda o: api.project(pid, "system.writeTextFileToProject", o)  # noqa: E731
    r = lambda o: api.project(pid, "system.readTextFileFromProject", o)  # noqa: E731
    assert w({"path": "tx/deep/nested/dirs/file.txt", "content": "nested\n"}) is None
    assert r({"path": "tx/deep/nested/dirs/file.txt"}) == "nested\n"
    with open(os.path.join(home, "tx/deep/nested/dirs/file.txt")) as fh:
        assert fh.read() == "nested\n"
    assert w({"path": "tx/empty.txt", "content": ""}) is None and r({"path": "tx/empty.txt"}) == ""
    assert w({"content": "no path"}) == {"error": "TypeError: Cannot read properties of undefined (reading 'length')"}
    assert w({"path": "tx/nocontent.txt"}) == {"error": (
        'TypeError [ERR_INVALID_ARG_TYPE]: The "data" argument must be of type string or an instance of '
        "Buffer, TypedArray, or DataView. Received undefined")}
    assert r({"path": "does/not/exist.txt"}) == {"error": "Error: ENOENT: no such file or directory, open 'does/not/exist.txt'"}
    assert r({"path": "tx/deep"}) == {"error": "Error: EISDIR: illegal operation on a directory, read"}
    assert api.project(pid, "system.readTextFileFromProject") == {
        "error": "TypeError: Cannot destructure property 'path' of 'undefined' as it is undefined."}
    assert r({"path": "../escape.txt"})["error"].startswith("Error: EACCES: permission denied")
    assert w({"path": "../escape.txt", "content": "x"})["error"].startswith("Error: EACCES: permission denied")


def test_listing_and_file_operations(api, pid, home):
    w = lambda p, c: api.project(pid, "system.writeTextFileToProject", {"path": p, "content": c})  # noqa: E731
    ls = lambda p, **o: api.project(pid, "system.listing", {"path": p, **o})  # noqa: E731
    for name in ("a", "b", "c"):
        w(f"tx/scratch/{name}.txt", name * 2)
    w("tx/.hidden", "hh")
    w("tx/deep/nested/dirs/file.txt", "nested\n")
    os.symlink("deep/nested/dirs/file.txt", os.path.join(home, "tx/link.txt"))
    entries = {e["name"]: e for e in ls("tx")}
    assert set(entries) == {"scratch", "deep", "link.txt"}
    assert list(entries["deep"]) == ["name", "mtime", "isdir", "size"] and entries["deep"]["size"] == 1
    assert entries["link.txt"] == {"name": "link.txt", "issymlink": True, "link_target": "deep/nested/dirs/file.txt",
                                   "mtime": entries["link.txt"]["mtime"], "size": 7}
    assert ".hidden" in {e["name"] for e in ls("tx", hidden=True)}
    assert ls("no/such/dir") == {"error": f"Error: ENOENT: no such file or directory, opendir '{home}/no/such/dir'"}
    assert ls("tx/.hidden") == {"error": f"Error: ENOTDIR: not a directory, opendir '{home}/tx/.hidden'"}
    call = lambda n, o: api.project(pid, f"system.{n}", o)  # noqa: E731
    assert call("deleteFiles", {"paths": ["tx/scratch/a.txt"]}) is None
    assert call("deleteFiles", {"paths": ["tx/scratch/does-not-exist.txt"]}) is None
    assert call("deleteFiles", {}) == {"error": "TypeError: Cannot read properties of undefined (reading 'map')"}
    assert call("moveFiles", {"paths": ["tx/scratch/b.txt"], "dest": "tx/moved"}) is None
    assert call("moveFiles", {"paths": ["tx/scratch/nope.txt"], "dest": "tx/moved"}) == {
        "error": f"Error: ENOENT: no such file or directory, lstat '{home}/tx/scratch/nope.txt'"}
    assert call("renameFile", {"src": "tx/scratch/c.txt", "dest": "tx/scratch/c-renamed.txt"}) is None
    assert call("renameFile", {"src": "tx/scratch/nope.txt", "dest": "tx/scratch/x.txt"}) == {
        "error": f"Error: ENOENT: no such file or directory, lstat '{home}/tx/scratch/nope.txt'"}
    assert [e["name"] for e in ls("tx/scratch")] == ["c-renamed.txt"]
    assert [e["name"] for e in ls("tx/moved")] == ["b.txt"]
    assert api.project(pid, "system.realpath", "tx/deep/../deep/nested/dirs/file.txt") == "tx/deep/nested/dirs/file.txt"
    assert api.project(pid, "system.realpath", "tx/link.txt") == "tx/deep/nested/dirs/file.txt"
    assert api.project(pid, "system.realpath", "tx/no-such-file") == {
        "error": f"Error: ENOENT: no such file or directory, realpath '{home}/tx/no-such-file'"}
    assert api.project(pid, "system.realpath", {"path": "tx/link.txt"}) == {
        "error": f"Error: ENOENT: no such file or directory, realpath '{home}/[object Object]'"}


# ------------------------------------------------------------------ jupyter
def test_jupyter_execute(api, pid, home):
    run = lambda **o: api.project(pid, "system.jupyterExecute", {"kernel": "python3", **o})  # noqa: E731
    assert run(input="import sys\nprint(sys.version_info[0])\n2+3") == [
        {"name": "stdout", "text": "3\n"}, {"data": {"text/plain": "5"}}]
    assert run(history=["a = 100"], input="sum(range(a + 1))") == [{"data": {"text/plain": "5050"}}]
    assert run(path="", input="import os; print(os.getcwd())") == [{"name": "stdout", "text": home + "\n"}]
    err = run(input="1/0")
    assert err[0]["ename"] == "ZeroDivisionError" and err[0]["evalue"] == "division by zero"
    out = api.project(pid, "system.jupyterExecute", {"input": "1", "kernel": "julia"})
    assert out["error"].startswith('Error: **Unable to Spawn Jupyter Kernel:**\n\nError: No spec available for kernel "julia".')


def test_jupyter_rich_display_and_path(api, pid, home):
    api.project(pid, "system.writeTextFileToProject", {"path": "sub/data.txt", "content": "42"})
    out = api.project(pid, "system.jupyterExecute", {"kernel": "python3", "path": "sub", "input": (
        "from IPython.display import HTML, display\n"
        "display(HTML('<b>bold</b>'))\n"
        "open('data.txt').read()")})
    assert out == [{"data": {"text/plain": "<IPython.core.display.HTML object>", "text/html": "<b>bold</b>"}},
                   {"data": {"text/plain": "'42'"}}]


def test_no_compute_servers(api, pid):
    out = api.project(pid, "system.ping", compute_server_id=1)
    subject = f"project.{pid}.1.api.-"
    assert out == {"error": f"request -- no subscribers matching '{subject}' - callHub: subject='{subject}', "
                            "name='system.ping', code='503' "}


def test_finished_async_jobs_are_forgotten_after_an_hour_or_beyond_100(cocalc_server):
    from types import SimpleNamespace

    from cocalc_magic.server.project.exec import _prune_jobs

    now = time.time()
    jobs = {f"j{i}": SimpleNamespace(job_id=f"j{i}", project_id="p", start=i, finished=now) for i in range(120)}
    jobs["old"] = SimpleNamespace(job_id="old", project_id="p", start=200, finished=now - 3601)
    jobs["running"] = SimpleNamespace(job_id="running", project_id="p", start=0, finished=None)
    jobs["other"] = SimpleNamespace(job_id="other", project_id="q", start=0, finished=now - 7200)
    registry = SimpleNamespace(jobs=jobs)
    _prune_jobs(registry, "p")
    assert "old" not in jobs and "running" in jobs and "other" in jobs
    assert len([j for j in jobs.values() if j.project_id == "p"]) <= 100
    assert "j119" in jobs and "j0" not in jobs


def test_a_command_that_cannot_run_is_an_error_whatever_err_on_exit_says(api, pid):
    """execute-code.ts: `!ran_code` ends in "was not able to run", "regardless of opts.err_on_exit!"."""
    out = api.project(pid, "system.exec", {"command": "definitely-not-a-command", "err_on_exit": False})
    assert out == {"error": (
        "command ''definitely-not-a-command' (args=)' was not able to run -- stderr='"
        '{"errno":-2,"code":"ENOENT","syscall":"spawn definitely-not-a-command","path":"definitely-not-a-command","spawnargs":[]}'
        "'")}
