"""Tables that a feature module owns, created in the one SQLite database on first use.

The core schema lives in ``store.py``; organizations, messages and file history add theirs
here, so that each module keeps its SQL beside its code. ``CREATE ... IF NOT EXISTS`` makes it
safe on a data directory of any age (it survives restarts like every other table).
"""

from __future__ import annotations

import threading
import weakref
from typing import Iterable

from .store import Store

_created: "weakref.WeakKeyDictionary[Store, set[str]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def ensure(store: Store, name: str, statements: Iterable[str]) -> None:
    """Run ``statements`` once per store (keyed by ``name``)."""
    done = _created.get(store)
    if done is not None and name in done:
        return
    with _lock:
        done = _created.setdefault(store, set())
        if name in done:
            return
        for sql in statements:
            store.execute(sql)
        done.add(name)
