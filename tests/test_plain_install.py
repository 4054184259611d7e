"""A plain install (no extras) into a fresh virtual environment, as `pip install cocalc-magic`
makes it: `cocalc-magic --version`, `%cocalc help` through the auto-load, and the one-line answers
of `demo` and `demo --check` (which need the demo extra). Nothing is downloaded: the wheel is built
from this checkout, and the venv sees only the package's own dependencies (and theirs), linked
from the test environment, so JupyterLab and ipykernel are missing as on a user's machine
(nbclient is there: nbconvert, which the panel's read-only view uses, depends on it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _name(req: str) -> str:
    return re.split(r"[\s\[<>=!~;(]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def dependency_closure() -> dict[str, metadata.Distribution]:
    """The installed distributions a plain install of cocalc-magic needs (no extras)."""
    from packaging.requirements import Requirement

    own = metadata.metadata("cocalc-magic") if _installed("cocalc-magic") else None
    roots = [r for r in (own.get_all("Requires-Dist") if own else _pyproject_deps())
             if "extra ==" not in r]
    seen: dict[str, metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        req = Requirement(todo.pop())
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        name = _name(req.name)
        if name in seen or not _installed(name):
            continue
        seen[name] = metadata.distribution(name)
        todo += seen[name].requires or []
    return seen


def _installed(name: str) -> bool:
    try:
        metadata.distribution(name)
        return True
    except metadata.PackageNotFoundError:
        return False


def _pyproject_deps() -> list[str]:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


@pytest.fixture(scope="module")
def plain_venv(tmp_path_factory):
    base = tmp_path_factory.mktemp("plain")
    wheels = base / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                            "-q", "-w", str(wheels), str(ROOT)], capture_output=True, text=True, timeout=300, cwd=base)
    assert built.returncode == 0, built.stdout + built.stderr
    env_dir = base / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    py = env_dir / "bin" / "python"
    purelib = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    # Only the dependencies' own top-level modules, linked from the test environment.
    deps = base / "deps"
    deps.mkdir()
    for dist in dependency_closure().values():
        site = Path(dist.locate_file(""))
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            if (site / top).exists() and not (deps / top).exists():
                (deps / top).symlink_to(site / top)
    (purelib / "_deps_of_cocalc_magic.pth").write_text(f"{deps}\n")
    wheel = next(wheels.glob("cocalc_magic-*.whl"))
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
                                "--no-index", "-q", str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return env_dir


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COCALC_", "PYTHON", "JUPYTER", "IPYTHON"))}
    env.update(HOME=str(tmp_path), IPYTHONDIR=str(tmp_path / "ipython"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    return env


def run(venv: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=_env(tmp_path))


def test_the_venv_is_plain(plain_venv, tmp_path):
    r = run(plain_venv, tmp_path, "python", "-c",
            "import importlib.util as u; print([m for m in ('jupyterlab', 'ipykernel', 'pytest') "
            "if u.find_spec(m)])")
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def test_version(plain_venv, tmp_path):
    r = run(plain_venv, tmp_path, "cocalc-magic", "--version")
    assert r.returncode == 0 and re.fullmatch(r"cocalc-magic \d+\.\d+\.\d+\S*\n", r.stdout), r.stdout + r.stderr


def test_cocalc_help_through_the_autoload(plain_venv, tmp_path):
    r = run(plain_venv, tmp_path, "python", "-m", "IPython", "--no-banner", "-c", "%cocalc help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Usage: %cocalc SUBCOMMAND [options]") and "autoload failed" not in r.stderr


@pytest.mark.parametrize("args, line", [
    (["demo"], "cocalc-magic demo needs the demo extra (JupyterLab, nbclient): pip install 'cocalc-magic[demo]'"),
    (["demo", "--check"],
     "cocalc-magic demo --check needs the demo extra (JupyterLab, nbclient): pip install 'cocalc-magic[demo]'"),
])
def test_demo_says_in_one_line_which_extra_to_install(plain_venv, tmp_path, args, line):
    r = run(plain_venv, tmp_path, "cocalc-magic", *args)
    assert r.returncode == 2 and r.stdout == "" and r.stderr == line + "\n", r.stdout + r.stderr
    assert not (tmp_path / "cocalc-demo").exists()
