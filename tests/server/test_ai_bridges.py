"""The ai generation beyond the recorded exchanges: no auto-start and waiting for a start, the
project's state from never-started to stopped, copy-path's capabilities, the kiosk pages."""

import time

import pytest
import requests

from cocalc_magic.server.ai import calls



@pytest.fixture
def cocalc_server(cocalc_servers):
    """The session's ai server (the testing plugin's, as ``cocalc_server`` parametrised with "ai")."""
    return cocalc_servers("ai")


class Ai:
    def __init__(self, srv, key=None):
        self.srv, self.key = srv, key or srv.api_key

    def post(self, path, body):
        r = requests.post(self.srv.url + path, json=body, auth=(self.key, ""), timeout=60)
        assert r.status_code == 200
        return r.json()

    def hub(self, name, *args, **kw):
        return self.post("/api/conat/hub", {"name": name, "args": list(args), **kw})

    def project(self, pid, name, *args, **kw):
        return self.post("/api/conat/project", {"project_id": pid, "name": name, "args": list(args), **kw})

    def v2(self, path, body):
        return self.post("/api/v2/" + path, body)


@pytest.fixture
def ai(cocalc_server):
    return Ai(cocalc_server)


@pytest.fixture
def fresh(cocalc_server, ai):
    """A new project the first key is allowed on (never started)."""
    pid = cocalc_server.ctx.store.create_project(cocalc_server.account_id, "fresh")
    from cocalc_magic.server import ai as ai_pkg

    ai_pkg.allow(cocalc_server.ctx.store, cocalc_server.api_key, [pid])
    return pid


def test_state_goes_from_never_started_to_running_to_opened(ai, fresh):
    assert ai.hub("projects.getProjectState", {"project_id": fresh}) == {}
    assert ai.v2("projects/start", {"project_id": fresh}) == {"status": "ok"}
    assert ai.hub("projects.getProjectState", {"project_id": fresh})["state"] in ("starting", "running")
    assert ai.project(fresh, "system.ping", timeout=10000)["now"] > 0  # waits for the start
    assert ai.hub("projects.getProjectState", {"project_id": fresh})["state"] == "running"
    assert ai.v2("projects/stop", {"project_id": fresh}) == {"status": "ok"}
    st = ai.hub("projects.getProjectState", {"project_id": fresh})
    assert set(st) == {"time", "state"} and st["state"] == "opened"


def test_the_bridge_never_starts_a_project(ai, fresh):
    t0 = time.monotonic()
    out = ai.project(fresh, "system.exec", {"command": "echo hi", "bash": True}, timeout=700)
    assert time.monotonic() - t0 >= 0.69
    subject = f"project.{fresh}.api.-"
    assert out == {"error": f"timeout - Error: operation has timed out subject:{subject} - callHub: "
                            f"subject='{subject}', name='system.exec', code='408' "}
    assert ai.hub("projects.getProjectState", {"project_id": fresh}) == {}


def test_a_waiting_call_goes_through_once_someone_starts_the_project(ai, fresh):
    import threading

    threading.Timer(0.3, lambda: ai.v2("projects/start", {"project_id": fresh})).start()
    out = ai.project(fresh, "system.exec", {"command": "echo started", "bash": True}, timeout=10000)
    assert out == {"type": "blocking", "stdout": "started\n", "stderr": "", "exit_code": 0}


def test_the_default_bridge_timeout_is_fifteen_seconds():
    assert calls.timeout_s(calls.UNDEFINED) == 15.0 and calls.timeout_s(90000) == 90.0
    assert calls.timeout_s("nonsense") == 15.0 and calls.timeout_s(-1) == 15.0


