"""With the test extra installed, pytest's start-up for a user's small test file loads no notebook
machinery: the notebooks run through nbclient inside tests/test_notebooks.py only, so no plugin
imports nbformat (and jsonschema, ≈1.5 s) at every start. Measured with ``-X importtime``."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("nbformat", "nbclient", "jsonschema", "nbmake")


def test_the_test_extra_brings_no_notebook_plugin():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    assert not [r for r in extra if r.lower().startswith(("nbmake", "pytest-notebook", "nbval"))], extra


def test_a_two_test_file_starts_without_notebook_imports(tmp_path):
    plugins = {ep.dist.name.lower() for ep in metadata.entry_points(group="pytest11") if ep.dist}
    if "nbmake" in plugins:
        pytest.skip("nbmake is still installed from an older test extra: pip uninstall nbmake")
    (tmp_path / "test_two.py").write_text("def test_a():\n    assert 1\n\n\ndef test_b():\n    assert 2\n")
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "test_two.py"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0 and "2 passed" in out.stdout, out.stdout + out.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert not {m for m in imported if m.split(".")[0] in HEAVY}
