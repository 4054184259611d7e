"""``cocalc-magic serve --api v1`` from a shell: prints the host and key, answers API v1, stops on SIGTERM."""

from __future__ import annotations

import requests

from serve_cli import serve


def test_serve_api_v1_end_to_end(tmp_path):
    with serve("--api", "v1", "--data", str(tmp_path)) as lines:
        host, key = lines["COCALC_HOST"], lines["COCALC_API_KEY"]
        assert host.startswith("http://127.0.0.1:")
        pong = requests.post(f"{host}/api/v1/ping", auth=(key, ""), timeout=10).json()
        assert pong["event"] == "pong"
        pid = requests.post(f"{host}/api/v1/create_project", data={"title": "from the shell"}, auth=(key, ""),
                            timeout=10).json()["project_id"]
        out = requests.post(f"{host}/api/v1/project_exec", json={"project_id": pid, "command": "echo", "args": ["ok"]},
                            auth=(key, ""), timeout=30).json()
        assert out["stdout"] == "ok\n"
        # the conat generation's bridges are not there: a v1 server is a 2024 server
        assert requests.post(f"{host}/api/conat/hub", json={"name": "system.ping"}, auth=(key, ""), timeout=10).status_code == 404
    assert (tmp_path / "projects" / pid).is_dir()  # the data dir was the one given
