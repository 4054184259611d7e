"""What both sides held after the last sync, kept on this machine outside the synced folder.

One JSON file per (server, project, local folder, project folder) under the user's cache
directory (``$XDG_CACHE_HOME/cocalc-magic/sync/``, else ``~/.cache/...``), plus a journal: every
finished transfer appends one line at once, so an interrupted run (Ctrl-C, a lost connection, a
crash) keeps exactly what it completed; the next load replays the journal and the end of a run
folds it into the JSON file. A lock file keeps two runs on the same pair from interleaving.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .rules import Base

VERSION = 1


def state_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cocalc-magic" / "sync"


def state_path(host: str, project_id: str, local_root: str, remote_root: str) -> Path:
    """The state file of one pair. The project folder is part of the key (a guess beyond the
    issue's (server, project, local folder)): the same local folder synced to two project folders
    must not share one record."""
    key = "\0".join([host.rstrip("/"), project_id, local_root, remote_root])
    return state_dir() / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


class SyncBusy(RuntimeError):
    """Another run holds the lock of this pair."""


class State:
    """The per-file ``Base`` records and the folders in sync, with a journal of changes."""

    def __init__(self, path: Path, meta: dict[str, str]) -> None:
        self.path = path
        self.journal_path = path.with_suffix(".journal")
        self.meta = meta
        self.files: dict[str, Base] = {}
        self.dirs: set[str] = set()
        # This machine's files as the last scan saw them: path -> (size, mtime_ns, sha), and when
        # that scan began. A file still of that size and time is not read again (see local.scan).
        self.seen: dict[str, tuple[int, int, str]] = {}
        self.seen_at_ns = 0
        self._lock = threading.Lock()
        self._journal = None
        self._lockfile = None

    # -- loading ------------------------------------------------------------------
    def load(self) -> "State":
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError):
            data = {}  # a damaged record counts as none: the first-sync rules never overwrite
        if data.get("version") == VERSION:
            for rel, (l, r, m) in (data.get("files") or {}).items():
                self.files[rel] = Base(l, r, m)
            self.dirs = set(data.get("dirs") or ())
            self.seen = {k: (int(v[0]), int(v[1]), str(v[2])) for k, v in (data.get("seen") or {}).items()}
            self.seen_at_ns = int(data.get("seen_at_ns") or 0)
        try:
            with open(self.journal_path, encoding="utf-8") as fh:
                for line in fh:
                    try:
                        self._apply(json.loads(line))
                    except (ValueError, TypeError, KeyError):
                        break  # a line cut off by a crash ends the journal
        except FileNotFoundError:
            pass
        return self

    def _apply(self, rec: dict[str, Any]) -> None:
        if "d" in rec:
            (self.dirs.discard if rec.get("x") else self.dirs.add)(rec["d"])
        elif rec.get("x"):
            self.files.pop(rec["p"], None)
        else:
            self.files[rec["p"]] = Base(rec["l"], rec["r"], rec.get("m"))

    # -- locking --------------------------------------------------------------------
    def lock(self) -> None:
        """Hold this pair's lock until ``close``; SyncBusy when another run holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path.with_suffix(".lock"), "a+")
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock (two runs at once are the user's choice there)
            self._lockfile = fh
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise SyncBusy("another sync of the same folders is running") from None
        self._lockfile = fh

    # -- changes ----------------------------------------------------------------------
    def set_file(self, rel: str, base: Base | None) -> None:
        rec: dict[str, Any] = ({"p": rel, "x": 1} if base is None
                               else {"p": rel, "l": base.local, "r": base.remote, "m": base.mode})
        self._write(rec)

    def set_dir(self, rel: str, present: bool) -> None:
        self._write({"d": rel} if present else {"d": rel, "x": 1})

    def _write(self, rec: dict[str, Any]) -> None:
        with self._lock:
            self._apply(rec)
            if self._journal is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._journal = open(self.journal_path, "a", encoding="utf-8")
            self._journal.write(json.dumps(rec, separators=(",", ":")) + "\n")
            self._journal.flush()  # in the OS's hands at once: a Ctrl-C or crash of Python keeps it

    def save(self) -> None:
        """Fold the journal into the JSON file (atomically), then drop the journal."""
        with self._lock:
            data = {
                "version": VERSION, **self.meta,
                "synced_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "files": {k: [b.local, b.remote, b.mode] for k, b in sorted(self.files.items())},
                "dirs": sorted(self.dirs),
                "seen": {k: list(v) for k, v in sorted(self.seen.items())
                         if k in self.files and self.files[k].local == v[2]},
                "seen_at_ns": self.seen_at_ns,
            }
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".state-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, separators=(",", ":"))
            os.replace(tmp, self.path)
            if self._journal is not None:
                self._journal.close()
                self._journal = None
            try:
                os.unlink(self.journal_path)
            except FileNotFoundError:
                pass

    def close(self) -> None:
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None
        if self._lockfile is not None:
            self._lockfile.close()  # releases the flock
            self._lockfile = None
