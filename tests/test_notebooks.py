"""The notebooks are documentation that runs: nbmake executes each against a local server of
each API generation, the tour runs through ``cocalc-magic demo --check``, and the files are
stored without outputs."""

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
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


@pytest.mark.slow
@pytest.mark.parametrize("api", ["v1", "conat"])
def test_notebooks_run_against_the_local_server(api, tmp_path, isolated_env):
    work = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", work)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "--nbmake-timeout=300", "-q", "-p", "no:cacheprovider", str(work)],
        cwd=tmp_path, env={**isolated_env, "COCALC_LOCAL_API": api}, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout


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
    assert "[ERR]" not in out and "[err]" in out and out.splitlines()[-1].startswith("all ")
