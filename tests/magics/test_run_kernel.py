"""``%%cocalc_run`` in a real kernel: a notebook run by nbclient keeps the re-published outputs
with their mime types when saved (nbformat), the remote error fails its cell, and the frontend's
interrupt during a long remote cell interrupts the project's kernel and says so."""

from __future__ import annotations

import os
import time
import uuid

import nbformat
import pytest
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

from magic_helpers import kernel_execute

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("cocalc_server", ["v1", "conat", "ai"], indirect=True)]


def _env(cocalc_server, isolated_env):
    return {**isolated_env, "COCALC_HOST": cocalc_server.url, "COCALC_API_KEY": cocalc_server.api_key}


def _project(cocalc_server, prefix: str) -> tuple[str, str]:
    """A project's title and the line that makes it the default (ai: the key's one project)."""
    if cocalc_server.api == "ai":
        pid = cocalc_server.project_id
        return cocalc_server.ctx.store.project(pid)["title"], f"%cocalc use {pid}"
    title = f"{prefix}-{uuid.uuid4().hex[:6]}"
    return title, f"%cocalc create {title} --start\n%cocalc use {title}"


def test_a_saved_notebook_keeps_the_outputs(cocalc_server, tmp_path, isolated_env):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed in this environment")
    title, start = _project(cocalc_server, "nb")
    cells = [
        "%load_ext cocalc_magic",
        start,
        "%%cocalc_run\n%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 4, 9]); plt.show()",
        "%%cocalc_run\nfrom IPython.display import HTML, display\ndisplay(HTML('<i>remote</i>'))\nprint('out')",
        "%%cocalc_run\n1/0",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=_env(cocalc_server, isolated_env))
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    saved = nbformat.read(path, as_version=4)
    plot, html, error = (c.outputs for c in saved.cells[2:])
    assert [o.output_type for o in plot] == ["display_data"]
    assert set(plot[0].data) == {"image/png", "text/plain"}
    assert [(o.output_type, sorted(o.get("data", {})) or o.get("text")) for o in html] == [
        ("display_data", ["text/html", "text/plain"]), ("stream", "out\n")]
    assert html[0].data["text/html"] == "<i>remote</i>"
    (err,) = error
    assert err.output_type == "error" and err.ename == "RemoteCellError"
    assert err.traceback[-1] == f"ZeroDivisionError: division by zero (in project '{title}', kernel python3)"


def _execute(km, kc, code, interrupt_when=None, timeout=90):
    return kernel_execute(km, kc, code, interrupt_when, timeout)[0]


def test_ctrl_c_interrupts_the_remote_kernel(cocalc_server, tmp_path, isolated_env):
    km, kc = start_new_kernel(kernel_name="python3", env=_env(cocalc_server, isolated_env), cwd=str(tmp_path))
    try:
        title, start = _project(cocalc_server, "int")
        _execute(km, kc, "%load_ext cocalc_magic")
        _execute(km, kc, start)
        marker = tmp_path / f"marker-{uuid.uuid4().hex[:6]}"
        outs = _execute(km, kc, f"%%cocalc_run\nimport os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\n"
                                "time.sleep(60)", interrupt_when=lambda: marker.exists() and marker.read_text())
        remote_pid = int(marker.read_text())
        (kind, ename, tb), = outs
        assert (kind, ename) == ("error", "CoCalcMagicError")
        assert tb == [f"Interrupted (in project '{title}', kernel python3): the cell was interrupted in the "
                      f"project's kernel (SIGINT to pid {remote_pid})."]
        time.sleep(1)
        with pytest.raises(ProcessLookupError):
            os.kill(remote_pid, 0)  # that kernel is gone: the call ended and the server closed it
        assert _execute(km, kc, "%%cocalc_run\n'after'") == [("display_data", ["text/plain"])]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
