"""The legacy generation: ``POST /api/v1/<event>``, CoCalc's message API of 2024."""

from .messages import routes

__all__ = ["routes"]
