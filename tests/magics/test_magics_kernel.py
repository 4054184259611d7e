"""The magics in a real ipykernel: the frontend's interrupt (SIGINT to the kernel) during a long
``%cocalc exec`` ends the wait at once with one line and stops the command in the project; results
arrive as the execute_result a notebook shows (text/plain and text/html)."""

from __future__ import annotations

import time
import uuid

import pytest
from jupyter_client.manager import start_new_kernel

from magic_helpers import kernel_execute as execute

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("cocalc_server", ["v1", "conat", "ai"], indirect=True)]


@pytest.fixture
def kernel(cocalc_server, tmp_path, isolated_env):
    env = {**isolated_env, "COCALC_HOST": cocalc_server.url, "COCALC_API_KEY": cocalc_server.api_key}
    km, kc = start_new_kernel(kernel_name="python3", env=env, cwd=str(tmp_path))
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def test_interrupt_stops_the_command(kernel, tmp_path, cocalc_server):
    km, kc = kernel
    title = f"kernel-{uuid.uuid4().hex[:8]}"
    marker = tmp_path / "marker"
    assert execute(km, kc, "%load_ext cocalc_magic")[0] == []
    if cocalc_server.api == "ai":  # a project the key creates is not its to use there: the key's own project
        outs, _ = execute(km, kc, f"%cocalc use {cocalc_server.project_id}")
        assert outs[0][0] == "stream" and "Default project: " in outs[0][2]
    else:
        outs, _ = execute(km, kc, f"%cocalc create {title} --start\n%cocalc use {title}")
        assert outs[0][0] == "stream" and f"Created project {title}" in outs[0][2]

    outs, _ = execute(km, kc, f"%cocalc exec echo $$ > {marker}; sleep 30; echo never >> {marker}",
                         interrupt_when=lambda: marker.exists() and marker.read_text().strip())
    assert outs == [("error", "CoCalcMagicError",
                     ["Interrupted: stopped waiting for the command; stopped the command in the project."])]
    time.sleep(0.5)
    assert "never" not in marker.read_text()  # the command was stopped, not waited for

    outs, _ = execute(km, kc, "%cocalc exec echo after")
    assert outs == [("stream", "stdout", "after\n")]
    outs, _ = execute(km, kc, "%cocalc projects")
    assert outs == [("execute_result", ["text/html", "text/plain"])]
