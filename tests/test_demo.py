"""``cocalc-magic demo``: the printed JupyterLab URL answers, the notebooks are kept where the banner
says, and Ctrl-C leaves nothing running."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_demo_serves_the_tour_and_ctrl_c_stops_everything(tmp_path, isolated_env):
    proc = subprocess.Popen(
        [sys.executable, "-m", "cocalc_magic.cli", "demo"], cwd=tmp_path, env=isolated_env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Open JupyterLab:" in line or not line:
                break
        text = "".join(lines)
        lab = re.search(r"http://127\.0\.0\.1:(\d+)/lab/tree/01-tour\.ipynb\?token=\w+", text)
        server = re.search(r"at http://127\.0\.0\.1:(\d+)", text)
        assert lab and server, text
        with urllib.request.urlopen(lab.group(0), timeout=10) as resp:
            assert resp.status == 200
        ports = [int(lab.group(1)), int(server.group(1))]
        assert all(_port_open(p) for p in ports)
        kept = tmp_path / "cocalc-demo"
        assert f"Notebooks: copied to {kept} (kept: edits stay after Ctrl-C" in text
        (kept / "01-tour.ipynb").write_text((kept / "01-tour.ipynb").read_text() + " ")  # the user's edit
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert not any(_port_open(p) for p in ports)
        assert (kept / "01-tour.ipynb").read_text().endswith(" ")  # still there after Ctrl-C
        assert f"Your notebooks are in {kept}." in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
