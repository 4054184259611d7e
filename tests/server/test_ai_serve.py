"""``cocalc-magic serve --api ai`` from a shell: prints host, key and project, plays cocalc.ai."""

from __future__ import annotations

import requests

from serve_cli import serve


def test_serve_api_ai_end_to_end(tmp_path):
    with serve("--api", "ai", "--data", str(tmp_path), "--demo",
               want=("COCALC_HOST", "COCALC_API_KEY", "COCALC_PROJECT_ID")) as lines:
        host, key, pid = lines["COCALC_HOST"], lines["COCALC_API_KEY"], lines["COCALC_PROJECT_ID"]
        assert key.startswith("sk-cc-v2.")
        auth = (key, "")
        listed = requests.post(f"{host}/api/v2/projects/get", json={}, auth=auth, timeout=10).json()
        assert pid in [p["project_id"] for p in listed] and len(listed) == 3  # + the two demo projects
        assert requests.post(f"{host}/api/conat/hub", json={"name": "system.test"}, auth=auth, timeout=10).json() == {
            "error": "API keys are not allowed to call hub RPC 'system.test'"}
        assert requests.post(f"{host}/api/v2/projects/start", json={"project_id": pid}, auth=auth,
                             timeout=10).json() == {"status": "ok"}
        out = requests.post(f"{host}/api/conat/project", auth=auth, timeout=30, json={
            "project_id": pid, "name": "system.exec", "args": [{"command": "echo", "args": ["ok"]}], "timeout": 20000})
        assert out.json()["stdout"] == "ok\n"
    assert (tmp_path / "projects" / pid).is_dir()
