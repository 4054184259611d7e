"""The CoCalc panel widget (``%cocalc panel``) and the single-file kiosk view (``%cocalc open PATH``)."""

from __future__ import annotations

from .widget import CoCalcPanel, open_view

__all__ = ["CoCalcPanel", "open_view"]
