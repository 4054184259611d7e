"""The /api/v2 endpoints a notebook client needs, in the shapes of the era the server plays."""

from __future__ import annotations


def routes(ctx) -> list:
    return []
