"""The pages a browser sees: /app, project file pages (plain and kiosk), /auth/impersonate, sign-in."""

from __future__ import annotations


def routes(ctx) -> list:
    return []
