"""Fixtures shared by the server's conformance tests."""

import pytest

from conat_client import Raw


@pytest.fixture
def api(cocalc_server):
    """Raw calls with the admin account's key (the bridges, /api/v2)."""
    return Raw(cocalc_server.url, cocalc_server.api_key)
