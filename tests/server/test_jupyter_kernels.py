"""The local server's stateless Jupyter execution in real kernels (jupyter_client, kept in a pool),
with CoCalc's semantics: the project's ``system.jupyterExecute``, the hub's cached
``jupyter.execute``, ``/api/v2/jupyter/execute`` (noCache), v1 ``jupyter_kernels`` and
``jupyter_execute``; limits, history, errors and the kernel list as CoCalc has them."""

from __future__ import annotations

import base64
import time

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def pid(api):
    return api.hub("projects.createProject", {"title": "kernels"})


def run(api, pid, **opts):
    return api.project(pid, "system.jupyterExecute", {"kernel": "python3", **opts}, timeout=60000)


def test_outputs_in_cocalc_shapes(api, pid):
    assert run(api, pid, input="1+1") == [{"data": {"text/plain": "2"}}]
    assert run(api, pid, input="print('hi'); import sys; print('e', file=sys.stderr); 6*7") == [
        {"name": "stdout", "text": "hi\n"}, {"name": "stderr", "text": "e\n"}, {"data": {"text/plain": "42"}}]
    out = run(api, pid, input="from IPython.display import HTML, display\ndisplay(HTML('<b>x</b>'))")
    assert out == [{"data": {"text/plain": "<IPython.core.display.HTML object>", "text/html": "<b>x</b>"}}]
    (err,) = run(api, pid, input="1/0")
    assert list(err) == ["traceback", "ename", "evalue"]
    assert (err["ename"], err["evalue"]) == ("ZeroDivisionError", "division by zero")
    assert "\x1b[" in err["traceback"][0] and "In[1]" in err["traceback"][2]  # colours kept, as recorded


def test_a_matplotlib_figure_is_a_real_png(api, pid):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed in this environment")
    (fig,) = run(api, pid, input="%matplotlib inline\nimport matplotlib.pyplot as plt\n"
                                 "plt.figure(figsize=(2,2)); plt.plot([1,2,3],[1,4,9]); plt.show()")
    assert fig["data"]["text/plain"] == "<Figure size 200x200 with 1 Axes>"
    assert base64.b64decode(fig["data"]["image/png"]).startswith(b"\x89PNG\r\n\x1a\n")


def test_stateless_history_and_directories(api, pid, cocalc_server):
    home = str(cocalc_server.ctx.store.home(pid))
    run(api, pid, input="a = 5")
    assert run(api, pid, input="a")[0]["ename"] == "NameError"  # every call is a fresh kernel
    assert run(api, pid, history=["a = 20", "b = a + 1"], input="a + b") == [{"data": {"text/plain": "41"}}]
    # CoCalc's kernels run in a fresh temp dir; `path` (relative to HOME) is where to chdir
    cwd = run(api, pid, input="import os; os.getcwd()")[0]["data"]["text/plain"]
    assert "cocalc" in cwd and home not in cwd
    assert run(api, pid, path="", input="import os; os.getcwd()") == [{"data": {"text/plain": repr(home)}}]
    api.project(pid, "system.writeTextFileToProject", {"path": "sub/data.txt", "content": "42"})
    assert run(api, pid, path="sub", input="open('data.txt').read()") == [{"data": {"text/plain": "'42'"}}]


def test_limits_as_run_cell_applies_them(api, pid):
    out = run(api, pid, input="print('hi'); import sys; sys.stdout.flush(); print('x'*100)",
              limits={"max_output_per_cell": 50})
    assert out == [{"name": "stdout", "text": "hi\n"}, {"name": "stdout", "output_type": "stream", "text": [
        "Output truncated since it exceeded the cell output limit of 50 characters"]}]
    t0 = time.monotonic()
    out = run(api, pid, input="import time\nfor i in range(100): time.sleep(0.1)",
              limits={"timeout_ms_per_cell": 1000})
    assert 1 <= time.monotonic() - t0 < 20
    assert out[-1]["ename"] == "KeyboardInterrupt"  # SIGINT at the limit, as CoCalc does


