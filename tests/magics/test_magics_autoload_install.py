"""Installing the package makes %cocalc available in every new IPython and kernel of that
environment, without %load_ext; COCALC_MAGIC_NO_AUTOLOAD=1 turns that off.

The fresh venv borrows the test environment's packages through a .pth file (nothing is downloaded)
and installs this checkout with ``pip install --no-deps --no-build-isolation``."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

PROBE = ("ip = get_ipython(); print('has %cocalc:', 'cocalc' in ip.magics_manager.magics['line'], "
         "'loaded:', 'CoCalcMagics' in ip.magics_manager.registry)")

KERNEL_SCRIPT = textwrap.dedent("""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell({probe!r}))
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    print("".join(o.get("text", "") for o in nb.cells[0].outputs), end="")
""")


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    base = tmp_path_factory.mktemp("venv")
    env_dir = base / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(env_dir)],
                   check=True, timeout=120)
    py = env_dir / "bin" / "python"
    target = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            check=True, capture_output=True, text=True).stdout.strip()
    # A venv made from a venv sees the base interpreter's packages, not the test venv's: borrow those.
    Path(target, "_borrowed_test_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    out = subprocess.run(
        [str(py), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q", str(ROOT)],
        capture_output=True, text=True, timeout=300, cwd=base,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return env_dir


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COCALC_", "PYTHON", "JUPYTER", "IPYTHON"))}
    env.update(IPYTHONDIR=str(tmp_path / "ipython"), JUPYTER_DATA_DIR=str(tmp_path / "jdata"),
               JUPYTER_CONFIG_DIR=str(tmp_path / "jconfig"), HOME=str(tmp_path), **extra)
    return env


def test_startup_file_installed(venv):
    startup = venv / "etc" / "ipython" / "startup" / "50-cocalc_magic.py"
    assert startup.read_text() == (ROOT / "jupyter-config/ipython/startup/50-cocalc_magic.py").read_text()
    site_pkgs = list(venv.glob("lib/python*/site-packages/cocalc_magic/magics/__init__.py"))
    assert site_pkgs, "the package itself was not installed into the venv"


@pytest.mark.parametrize("optout, expected", [(None, "has %cocalc: True loaded: True"),
                                              ("1", "has %cocalc: False loaded: False")])
def test_ipython_autoloads(venv, tmp_path, optout, expected):
    env = _env(tmp_path, **({"COCALC_MAGIC_NO_AUTOLOAD": optout} if optout else {}))
    out = subprocess.run([str(venv / "bin" / "python"), "-m", "IPython", "--no-banner", "-c", PROBE],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected
    assert "autoload failed" not in out.stderr


@pytest.mark.parametrize("optout, expected", [(None, "has %cocalc: True loaded: True"),
                                              ("1", "has %cocalc: False loaded: False")])
def test_kernel_autoloads(venv, tmp_path, optout, expected):
    env = _env(tmp_path, **({"COCALC_MAGIC_NO_AUTOLOAD": optout} if optout else {}))
    out = subprocess.run([str(venv / "bin" / "python"), "-c", KERNEL_SCRIPT.format(probe=PROBE)],
                         capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected


def test_installed_copy_is_the_one_used(venv, tmp_path):
    out = subprocess.run([str(venv / "bin" / "python"), "-c", "import cocalc_magic; print(cocalc_magic.__file__)"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path, env=_env(tmp_path))
    assert out.stdout.strip().startswith(str(venv))


def test_load_ext_after_the_autoload_prints_nothing(venv, tmp_path):
    code = "%load_ext cocalc_magic\n%cocalc use --help"
    out = subprocess.run([str(venv / "bin" / "python"), "-m", "IPython", "--no-banner", "-c", code],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path, env=_env(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: %cocalc use"), out.stdout  # nothing before it: no "already loaded"
    assert "already loaded" not in out.stdout + out.stderr
