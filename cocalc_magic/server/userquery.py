"""CoCalc's user queries (v1 ``query``, conat ``db.userQuery``, v2 ``user-query``): one engine."""

from __future__ import annotations
