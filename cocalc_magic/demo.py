"""``cocalc-magic demo``: the local server plus JupyterLab with the tour notebooks, in one command.

``--check`` runs the tour notebook headless against the local server and prints one line per
step, so a new machine can prove in a minute that everything works.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TOUR = "01-tour.ipynb"
DEFAULT_KEEP = "cocalc-demo"  # under the working directory: where a user finds the notebooks again


def notebooks_dir() -> Path:
    """The tour notebooks: inside the wheel (``_notebooks``) or, in a checkout, ``notebooks/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_notebooks", here.parent / "notebooks"):
        if (candidate / TOUR).exists():
            return candidate
    raise FileNotFoundError("the tour notebooks are missing from this installation")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# What each part of the demo imports, and the extra that brings it (a plain install has neither).
NEEDS = {"demo": ("jupyterlab", "nbclient", "ipykernel"), "check": ("nbclient", "nbformat", "ipykernel")}
EXTRA_LINE = "cocalc-magic demo{check} needs the demo extra (JupyterLab, nbclient): pip install 'cocalc-magic[demo]'"


def missing_extra(part: str) -> str | None:
    """The one line to show when the demo extra is not installed (None when it is)."""
    import importlib.util

    if all(importlib.util.find_spec(name) is not None for name in NEEDS[part]):
        return None
    return EXTRA_LINE.format(check=" --check" if part == "check" else "")


def _copy_notebooks(dest: Path) -> Path:
    root = dest / "notebooks"
    shutil.copytree(notebooks_dir(), root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return root


def _kept_notebooks(keep: Path) -> tuple[Path, str]:
    """The user's copies under ``keep`` (made once; later runs reuse them with their edits)."""
    root = keep.resolve()
    if (root / TOUR).exists():
        return root, f"your copies in {root} (kept: edits stay after Ctrl-C)"
    root.mkdir(parents=True, exist_ok=True)
    for nb in sorted(notebooks_dir().glob("*.ipynb")):
        if not (root / nb.name).exists():
            shutil.copy2(nb, root / nb.name)
    return root, f"copied to {root} (kept: edits stay after Ctrl-C; delete the folder for fresh copies)"


def run_demo(api: str = "conat", port: int | None = None, keep: str | None = DEFAULT_KEEP) -> int:
    """Start the server and JupyterLab; Ctrl-C stops both and leaves nothing running.

    ``keep``: the folder of the notebook copies the user works in (kept after Ctrl-C), or None for
    temporary copies deleted on exit.
    """
    missing = missing_extra("demo")
    if missing:
        print(missing, file=sys.stderr)
        return 2
    from .server import LocalServer

    # Ctrl-C (even where a parent left SIGINT ignored) and SIGTERM both end in the cleanup below.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    work = Path(tempfile.mkdtemp(prefix="cocalc-demo-"))
    srv = LocalServer(data_dir=work / "server", api=api, demo=True, allow_http_parents=True).start()
    if keep:
        root, where = _kept_notebooks(Path(keep))
    else:
        root, where = _copy_notebooks(work), "temporary copies (deleted on Ctrl-C: save elsewhere what you want to keep)"
    token = secrets.token_hex(16)
    port = port or _free_port()
    env = {**os.environ, **srv.env(), "JUPYTER_CONFIG_DIR": str(work / "jupyter-config")}
    _quiet_lab(Path(env["JUPYTER_CONFIG_DIR"]))
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--ServerApp.allow_root=True")
    print(f"Starting a local CoCalc ({api} API) and JupyterLab ...", flush=True)
    lab = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/lab/tree/{TOUR}?token={token}"
    try:
        if not _wait_for(f"http://127.0.0.1:{port}/api/status?token={token}", lab):
            print("cocalc-magic demo: JupyterLab did not start (is jupyterlab installed?)", file=sys.stderr)
            return 1
        print(f"Local CoCalc at {srv.url}: demo projects seeded; a fresh server each run, deleted on Ctrl-C.")
        print(f"Notebooks: {where}.")
        print(f"Open JupyterLab: {url}")
        print("Ctrl-C stops JupyterLab and the local server.", flush=True)
        lab.wait()
    except KeyboardInterrupt:
        print("\nstopping ...")
    finally:
        _stop(lab)
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)
    if keep:
        print(f"Your notebooks are in {root}.")
    return 0


def _quiet_lab(config_dir: Path) -> None:
    """No news toast over the notebook in a demo."""
    labconfig = config_dir / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )


def _wait_for(url: str, proc: subprocess.Popen, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.3)
    return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# ---------------------------------------------------------------------------------------- --check
def run_check(api: str = "conat", notebook: str = TOUR) -> int:
    """Execute the tour headless against a fresh local server; print one line per step."""
    missing = missing_extra("check")
    if missing:
        print(missing, file=sys.stderr)
        return 2
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from .server import LocalServer

    work = Path(tempfile.mkdtemp(prefix="cocalc-check-"))
    srv = LocalServer(data_dir=work / "server", api=api, demo=True, allow_http_parents=True).start()
    saved = {k: os.environ.get(k) for k in ("COCALC_HOST", "COCALC_API_KEY", "COCALC_MAGIC_NO_AUTOLOAD")}
    os.environ.update(srv.env())
    try:
        root = _copy_notebooks(work)
        nb = nbformat.read(root / notebook, as_version=4)
        client = NotebookClient(nb, timeout=180, kernel_name="python3", config=ipc_kernel(work),
                                resources={"metadata": {"path": str(root)}})
        failed = None
        try:
            client.execute()
        except CellExecutionError as exc:
            failed = str(exc).strip().splitlines()[-1] if str(exc).strip() else "a cell failed"
        lines, errors = summarize(nb)
        print(f"cocalc-magic demo --check: {notebook} against the local server ({api} API)")
        for line in lines:
            print(line)
        if failed or errors:
            print(f"FAILED: {failed or errors[0]}")
            return 1
        print(f"all {len(lines)} steps ran")
        return 0
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)


def ipc_kernel(work: Path):
    """nbclient's kernel on IPC sockets in ``work``: no TCP, so the kernel has no "running over TCP
    without encryption" warning to print (nbclient still owns and shuts down the kernel)."""
    from traitlets.config import Config

    work.mkdir(parents=True, exist_ok=True)
    return Config({"KernelManager": {"transport": "ipc", "ip": str(work / "kernel")}})


def summarize(nb) -> tuple[list[str], list[str]]:
    """One line per code cell: its first source line and the first line of what it showed.

    A cell tagged ``raises-exception`` shows an error on purpose: it is marked ``expected error``.
    """
    lines, errors = [], []
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        src = cell.source.strip().splitlines()[0][:48]
        expected_error = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        shown, ok = "", True
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                shown, ok = f"{out.ename}: {out.evalue}", expected_error
                break
            if out.output_type == "stream" and out.text.strip():
                shown = shown or out.text.strip().splitlines()[0]
            elif out.output_type in ("execute_result", "display_data"):
                text = out.get("data", {}).get("text/plain", "")
                if text.strip():
                    shown = shown or text.strip().splitlines()[0]
        mark = "FAILED" if not ok else "expected error" if expected_error and shown else "ok"
        lines.append(f"  {'[' + mark + ']':<16} {src:<48} -> {shown[:90]}")
        if not ok:
            errors.append(f"{src}: {shown}")
    return lines, errors
