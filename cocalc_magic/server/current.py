"""The current API generation: the conat bridges POST /api/conat/hub and /api/conat/project."""

from __future__ import annotations


def routes(ctx) -> list:
    return []
