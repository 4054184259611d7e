"""Two-way sync between a local folder and a project folder (``p.sync``, ``%cocalc sync``).

``rules`` decides (pure), ``local`` and ``remote`` see and change each side, ``transfer`` moves
one file, ``state`` remembers the last sync, ``run`` puts them together, ``report`` says what
happened. Only the Project's public calls reach the server (``exec``, ``read``, ``write``,
``read_bytes``, ``write_bytes``, ``cc.map``): no protocol knowledge here.
"""

from .report import SyncReport
from .run import default_remote, sync

__all__ = ["SyncReport", "sync", "default_remote"]
