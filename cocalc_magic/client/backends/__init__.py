"""One module per API generation, each a ``Backend`` (``base.py``): ``v1`` (legacy messages),
``conat`` (the conat bridges), ``ai`` (cocalc.ai: the same bridges, keys with capabilities). The
facade picks one by ``CoCalc.api``."""

from .ai import AiBackend
from .base import Backend
from .conat import ConatBackend
from .v1 import V1Backend

BACKENDS: dict[str, type[Backend]] = {"v1": V1Backend, "conat": ConatBackend, "ai": AiBackend}

__all__ = ["AiBackend", "BACKENDS", "Backend", "ConatBackend", "V1Backend"]