def test_copy_path_needs_file_read_on_source_and_file_write_on_target(cocalc_server, ai, fresh):
    srv = cocalc_server
    ai.v2("projects/stop", {"project_id": srv.project_id})  # copies work on stopped projects
    src = srv.ctx.store.home(srv.project_id) / "cp-src"
    src.mkdir(exist_ok=True)
    (src / "a.txt").write_text("copied\n")
    body = {"src_project_id": srv.project_id, "target_project_id": fresh, "path": "cp-src", "target_path": "cp-dst"}
    assert ai.v2("projects/copy-path", body) == {"status": "ok"}
    assert (srv.ctx.store.home(fresh) / "cp-dst" / "a.txt").read_text() == "copied\n"
    read_only = Ai(srv, srv.create_key(["file:read"], [srv.project_id, fresh]))
    assert read_only.v2("projects/copy-path", body) == {
        "error": f"API key lacks required capability 'file:write' for project {fresh}"}
    write_only = Ai(srv, srv.create_key(["file:write"], [srv.project_id, fresh]))
    assert write_only.v2("projects/copy-path", body) == {
        "error": f"API key lacks required capability 'file:read' for project {srv.project_id}"}
    assert ai.v2("projects/copy-path", {**body, "path": None}) == {"error": "path must be specified"}
    assert ai.v2("projects/copy-path", {**body, "src_project_id": "x"}) == {"error": "src_project_id must be a valid uuid"}


def test_v2_exec_and_hub_exec_run_in_the_project(ai, cocalc_server):
    pid = cocalc_server.project_id
    ai.v2("projects/start", {"project_id": pid})
    out = ai.v2("exec", {"project_id": pid, "command": "echo $((6*7)); exit 3", "bash": True, "err_on_exit": False})
    assert out == {"type": "blocking", "stdout": "42\n", "stderr": "", "exit_code": 3}
    assert ai.v2("exec", {"project_id": pid, "command": "exit 7", "bash": True}) == {
        "error": "command 'exit 7' exited with nonzero code 7 -- stderr=''"}
    hub = ai.hub("projects.exec", {"project_id": pid, "execOpts": {"command": "echo via hub", "bash": True}})
    assert hub["stdout"] == "via hub\n"
    failed = ai.hub("projects.exec", {"project_id": pid, "execOpts": {"command": "exit 2", "bash": True}})
    assert failed == {"error": "command 'exit 2' exited with nonzero code 2 -- stderr='' - callHub: "
                               f"subject='hub.account.{cocalc_server.account_id}.api', name='projects.exec', code='unknown'"}


def test_a_new_project_is_not_in_the_keys_allowed_list(ai):
    p2 = ai.hub("projects.createProject", {"title": "made by the key"})
    assert ai.project(p2, "system.ping") == {
        "error": f"API key lacks required capability 'project:exec' for project {p2}"}
    assert ai.v2("projects/start", {"project_id": p2}) == {
        "error": f"API key lacks required capability 'project:exec' for project {p2}"}


def test_customize_says_cocalc_ai(cocalc_server):
    conf = requests.get(cocalc_server.url + "/customize", timeout=10).json()["configuration"]
    assert (conf["cocalc_product"], conf["is_rocket"], conf["is_launchpad"]) == ("rocket", True, False)
    assert conf["project_runtime"]["mode"] == "workspace"
    assert requests.get(cocalc_server.url + "/alive", timeout=10).text == "alive: YES"


def test_api_routes_of_post_only_handlers_refuse_get(cocalc_server):
    r = requests.get(cocalc_server.url + "/api/v2/projects/get", auth=(cocalc_server.api_key, ""), timeout=10)
    assert (r.status_code, r.json(), r.headers["Allow"]) == (405, {"error": "method_not_allowed"}, "POST")


def test_the_kiosk_pages_are_served(cocalc_server):
    r = requests.get(f"{cocalc_server.url}/projects/{cocalc_server.project_id}/files/x.ipynb?fullscreen=kiosk&session=",
                     timeout=10)
    assert r.status_code == 200 and "kiosk" in r.text


