"""The ``cocalc-magic`` command as a shell user meets it: --version, help with no arguments, help
texts in plain words that say what each command prints, serve's lines pasted into a shell, and
serve stopping on SIGINT when a script started it in the background. Also ``make test`` on a
machine without Chromium and without root."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cocalc_magic.version import __version__

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "cocalc_magic.cli"]


def cli(*args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, env=env, cwd=cwd)


def test_version(isolated_env, tmp_path):
    r = cli("--version", env=isolated_env, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == f"cocalc-magic {__version__}\n"


def test_no_arguments_prints_the_help(isolated_env, tmp_path):
    r = cli(env=isolated_env, cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith("usage: cocalc-magic") and "examples:" in r.stdout
    text = " ".join(r.stdout.split())
    assert "serve run a local CoCalc-compatible server; prints export COCALC_HOST=... lines" in text
    assert "demo JupyterLab with the tour notebooks against a local CoCalc; prints the URL to open" in text
    assert "ping check that a CoCalc server answers; prints the round trip" in text


@pytest.mark.parametrize("command", [[], ["serve"], ["demo"], ["ping"]])
def test_help_is_plain_text_and_says_what_it_prints(command, isolated_env, tmp_path):
    r = cli(*command, "--help", env=isolated_env, cwd=tmp_path)
    assert r.returncode == 0
    assert "``" not in r.stdout and ":func:" not in r.stdout
    if command:
        assert "prints" in r.stdout


def test_serve_prints_export_lines_and_stops_on_sigint_in_the_background(isolated_env, tmp_path):
    # A non-interactive shell starts `&` jobs with SIGINT ignored; serve must still stop on it.
    script = f"""
        {' '.join(map(shlex.quote, CLI))} serve > cocalc.env &
        pid=$!
        for i in $(seq 100); do grep -q COCALC_API_KEY cocalc.env 2>/dev/null && break; sleep 0.1; done
        . ./cocalc.env
        echo "host=$COCALC_HOST"
        {' '.join(map(shlex.quote, CLI))} ping
        kill -INT $pid
        wait $pid
        echo "serve exited with $?"
    """
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=90, env=isolated_env,
                       cwd=tmp_path)
    lines = (tmp_path / "cocalc.env").read_text().splitlines()
    assert lines[0].startswith("# local CoCalc (conat API), data in ")
    assert re.fullmatch(r"export COCALC_HOST=http://127\.0\.0\.1:\d+", lines[1])
    assert re.fullmatch(r"export COCALC_API_KEY=sk-\w+", lines[2])
    host = lines[1].split("=", 1)[1]
    assert f"host={host}" in r.stdout and f"pong from {host}" in r.stdout, r.stdout + r.stderr
    assert r.stdout.rstrip().endswith("serve exited with 0"), r.stdout + r.stderr


def make_test(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """`make test` with a fake .venv whose python only prints its arguments."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "python"
    fake.write_text('#!/bin/sh\necho "pytest called with: $*"\n')
    fake.chmod(0o755)
    (venv / ".installed").touch()  # newer than pyproject.toml: make installs nothing
    # none of CI's own settings: CI=true, nor the outer `make test PYTEST_ARGS=...` that .ci/run
    # starts (make exports its command-line variables, and passes them on through MAKEFLAGS)
    base = {k: v for k, v in os.environ.items()
            if k not in ("CI", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTEST_ARGS")}
    return subprocess.run(["make", "-s", "-C", str(ROOT), "test", f"VENV={venv}", "CHROMIUM=/nonexistent/chromium",
                           "USER_ID=1000", "PYTEST_ARGS="], capture_output=True, text=True, timeout=60, env={**base, **env})


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_without_chromium_and_root_runs_all_but_the_browser_tests(tmp_path):
    r = make_test(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    note, called = r.stdout.splitlines()
    assert note.startswith("No Chromium here: running everything but the browser tests (sudo apt-get install chromium")
    assert called == "pytest called with: -m pytest --ignore=tests/browser"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_in_ci_without_chromium_and_root_fails(tmp_path):
    r = make_test(tmp_path, CI="true")
    assert r.returncode != 0 and "pytest called" not in r.stdout
    assert "CI: Chromium is missing and installing it needs root" in r.stdout
