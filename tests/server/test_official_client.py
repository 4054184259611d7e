"""The official Python client (PyPI ``cocalc-api``) against the local server's current generation."""

import pytest

cocalc_api = pytest.importorskip("cocalc_api")

pytestmark = pytest.mark.parametrize("cocalc_server", ["conat"], indirect=True)


def _has_user_query() -> bool:
    from cocalc_magic.server.core import userquery

    return hasattr(userquery, "user_query")


def test_hub_system_and_projects(cocalc_server):
    hub = cocalc_api.Hub(cocalc_server.api_key, host=cocalc_server.url)
    assert set(hub.system.ping()) == {"now"}
    assert hub.system.test()["account_id"] == cocalc_server.account_id
    project_id = hub.projects.create_project(title="Official client", description="made by cocalc-api")
    assert isinstance(project_id, str) and len(project_id) == 36
    assert hub.projects.state(project_id)["state"] == "opened"
    hub.projects.start(project_id)
    assert hub.projects.state(project_id)["state"] == "running"
    assert set(hub.projects.status(project_id)) >= {"project.pid", "start_ts"}
    names = hub.system.get_names([cocalc_server.account_id])
    assert names[cocalc_server.account_id]["first_name"] == "Local"
    with pytest.raises(RuntimeError, match="must be collaborator on project to get state"):
        hub.projects.state("00000000-0000-4000-8000-000000000000")


@pytest.mark.skipif(not _has_user_query(), reason="userquery.user_query (the v1-server helper's) not merged yet")
def test_hub_projects_get(cocalc_server):
    hub = cocalc_api.Hub(cocalc_server.api_key, host=cocalc_server.url)
    project_id = hub.projects.create_project(title="Listed by get")
    listed = hub.projects.get()
    assert project_id in [p["project_id"] for p in listed]
    mine = hub.projects.get(project_id=project_id)
    assert mine[0]["title"] == "Listed by get"


def test_project_exec_and_jupyter(cocalc_server):
    hub = cocalc_api.Hub(cocalc_server.api_key, host=cocalc_server.url)
    project_id = hub.projects.create_project(title="Exec")
    project = cocalc_api.Project(cocalc_server.api_key, host=cocalc_server.url, project_id=project_id)
    assert set(project.system.ping()) == {"now"}
    assert project.system.test()["project_id"] == project_id
    out = project.system.exec(command="echo 'hello from cocalc'")
    assert out == {"type": "blocking", "stdout": "hello from cocalc\n", "stderr": "", "exit_code": 0}
    out = project.system.exec(command="python3", args=["-c", "print(6*7)"], timeout=20)
    assert out["stdout"] == "42\n"
    with pytest.raises(RuntimeError, match="exited with nonzero code 3"):
        project.system.exec(command="exit 3", bash=True)
    assert project.system.jupyter_execute(input="sum(range(100))", kernel="python3") == [{"data": {"text/plain": "4950"}}]
    assert project.system.jupyter_execute(history=["a = 100"], input="sum(range(a + 1))", kernel="python3") == [
        {"data": {"text/plain": "5050"}}]
    assert project.system.jupyter_execute(input='print("Hello")', kernel="python3") == [{"name": "stdout", "text": "Hello\n"}]


def test_project_key_without_project_id(cocalc_server):
    hub = cocalc_api.Hub(cocalc_server.api_key, host=cocalc_server.url)
    project_id = hub.projects.create_project(title="Scoped")
    _, key = cocalc_server.ctx.store.create_api_key(cocalc_server.account_id, project_id=project_id)
    project = cocalc_api.Project(key, host=cocalc_server.url)
    assert project.system.test()["project_id"] == project_id
    assert project.system.exec(command="pwd")["exit_code"] == 0
    with pytest.raises(RuntimeError, match="must be signed in and MUST provide an api key"):
        cocalc_api.Hub(key, host=cocalc_server.url).system.ping()
