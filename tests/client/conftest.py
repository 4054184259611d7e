"""Client tests run against whatever server generations exist on this checkout.

While a generation of the local server is still missing (its ``routes`` list is empty, as in
the skeleton), the tests that need it are skipped with that reason instead of failing.
"""

from __future__ import annotations

import pytest


def _generation_present(api: str) -> bool:
    from cocalc_magic.server import current, v1

    module = v1 if api == "v1" else current
    return bool(module.routes(None)) if _routes_take_none(module) else True


def _routes_take_none(module) -> bool:
    try:
        module.routes(None)
    except Exception:  # noqa: BLE001 - real route tables need a context: the generation exists
        return False
    return True


@pytest.fixture(autouse=True)
def _skip_missing_generation(request):
    if "cocalc_server" in request.fixturenames:
        api = getattr(getattr(request.node, "callspec", None), "params", {}).get("cocalc_server")
        if api and not _generation_present(api):
            pytest.skip(f"the local server's {api} generation has not landed on this branch yet")
