"""/api/v2 beside API v1 (``--api v1``, a self-hosted CoCalc of 2024-03): only the routes that
existed then, with that era's answers."""

import pytest
import requests

from conat_client import Raw

pytestmark = pytest.mark.parametrize("cocalc_server", ["v1"], indirect=True)

LATER = ["exec", "projects/update", "projects/delete", "projects/collaborators/list",
         "projects/collaborators/add", "projects/collaborators/remove", "accounts/get-names"]


@pytest.mark.parametrize("route", LATER)
def test_routes_added_after_2024_03_are_absent(cocalc_server, route):
    r = requests.post(f"{cocalc_server.url}/api/v2/{route}", json={}, auth=(cocalc_server.api_key, ""), timeout=10)
    assert r.status_code == 404


def test_2024_routes_and_answers(cocalc_server, api):
    pid = api.v2("projects/create", {"title": "v1 era"})["project_id"]
    assert pid in [p["project_id"] for p in api.v2("projects/get")]
    assert Raw(cocalc_server.url, None).v2("projects/get") == {"error": "must be authenticated"}
    assert api.v2("projects/start", {"project_id": pid}) == {}
    assert api.v2("projects/stop", {"project_id": pid}) == {}
    assert api.v2("projects/touch", {"project_id": pid}) == {}
    assert api.v2("projects/write-text-file", {"project_id": pid, "path": "a.txt", "content": "A\n"}) == {"status": "ok"}
    out = api.v2("projects/call", {"project_id": pid, "mesg": {"event": "read_text_file_from_project", "path": "a.txt"}})
    assert out["content"] == "A\n"
    assert api.v2("user-query", {"query": {"projects": {"project_id": pid, "title": None}}}) == {
        "query": {"projects": {"project_id": pid, "title": "v1 era"}}}
    assert api.v2("accounts/profile")["profile"]["account_id"] == cocalc_server.account_id
    assert "siteName" in api.v2("customize")


def test_get_ran_the_handler_with_empty_params_in_2024(cocalc_server):
    r = requests.get(f"{cocalc_server.url}/api/v2/projects/get", auth=(cocalc_server.api_key, ""), timeout=10)
    assert r.status_code == 200 and isinstance(r.json(), list)


def test_no_conat_bridges_on_v1(cocalc_server):
    r = requests.post(f"{cocalc_server.url}/api/conat/hub", json={"name": "system.ping"},
                      auth=(cocalc_server.api_key, ""), timeout=10)
    assert r.status_code == 404
