"""The ``conat`` generation (sagemathinc/cocalc 2025-08 to 2026-07): the two HTTP bridges
``POST /api/conat/hub`` and ``/api/conat/project``, answered by ``server.hub`` and
``server.project``."""

from .bridges import routes

__all__ = ["routes"]
