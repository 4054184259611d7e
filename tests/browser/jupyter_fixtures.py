"""JupyterLab / Notebook 7 on loopback for browser tests, and helpers to drive a notebook in it.

Recipe from jupyter-mechanics.md §3: temporary JUPYTER_* and IPYTHON dirs (no workspace restore,
no announcements toast), a copy of the notebooks in a temporary root (Lab autosaves), allow_root,
the app exposed as ``window.jupyterapp`` (to run cells and code), and PYTHONPATH pointing at this
checkout so the kernel imports this copy of cocalc_magic.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[2]
TOKEN = "tok-cocalc-magic-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def notebook_json(*cells: str) -> str:
    """A notebook whose code cells are ``cells`` (not yet run)."""
    nb = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": src}
            for src in cells
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb)


class JupyterServer:
    def __init__(self, app: str, port: int, root: Path, proc: subprocess.Popen, log: Path):
        self.app, self.port, self.root, self.proc, self.log = app, port, root, proc, log
        self.url = f"http://127.0.0.1:{port}"
        self.origin = self.url

    def notebook_url(self, name: str) -> str:
        path = "lab/tree" if self.app == "lab" else "notebooks"
        return f"{self.url}/{path}/{name}?token={TOKEN}"


@contextmanager
def jupyter_server(app: str, notebooks: dict[str, str], env: dict[str, str] | None = None) -> Iterator[JupyterServer]:
    """Start ``jupyter lab`` (app="lab") or Notebook 7 (app="notebook") with ``notebooks``
    ({file name: notebook JSON}) in a temporary root; ``env`` goes to the server and its kernels."""
    with tempfile.TemporaryDirectory(prefix=f"cocalc-{app}-") as tmp:
        t = Path(tmp)
        dirs = {k: t / k.lower() for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR")}
        for d in dirs.values():
            d.mkdir()
        (dirs["JUPYTER_CONFIG_DIR"] / "labconfig").mkdir()
        (dirs["JUPYTER_CONFIG_DIR"] / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
        )
        root = t / "root"
        root.mkdir()
        for name, text in notebooks.items():
            (root / name).write_text(text)
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "COCALC_"))}
        full_env.update({k: str(v) for k, v in dirs.items()})
        full_env["PYTHONPATH"] = os.pathsep.join([str(REPO), full_env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        full_env["COCALC_MAGIC_NO_AUTOLOAD"] = "1"
        full_env.update(env or {})
        port = free_port()
        expose = "--LabApp.expose_app_in_browser=True" if app == "lab" else "--JupyterNotebookApp.expose_app_in_browser=True"
        module = "jupyterlab" if app == "lab" else "notebook"
        cmd = [
            sys.executable, "-m", module, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            "--ServerApp.port_retries=0", "--ServerApp.allow_root=True", f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={root}", expose, "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.news_url=None",
        ]
        log = t / "server.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, env=full_env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
        server = JupyterServer(app, port, root, proc, log)
        try:
            _wait_ready(server)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _wait_ready(server: JupyterServer, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"jupyter {server.app} exited: {server.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/api/status?token={TOKEN}", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"jupyter {server.app} did not start in {timeout} s: {server.log.read_text()[-2000:]}")


# ---------------------------------------------------------------------------- driving a notebook page
WAIT_KERNEL_IDLE = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
   const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
   return !!k && k.status === 'idle'; }"""

RUN_CELL = """async (i) => { const app = window.jupyterapp, panel = app.shell.currentWidget;
   await panel.sessionContext.ready; panel.content.activeCellIndex = i;
   await app.commands.execute('notebook:run-cell'); }"""

# Run code in the notebook's kernel (not in a cell) and return its text output; raise on error.
KERNEL_EXEC = """async (code) => { const w = window.jupyterapp.shell.currentWidget;
   await w.sessionContext.ready;
   const fut = w.sessionContext.session.kernel.requestExecute({ code, store_history: false });
   let out = ""; let err = null;
   fut.onIOPub = (msg) => { const t = msg.header.msg_type;
     if (t === "stream") out += msg.content.text;
     else if (t === "execute_result") out += msg.content.data["text/plain"];
     else if (t === "error") err = msg.content.ename + ": " + msg.content.evalue; };
   await fut.done;
   if (err) throw new Error(err);
   return out; }"""


def open_notebook(page, server: JupyterServer, name: str, timeout_ms: int = 90_000) -> None:
    page.goto(server.notebook_url(name))
    page.wait_for_function(WAIT_KERNEL_IDLE, timeout=timeout_ms)


def run_cell(page, index: int) -> None:
    page.evaluate(RUN_CELL, index)


def kernel_exec(page, code: str) -> str:
    return page.evaluate(KERNEL_EXEC, code)


def kernel_json(page, expr: str):
    """Evaluate a Python expression in the kernel and return it, through JSON."""
    return json.loads(kernel_exec(page, f"import json as _j; print(_j.dumps({expr}, default=str))"))


def wait_kernel(page, predicate_expr: str, timeout: float = 30) -> None:
    """Poll the kernel until the Python expression is true (Python state updated by comm messages)."""
    deadline = time.monotonic() + timeout
    while True:
        if kernel_json(page, f"bool({predicate_expr})"):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"kernel condition not met in {timeout} s: {predicate_expr}")
        time.sleep(0.25)
