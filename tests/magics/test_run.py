"""``%%cocalc_run`` through a real InteractiveShell on every generation of the local server: each
output re-published with its mime bundle, streams to the cell's streams, the remote traceback then
one line, sessions, --fresh, -o, refusals, a wrong kernel, a timeout; ``%cocalc kernels`` and
``%cocalc session``."""

from __future__ import annotations

import base64
import uuid

import pytest

from magic_helpers import run

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("cocalc_server", ["v1", "conat", "ai"], indirect=True)]


@pytest.fixture
def shell(ip, cocalc_server, monkeypatch):
    monkeypatch.setenv("COCALC_HOST", cocalc_server.url)
    monkeypatch.setenv("COCALC_API_KEY", cocalc_server.api_key)
    if cocalc_server.api == "ai":  # an ai key is allowed on its one project only
        assert run(ip, f"%cocalc use {cocalc_server.project_id}").ok
        ip.title = cocalc_server.ctx.store.project(cocalc_server.project_id)["title"]
        return ip
    title = f"run-{uuid.uuid4().hex[:6]}"
    assert run(ip, f"%cocalc create {title} --start\n%cocalc use {title}").ok
    ip.title = title
    return ip


def test_outputs_come_back_as_if_run_here(shell):
    r = run(shell, "%%cocalc_run\nprint('hi'); import sys; print('oops', file=sys.stderr)\n"
                   "from IPython.display import HTML, display; display(HTML('<b>x</b>'))\n6*7")
    assert r.ok and r.stdout == "hi\n" and r.stderr == "oops\n"
    assert r.outputs == [{"text/plain": "<IPython.core.display.HTML object>", "text/html": "<b>x</b>"},
                         {"text/plain": "42"}]


def test_a_matplotlib_png(shell):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed in this environment")
    r = run(shell, "%%cocalc_run\n%matplotlib inline\nimport matplotlib.pyplot as plt\n"
                   "plt.figure(figsize=(2, 2)); plt.plot([1, 2, 3]); plt.show()")
    assert r.ok, r
    (png,) = r.outputs
    assert base64.b64decode(png["image/png"]).startswith(b"\x89PNG") and png["text/plain"].startswith("<Figure")


def test_an_exception_shows_the_remote_traceback_then_fails(shell):
    r = run(shell, "%%cocalc_run\nx = 1\n1/0")
    assert not r.ok
    err = r.error
    assert err.line == f"ZeroDivisionError: division by zero (in project '{shell.title}', kernel python3)"
    tb = err._render_traceback_()
    assert tb[-1] == err.line and any("\x1b[" in line and "ZeroDivisionError" in line for line in tb[:-1])


def test_a_session_keeps_x_and_fresh_does_not(shell):
    assert run(shell, "%%cocalc_run\nx = 5").ok
    assert run(shell, "%%cocalc_run\nx").outputs == [{"text/plain": "5"}]
    r = run(shell, "%%cocalc_run --fresh\nx")
    assert not r.ok and r.error.line.startswith("NameError: name 'x' is not defined")
    assert run(shell, "%%cocalc_run --session other\nx").error is not None  # another session
    r = run(shell, "%cocalc session reset")
    assert r.ok and "2 cells forgotten" in r.stdout
    assert run(shell, "%%cocalc_run\nx").error is not None


def test_o_brings_a_dict_and_a_whole_dataframe_back(shell):
    pd = pytest.importorskip("pandas", reason="pandas is not installed in this environment")
    r = run(shell, "%%cocalc_run -o d df\nimport pandas as pd\nd = {'a': [1, None, 'x'], 'n': 2**70}\n"
                   "df = pd.DataFrame({'i': range(5000), 'sq': [i * i for i in range(5000)]})")
    assert r.ok, r
    assert "df: DataFrame, 5,000 rows × 2 columns" in r.stdout
    assert shell.user_ns["d"] == {"a": [1, None, "x"], "n": 2 ** 70}
    df = shell.user_ns["df"]
    assert isinstance(df, pd.DataFrame) and len(df) == 5000 and int(df["sq"].iloc[-1]) == 4999 ** 2


def test_o_refuses_what_cannot_travel(shell):
    r = run(shell, "%%cocalc_run -o f\nf = {1, 2}")
    assert not r.ok
    assert "f is of type set: only JSON data (dict with str keys, list" in r.error.line
    assert "f" not in shell.user_ns


def test_a_wrong_kernel_names_the_available_ones(shell):
    r = run(shell, "%%cocalc_run --kernel julia\n1")
    assert not r.ok and "has no Jupyter kernel 'julia'; it offers: python3" in r.error.line
    r = run(shell, "%cocalc kernels")
    assert r.ok and r.stdout.startswith("python3 ")


def test_a_timeout_is_named(shell, cocalc_server):
    if cocalc_server.api == "v1":
        r = run(shell, "%%cocalc_run --timeout 120\n1")
        assert not r.ok and "this server stops a cell after 30 s" in r.error.line
        assert "Use a --timeout within that limit" in r.error.line  # advice in the magic's words
        return
    r = run(shell, "%%cocalc_run --timeout 1\nprint('started', flush=True)\nimport time; time.sleep(30)")
    assert not r.ok and r.stdout.startswith("started\n")
    assert "ran past its time limit of 1 s and the server interrupted it" in r.error.line
    assert "Give it more time with --timeout S" in r.error.line


def test_help_says_earlier_cells_run_again(shell):
    r = run(shell, "%%cocalc_run --help\npass")
    assert r.ok and "re-run before each cell" in r.stdout.lower() and "--fresh" in r.stdout
