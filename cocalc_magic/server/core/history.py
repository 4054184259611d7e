"""File edit history: a version recorded on each write through the API, read by ``sync.history``.

In CoCalc a file's history is the patch stream of its sync document (``conat/sync/synctable-
stream.ts``): each entry is ``{mesg, seq, time}`` and ``mesg`` is what ``SyncDoc.commit_patch``
writes, ``{time, wall, patch, user_id, is_snapshot, parents, version}``, where ``patch`` is a JSON
string of a compressed diff-match-patch patch (``util/dmp.ts``: ``[[diffs, start1, start2,
length1, length2], ...]``) from the previous version. We make the same entries with Google's
diff-match-patch (the library CoCalc's is a port of), one per write that changes the file.

Guesses (the real hub has history only for files opened in an editor; it records no API write):
the writer is ``user_id`` 0, the project itself, as CoCalc records a change it loads from disk;
no snapshots are made (CoCalc adds one every few hundred patches); files over the read limit
(10 MB) are not recorded. Paths are normalised relative to the project's home, so ``a.txt`` and
``./a.txt`` share one history (CoCalc keys on the literal path).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from diff_match_patch import diff_match_patch

from . import schema
from .homes import MAX_FILE_SIZE_MB, PathOutsideHome, resolve
from .store import Store, now_ms
from .userquery import iso

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS patches (string_id TEXT NOT NULL, seq INTEGER NOT NULL, time REAL NOT NULL,"
    " mesg TEXT NOT NULL, PRIMARY KEY (string_id, seq))",
    "CREATE TABLE IF NOT EXISTS syncstrings (string_id TEXT PRIMARY KEY, project_id TEXT NOT NULL,"
    " path TEXT NOT NULL, content TEXT NOT NULL, created REAL NOT NULL, last_active REAL NOT NULL,"
    " last_time REAL NOT NULL, version INTEGER NOT NULL)",
)
# CoCalc's make_patch is ``patch_make(s0, s1)`` with a 0.2 s diff timeout, run in the browser.
# Here it runs on the write path, where that cost up to 200 ms per write (a 14 kB rewrite) and
# 130-430 ms for scattered edits of 100 kB (line mode and semantic cleanup in pure Python). So:
# a plain character diff with a 5 ms timeout (diff-match-patch then returns a coarser diff), and
# no search at all when the versions share no line. The patches stay exact, only less minimal:
# measured per write (a shared machine), 0.1-0.3 ms for a new file, 0.3-0.9 ms for a line appended
# to 4 kB, 6-8 ms for every other line of 4 kB changed, 14 ms for every tenth line of 100 kB.
DIFF_TIMEOUT_S = 0.005
_lock = threading.Lock()  # one writer at a time, so versions chain


def _db(store: Store) -> Store:
    schema.ensure(store, "history", SCHEMA)
    return store


def string_id(project_id: str, path: str) -> str:
    """``client_db.sha1(project_id, path)``: the sync document's id."""
    return hashlib.sha1((project_id + path).encode("utf-8")).hexdigest()


def hash_string(s: str) -> int:
    """``misc.hash_string``: Java's String.hashCode over UTF-16 code units, as a signed int32."""
    h = 0
    data = s.encode("utf-16-le")
    for i in range(0, len(data), 2):
        h = (h * 31 + (data[i] | data[i + 1] << 8)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def relative(home: Path, path: str) -> str:
    """``path`` relative to the home (the key of its history); unchanged when outside it."""
    try:
        target = resolve(home, path)
    except PathOutsideHome:
        return path
    return os.path.relpath(target, os.path.realpath(home))


def make_patch(before: str, after: str) -> str:
    """The compressed patch (as a JSON string) that turns ``before`` into ``after``."""
    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT_S
    if before and after and not set(before.splitlines()) & set(after.splitlines()):
        diffs = [(-1, before), (1, after)]  # not one line in common: the search could only find this
    else:
        diffs = dmp.diff_main(before, after, False)
    patches = dmp.patch_make(before, diffs)
    return json.dumps([[[[op, text] for op, text in p.diffs], p.start1, p.start2, p.length1, p.length2]
                       for p in patches], ensure_ascii=False, separators=(",", ":"))


def record(store: Store, project_id: str, home: Path, path: str, content: str) -> None:
    """Append the version ``content`` of ``path`` (nothing when it did not change)."""
    if len(content) > MAX_FILE_SIZE_MB * 1_000_000:
        return
    rel = relative(home, path)
    sid = string_id(project_id, rel)
    store = _db(store)
    with _lock:
        head = store.query_one("SELECT * FROM syncstrings WHERE string_id=?", (sid,))
        before = head["content"] if head else ""
        if head is not None and before == content:
            return
        patch = make_patch(before, content)
        wall = int(now_ms())
        time = max(wall, int(head["last_time"]) + 1) if head else wall  # logical time only grows
        version = (head["version"] if head else 0) + 1
        mesg = {"time": time, "wall": wall, "patch": patch, "user_id": 0, "is_snapshot": False,
                "parents": [int(head["last_time"])] if head else [], "version": version}
        with store.tx() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM patches WHERE string_id=?", (sid,)).fetchone()[0]
            db.execute("INSERT INTO patches (string_id, seq, time, mesg) VALUES (?,?,?,?)",
                       (sid, seq, wall, json.dumps(mesg)))
            if head:
                db.execute("UPDATE syncstrings SET content=?, last_active=?, last_time=?, version=? WHERE string_id=?",
                           (content, wall, time, version, sid))
            else:
                db.execute("INSERT INTO syncstrings (string_id, project_id, path, content, created, last_active,"
                           " last_time, version) VALUES (?,?,?,?,?,?,?,?)",
                           (sid, project_id, rel, content, wall, wall, time, version))


def history(store: Store, project_id: str, home: Path, path: str, start_seq: int = 0,
            end_seq: int | None = None) -> dict[str, Any]:
    """``{patches, info}`` as ``server/conat/api/sync.ts`` answers (``{patches: [], info: {}}``
    for a file with no history)."""
    rel = relative(home, path)
    sid = string_id(project_id, rel)
    store = _db(store)
    sql, params = "SELECT seq, time, mesg FROM patches WHERE string_id=? AND seq>=?", [sid, start_seq or 0]
    if end_seq is not None:
        sql += " AND seq<=?"
        params.append(end_seq)
    rows = store.query(sql + " ORDER BY seq", params)
    patches = [{"mesg": json.loads(r["mesg"]), "seq": r["seq"], "time": int(r["time"])} for r in rows]
    head = store.query_one("SELECT * FROM syncstrings WHERE string_id=?", (sid,))
    return {"patches": patches, "info": _info(head) if head else {}}


def _info(head: dict) -> dict[str, Any]:
    """The syncstring record (``HistoryInfo`` of conat/hub/api/sync.ts); values are our guesses
    of what a string document saved from disk holds."""
    h = hash_string(head["content"])
    return {
        "doctype": json.dumps({"type": "string"}),
        "init": {"time": iso(head["created"]), "size": len(head["content"]), "error": ""},
        "last_active": iso(head["last_active"]),
        "path": head["path"],
        "project_id": head["project_id"],
        "read_only": False,
        "save": {"state": "done", "error": "", "hash": h, "time": int(head["last_active"]), "expected_hash": h},
        "string_id": head["string_id"],
        "users": [head["project_id"]],
    }
