"""The ai generation's routes with odd values in every field: always an answer (HTTP 200 JSON, or
Express' 400 page), never a 500, a traceback or a logged crash."""

import logging
import random
import uuid

import pytest
import requests

from cocalc_magic.server.ai import calls, hub, project, v2


@pytest.fixture
def srv(tmp_path):
    """A server of its own: the fuzzing creates and stops projects."""
    from cocalc_magic.server import LocalServer

    with LocalServer(data_dir=tmp_path, api="ai", start_delay=0.05) as own:
        yield own


def test_every_ai_call_survives_random_field_values(srv, monkeypatch, caplog):
    monkeypatch.setattr(calls, "DEFAULT_TIMEOUT_MS", 300)  # a stopped project answers fast
    caplog.set_level(logging.ERROR, logger="cocalc_magic.server")
    pid, auth = srv.project_id, (srv.api_key, "")
    requests.post(srv.url + "/api/v2/projects/start", json={"project_id": pid}, auth=auth, timeout=10)
    ping = {"project_id": pid, "name": "system.ping", "timeout": 10000}
    assert requests.post(srv.url + "/api/conat/project", json=ping, auth=auth, timeout=30).json()["now"] > 0
    rnd = random.Random(7)
    values = [None, 0, -1, 2.5, 1e308, True, "", "x", "../../etc/passwd", pid, str(uuid.uuid4()), [], [pid],
              [None], {}, {"project_id": pid}, {"project_id": None}, {"a": None}, "nan", [{"project_id": pid}]]
    fields = ["project_id", "path", "command", "args", "account_id", "account_ids", "limit", "title",
              "src_project_id", "target_project_id", "target_path", "action", "id", "query", "fields", "timeout",
              "kernel", "input", "history"]
    names = (list(hub.PROJECT_CAPABILITY) + list(hub.ACCOUNT_CAPABILITY) + ["system.ping", "db.userQuery"]
             + [f"system.{n}" for n in project.SYSTEM_NAMES] + ["jupyter.kernels", "jupyter.apiExecute", "ping"])
    for path in ["/api/conat/hub", "/api/conat/project"] + [f"/api/v2/{r}" for r in v2.ROUTES]:
        for _ in range(12):
            body = {f: rnd.choice(values) for f in rnd.sample(fields, rnd.randint(1, 6))}
            if path.startswith("/api/conat/"):
                body["name"] = rnd.choice(names + values[:4])
                body["args"] = rnd.choice([[rnd.choice(values)], [rnd.choice(values), rnd.choice(values)], None, {}])
                body["timeout"] = 300
            r = requests.post(srv.url + path, json=body, auth=auth, timeout=60)
            assert r.status_code in (200, 400), (path, body, r.status_code, r.text[:200])
            assert "Traceback" not in r.text
            if r.status_code == 200:
                r.json()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []  # no handler crashed
    assert requests.post(srv.url + "/api/conat/hub", json={"name": "system.ping"}, auth=auth, timeout=10).json()["now"] > 0
