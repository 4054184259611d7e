"""``cocalc-magic serve`` as a shell runs it, for the serve tests: start, read the export lines, stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def serve(*args: str, want: tuple[str, ...] = ("COCALC_HOST", "COCALC_API_KEY")) -> Iterator[dict[str, str]]:
    """Run ``cocalc-magic serve ARGS``; yields the ``NAME=value`` lines it printed (those in
    ``want`` at least), then stops it with SIGTERM and checks that it exited cleanly."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "cocalc_magic.cli", "serve", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines: dict[str, str] = {}
        while not all(k in lines for k in want):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            if "=" in line and not line.startswith("#"):
                k, v = line.strip().split("=", 1)
                lines[k.removeprefix("export ")] = v
        yield lines
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
