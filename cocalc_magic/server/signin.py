"""Getting a key without the web UI: /api/v2/auth/sign-in, /api/v2/api-keys, /app?get_api_key=."""

from __future__ import annotations


def routes(ctx) -> list:
    return []
