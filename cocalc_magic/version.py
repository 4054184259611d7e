"""The package's version, in one place (hatchling reads it; the transport's User-Agent names it)."""

__version__ = "0.1.0"
