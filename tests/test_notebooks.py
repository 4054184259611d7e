"""The notebooks are documentation that runs: each runs against a local server of each API
generation twice in a row in one kernel (a second *Run All*) and once more in a new kernel (after
*Restart Kernel*), without an error, and the second and third runs create nothing new. The tour
also runs through ``cocalc-magic demo --check``, and the files are stored without outputs.

Notebooks run through nbclient here (no notebook plugin loaded at every pytest start-up)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_are_stored_without_outputs():
    assert [p.name for p in NOTEBOOKS] == ["01-tour.ipynb", "02-embedding.ipynb", "03-classroom.ipynb"]
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        assert nb["nbformat"] == 4
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


def snapshot(srv) -> dict:
    """What a run can create: accounts, projects, and the files in every project's home (not the
    hidden state a project's kernel keeps, such as ~/.ipython's history journal)."""
    store = srv.ctx.store
    homes = srv.data_dir / "projects"
    return {
        "accounts": sorted(r["account_id"] for r in store.query("SELECT account_id FROM accounts")),
        "projects": sorted(r["project_id"] for r in store.query("SELECT project_id FROM projects")),
        "files": sorted(str(rel) for rel in (p.relative_to(homes) for p in homes.rglob("*") if p.is_file())
                        if not any(part.startswith(".") for part in rel.parts)) if homes.exists() else [],
    }


def run_all(client, nb) -> list[str]:
    """Run every cell as *Run All* does (stop at the first unexpected error); the errors seen."""
    from nbclient.exceptions import CellExecutionError

    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                return [f"cell {index}: {str(exc).strip().splitlines()[-1]}"]
    return []


@pytest.mark.slow
@pytest.mark.parametrize("api", ["v1", "conat"])
@pytest.mark.parametrize("name", [p.name for p in NOTEBOOKS])
def test_notebook_runs_twice_and_after_a_restart(name, api, tmp_path, isolated_env):
    import nbformat
    from nbclient import NotebookClient

    from cocalc_magic.demo import ipc_kernel
    from cocalc_magic.server import LocalServer

    work = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", work)
    srv = LocalServer(data_dir=tmp_path / "server", api=api, demo=True, allow_http_parents=True).start()
    env = {**isolated_env, **srv.env(), "COCALC_LOCAL_API": api}
    try:
        states, errors = [], []
        for kernel in ("first", "restarted"):
            nb = nbformat.read(work / name, as_version=4)
            client = NotebookClient(nb, timeout=300, kernel_name="python3", config=ipc_kernel(tmp_path / kernel),
                                    resources={"metadata": {"path": str(work)}})
            with client.setup_kernel(env=env, cwd=str(work)):
                for _ in range(2 if kernel == "first" else 1):
                    errors += run_all(client, nb)
                    states.append(snapshot(srv))
        assert errors == [], errors
        first, *again = states
        for later in again:
            for what in first:
                assert later[what] == first[what], f"a later run of {name} made new {what}: " \
                    f"{sorted(set(later[what]) - set(first[what]))}"
    finally:
        srv.stop()


@pytest.mark.slow
def test_demo_check_summarises_every_step(tmp_path, isolated_env):
    result = subprocess.run(
        [sys.executable, "-m", "cocalc_magic.cli", "demo", "--check"],
        cwd=tmp_path, env=isolated_env, capture_output=True, text=True, timeout=600,
    )
    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-2000:]
    for step in ("%cocalc ping", "%cocalc projects", "%%cocalc_write hello.py", "%cocalc read hello.py",
                 "%cocalc exec python3 hello.py", "%cocalc open notes.md"):
        assert step in out, step
    assert "pong" in out.lower() and "hello from the project" in out
    assert "[FAILED]" not in out and "[expected error] %cocalc read no/such/file.txt" in out
    assert out.splitlines()[-1].startswith("all ")
    assert "WARNING" not in result.stderr and "without encryption" not in result.stderr, result.stderr