def test_unknown_kernel_names_the_available_ones(api, pid):
    out = api.project(pid, "system.jupyterExecute", {"input": "1", "kernel": "julia"})
    assert out == {"error": 'Error: **Unable to Spawn Jupyter Kernel:**\n\nError: No spec available for kernel '
                            '"julia".  Available specs: ["python3"] \n\nTry this in a terminal to help debug this '
                            "(or contact support): `jupyter console --kernel=julia`\n\nOnce you fix the problem, "
                            "explicitly restart this kernel to test here."}


def test_the_pool_lists_and_stops_kernels(api, pid, cocalc_server):
    run(api, pid, input="1")
    deadline = time.monotonic() + 20  # the pool warms its next kernels a few random seconds apart
    while not (kernels := api.project(pid, "system.listJupyterKernels")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kernels and all(set(k) == {"pid", "connectionFile", "kernel_name"} for k in kernels)
    assert {k["kernel_name"] for k in kernels} == {"python3"}
    assert api.project(pid, "system.stopJupyterKernel", {"pid": kernels[0]["pid"]}) == {"success": True}
    assert kernels[0]["pid"] not in [k["pid"] for k in api.project(pid, "system.listJupyterKernels")]
    assert api.project(pid, "system.stopJupyterKernel", {"pid": 1}) == {"success": False}
    api.hub("projects.stop", {"project_id": pid})
    assert api.project(pid, "system.listJupyterKernels") == []  # the project's kernels died with it


def test_the_hub_answers_from_its_cache(api, pid):
    code = "import time; time.time_ns()"
    first = api.hub("jupyter.execute", {"input": code, "kernel": "python3", "project_id": pid})
    again = api.hub("jupyter.execute", {"input": code, "kernel": "python3", "project_id": pid})
    assert "id" not in first and again["output"] == first["output"] and again["created"] == first["created"]
    assert isinstance(again["id"], int)  # the cache row's id, as CoCalc's getFromDatabase returns it
    fresh = api.hub("jupyter.execute", {"input": code, "kernel": "python3", "project_id": pid, "noCache": True})
    assert fresh["output"] != first["output"]
    assert run(api, pid, input=code) != first["output"]  # the project's own call never caches


@pytest.mark.parametrize("cocalc_server", ["v1"], indirect=True)
def test_v1_era_jupyter(cocalc_server, api):
    import requests

    auth = (cocalc_server.api_key, "")
    post = lambda path, body: requests.post(cocalc_server.url + path, json=body, auth=auth, timeout=60).json()  # noqa: E731
    pid = post("/api/v1/create_project", {"title": "v1 kernels"})["project_id"]
    kernels = post("/api/v1/jupyter_kernels", {"project_id": pid})
    assert kernels["event"] == "jupyter_kernels" and [k["name"] for k in kernels["kernels"]] == ["python3"]
    # the message has no account_id, so CoCalc's execute refuses a project (a50170846e)
    out = post("/api/v1/jupyter_execute", {"project_id": pid, "kernel": "python3", "input": "1+1"})
    assert out["event"] == "error" and out["error"] == "Error: account_id must be specified -- make sure you are signed in"
    out = post("/api/v2/jupyter/execute", {"project_id": pid, "kernel": "python3", "input": "1+1", "noCache": True})
    assert out["output"] == [{"data": {"text/plain": "2"}}] and out["success"] is True and "created" in out
    out = post("/api/v2/jupyter/kernels", {"project_id": pid})
    assert out["success"] is True and [k["name"] for k in out["kernels"]] == ["python3"]


def test_a_kernel_that_dies_is_an_error(api, pid):
    out = api.project(pid, "system.jupyterExecute", {"kernel": "python3", "input": "import os; os._exit(3)"},
                      timeout=60000)
    assert out["error"].startswith("Error: Kernel last exited with code 3.")
    assert run(api, pid, input="1+1") == [{"data": {"text/plain": "2"}}]  # the next call has a fresh kernel
