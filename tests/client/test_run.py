"""``p.run`` / ``p.session`` / ``p.kernels`` against the local server, every generation: what comes
back (typed outputs, text, errors), sessions replaying what succeeded, ``variables`` (-o) exact and
whole, and the limits named before sending and when hit."""

from __future__ import annotations

import uuid

import pytest

from cocalc_magic import CoCalc
from cocalc_magic.errors import InvalidRequest, NotFound, ServerTimeout

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("cocalc_server", ["v1", "conat", "ai"], indirect=True)]


@pytest.fixture
def p(cocalc_server):
    cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key)
    if cocalc_server.api == "ai":  # an ai key is allowed on its one project only
        return cc.project(cocalc_server.project_id)
    return cc.create_project(f"run-{uuid.uuid4().hex[:6]}", start=True)


def test_outputs_come_back_typed_and_in_order(p):
    from cocalc_magic.client.jupyter import CellError, Display, Stream

    r = p.run("print('hi'); import sys; print('oops', file=sys.stderr)\n"
              "from IPython.display import HTML, display; display(HTML('<b>x</b>'))\n6*7")
    assert r.outputs == [Stream("stdout", "hi\n"), Stream("stderr", "oops\n"),
                         Display({"text/plain": "<IPython.core.display.HTML object>", "text/html": "<b>x</b>"}),
                         Display({"text/plain": "42"})]
    assert (r.stdout, r.stderr, r.ok, r.error) == ("hi\n", "oops\n", True, None)
    assert r.text == "hi\noops\n<IPython.core.display.HTML object>\n42\n"
    bad = p.run("x = 1\n1/0")
    assert isinstance(bad.error, CellError) and str(bad.error) == "ZeroDivisionError: division by zero"
    assert not bad.ok and any("ZeroDivisionError" in line for line in bad.error.traceback)
    assert p.run("a + 1", history=["a = 20"]).text == "21\n"


def test_a_session_replays_what_succeeded(p):
    s = p.session()
    s.run("x = 5")
    assert s.run("x * 2").text == "10\n"
    assert s.run("1/0").error is not None
    assert s.history == ["x = 5", "x * 2"]  # the failed cell is not replayed
    assert p.run("x").error.ename == "NameError"  # a fresh call keeps nothing
    s.reset()
    assert s.history == [] and s.run("x").error.ename == "NameError"


def test_variables_come_back_exactly(p):
    pd = pytest.importorskip("pandas", reason="pandas is not installed in this environment")
    r = p.run("import pandas as pd\nd = {'a': [1, 2.5, None, True, 'x'], 'big': 2**70}\n"
              "df = pd.DataFrame({'n': range(3000), 'f': [i / 7 for i in range(3000)], 's': ['x'] * 3000})",
              variables=["d", "df"])
    assert r.variables["d"] == {"a": [1, 2.5, None, True, "x"], "big": 2 ** 70}
    df = r.variables["df"]
    expected = pd.DataFrame({"n": range(3000), "f": [i / 7 for i in range(3000)], "s": ["x"] * 3000})
    assert df.shape == (3000, 3) and df.equals(expected) and (df.dtypes == expected.dtypes).all()


def test_what_cannot_travel_is_refused_by_name(p):
    from cocalc_magic.client.jupyter import VariablesNotReturned

    with pytest.raises(VariablesNotReturned, match=r"t is of type tuple: only JSON data .* pandas DataFrame and Series travel"):
        p.run("t = (1, 2)", variables=["t"])
    with pytest.raises(VariablesNotReturned, match="nope is not defined in the remote cell"):
        p.run("1", variables=["nope"])


def test_a_wrong_kernel_names_the_available_ones(p):
    with pytest.raises(NotFound, match=r"has no Jupyter kernel 'julia'; it offers: python3"):
        p.run("1", kernel="julia")
    assert [k.name for k in p.kernels()] == ["python3"]
    assert p.kernels()[0].language == "python"


def test_timeouts_are_named(p, cocalc_server):
    if p.client.api == "v1":
        with pytest.raises(InvalidRequest, match="this server stops a cell after 30 s"):
            p.run("1", timeout=120)
        return
    with pytest.raises(ServerTimeout, match=r"ran past its time limit of 1 s and the server interrupted it\. "
                                            r"Give it more time with p\.run\(\.\.\., timeout=S\)") as e:
        p.run("print('started', flush=True)\nimport time; time.sleep(30)", timeout=1)
    assert e.value.result.stdout == "started\n"


def test_cells_run_in_the_home_or_in_path(p, cocalc_server):
    home = str(cocalc_server.ctx.store.home(p.project_id))
    p.write("sub/data.txt", "42")
    assert p.run("import os; os.getcwd()").text == repr(home) + "\n"
    assert p.run("open('data.txt').read()", path="sub").text == "'42'\n"


def test_output_cut_by_the_server_is_said(p):
    r = p.run("print('x' * 1_100_000)")
    assert r.ok and len(r.stdout) < 1_100_000
    assert r.notes == ["The server cut this cell's output: Output truncated since it exceeded the cell output limit "
                       "of 1000000 characters (CoCalc's Jupyter API limit; nothing more was sent)."]

