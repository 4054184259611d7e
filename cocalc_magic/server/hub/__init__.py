"""What a CoCalc hub does, by its conat names (``system.ping``, ``projects.createProject``, …):
``accounts`` (system.*: names, search, auth tokens, API keys), ``projects`` (projects.*,
db.userQuery, jupyter.*), ``org`` (org.*), ``messages`` (messages.*), ``sync`` (sync.history)
and ``table`` (the dispatch of ``{name, args}``).
The ``conat`` bridge calls ``call``; the /api/v2 routes reuse the functions."""

from .accounts import key_row, names_of, search_users
from .projects import add_collaborators, delete_project, ensure_can_remove
from .table import TABLE, call

__all__ = ["TABLE", "add_collaborators", "call", "delete_project", "ensure_can_remove", "key_row",
           "names_of", "search_users"]