def test_bodies_are_read_as_express_reads_them(cocalc_server):
    url, auth = cocalc_server.url + "/api/conat/hub", (cocalc_server.api_key, "")
    for body in ('"system.ping"', "42", "null", '{"name": '):
        r = requests.post(url, data=body, headers={"Content-Type": "application/json"}, auth=auth, timeout=10)
        assert (r.status_code, r.headers["Content-Type"]) == (400, "text/html; charset=utf-8"), body
        assert "<pre>Bad Request</pre>" in r.text
    r = requests.post(url, data="[1, 2]", headers={"Content-Type": "application/json"}, auth=auth, timeout=10)
    assert r.json() == {"error": "API keys are not allowed to call hub RPC 'undefined'"}
    r = requests.post(url, data="", headers={"Content-Type": "application/json"}, auth=auth, timeout=10)
    assert r.json() == {"error": "API keys are not allowed to call hub RPC 'undefined'"}
    r = requests.post(url, json={"name": 5}, auth=auth, timeout=10)
    assert r.json() == {"error": "API keys are not allowed to call hub RPC '5'"}


def test_an_argument_over_linux_limit_is_cocalcs_spawn_error(ai, cocalc_server):
    pid = cocalc_server.project_id
    ai.v2("projects/start", {"project_id": pid})
    out = ai.project(pid, "system.exec", {"command": "echo", "args": ["x" * 200_000]}, timeout=10000)
    assert out == {"error": "error Error: spawn E2BIG"}
    hub = ai.hub("projects.exec", {"project_id": pid, "execOpts": {"command": "echo", "args": ["x" * 200_000]}})
    assert hub["error"].startswith("error Error: spawn E2BIG - callHub: ")


def test_bodies_up_to_express_limit_are_read_and_larger_ones_refused(ai, cocalc_server):
    pid = cocalc_server.project_id
    ai.v2("projects/start", {"project_id": pid})
    content = "y" * (3 * 1024 * 1024)  # over the conat generation's 1 MB, under Express' 10 MB
    assert ai.project(pid, "system.writeTextFileToProject", {"path": "big.txt", "content": content},
                      timeout=20000) is None
    assert (cocalc_server.ctx.store.home(pid) / "big.txt").stat().st_size == len(content)
    r = requests.post(cocalc_server.url + "/api/conat/hub", data=b"{" + b" " * (11 * 1024 * 1024) + b"}",
                      headers={"Content-Type": "application/json"}, auth=(cocalc_server.api_key, ""), timeout=30)
    assert (r.status_code, r.headers["Content-Type"]) == (413, "text/html; charset=utf-8")
    assert "<pre>Payload Too Large</pre>" in r.text


def test_no_sign_in_mints_a_key_for_an_app(cocalc_server):
    srv = cocalc_server
    before = srv.ctx.store.query("SELECT COUNT(*) AS n FROM api_keys")[0]["n"]
    r = requests.post(srv.url + "/app/get-api-key", allow_redirects=False, timeout=10,
                      data={"get_api_key": "myapp", "email": srv.email, "password": srv.password})
    assert r.status_code == 403 and "Account → API keys" in r.text and "Location" not in r.headers
    assert srv.ctx.store.query("SELECT COUNT(*) AS n FROM api_keys")[0]["n"] == before


def test_an_odd_project_id_is_named_as_javascript_prints_it(ai):
    assert ai.post("/api/conat/project", {"project_id": {"a": 1}, "name": "system.ping"}) == {
        "error": "API key lacks required capability 'project:exec' for project [object Object]"}
    assert ai.v2("projects/start", {}) == {"error": "API key lacks required capability 'project:exec' for project undefined"}


def test_collaborators_are_listed_with_project_read(cocalc_server, ai):
    srv = cocalc_server
    out = ai.v2("projects/collaborators/list", {"project_id": srv.project_id})
    assert out == [{"account_id": srv.account_id, "display_name": "Local Admin", "first_name": "Local",
                    "last_name": "Admin"}]
    no_read = Ai(srv, srv.create_key(["project:exec"]))
    assert no_read.v2("projects/collaborators/list", {"project_id": srv.project_id}) == {
        "error": f"API key lacks required capability 'project:read' for project {srv.project_id}"}
