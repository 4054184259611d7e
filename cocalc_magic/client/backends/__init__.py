"""One module per API generation, each a ``Backend`` (``base.py``): ``v1`` (legacy messages),
``conat`` (the conat bridges). The facade picks one by ``CoCalc.api``."""

from .base import Backend
from .conat import ConatBackend
from .v1 import V1Backend

BACKENDS: dict[str, type[Backend]] = {"v1": V1Backend, "conat": ConatBackend}

__all__ = ["BACKENDS", "Backend", "ConatBackend", "V1Backend"]
