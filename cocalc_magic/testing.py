"""pytest plugin: a ``cocalc_server`` fixture, so notebooks and code can be tested offline.

One ``LocalServer`` per API generation per test session (starting one costs ~50 ms, but sharing
keeps suites fast); tests make their own projects. Pick the generation by parametrising::

    @pytest.mark.parametrize("cocalc_server", ["v1", "conat", "ai"], indirect=True)
    def test_mine(cocalc_server):
        cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key)

On "ai" (cocalc.ai) ``api_key`` is an ``sk-cc-v2.`` key with every capability, allowed on
``cocalc_server.project_id`` only; ``cocalc_server.create_key(capabilities=[...], projects=[...])``
makes others (e.g. one that lacks ``project:exec``).

Without parametrisation the generation is ``--cocalc-api`` (default ``conat``; ``current`` is an alias).
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--cocalc-api", default="conat", choices=["v1", "conat", "current", "ai"],
        help="API generation of the cocalc_server fixture when a test does not choose one",
    )


@pytest.fixture(scope="session")
def cocalc_servers(tmp_path_factory: pytest.TempPathFactory):
    """Started servers by generation, created on first use and stopped at session end."""
    from .server import LocalServer

    servers: dict[str, LocalServer] = {}

    def get(api: str) -> LocalServer:
        api = {"current": "conat"}.get(api, api)
        if api not in servers:
            data = tmp_path_factory.mktemp(f"cocalc-{api}")
            servers[api] = LocalServer(data_dir=data, api=api, start_delay=0.05, allow_http_parents=True).start()
        return servers[api]

    yield get
    for srv in servers.values():
        srv.stop()


@pytest.fixture
def cocalc_server(request: pytest.FixtureRequest, cocalc_servers):
    """A running local CoCalc (``.url``, ``.api_key``, ``.account_id``)."""
    api = getattr(request, "param", None) or request.config.getoption("--cocalc-api")
    return cocalc_servers(api)
