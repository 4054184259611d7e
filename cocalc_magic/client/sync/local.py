"""This machine's side of a sync: listing and hashing a folder, and changing files safely
(atomic replacement keeping the mode; a delete only when the file is still what was listed)."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

from .excludes import Excludes
from .rules import Entry

CHUNK = 1 << 20


def sha256_file(path: Path | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(CHUNK)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def entry_of(path: Path | str, known: tuple[int, int, str] | None = None, trusted_before_ns: int = 0) -> Entry | None:
    """The Entry of one path (None if absent); symbolic links are never followed. ``known``:
    (size, mtime_ns, sha) from the last scan; a file still of that size and time keeps that sha
    unread, if its time was already 2 s older than that scan (the rule git uses against edits
    made within one tick of a coarse file-system clock)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISDIR(st.st_mode):
        return Entry("d", mode=mode)
    if not stat.S_ISREG(st.st_mode):
        return Entry("o")
    if known and known[0] == st.st_size and known[1] == st.st_mtime_ns and st.st_mtime_ns < trusted_before_ns:
        return Entry("f", known[2], mode, st.st_size, mtime_ns=st.st_mtime_ns)
    try:
        sha = sha256_file(path)
    except OSError as exc:
        return Entry("f", None, mode, st.st_size, error=exc.strerror or str(exc))
    return Entry("f", sha, mode, st.st_size, mtime_ns=st.st_mtime_ns)


def scan(root: Path, excludes: Excludes, only: str | None = None,
         seen: dict[str, tuple[int, int, str]] | None = None, seen_at_ns: int = 0) -> dict[str, Entry]:
    """``relative path -> Entry`` of everything under ``root`` (a folder), or just ``only`` (a
    file name in ``root``) when syncing one file. A missing root is an empty side. ``seen`` and
    ``seen_at_ns``: the last scan's files and start, so unchanged files are not read again."""
    seen = seen or {}
    trusted = seen_at_ns - 2_000_000_000
    if only is not None:
        e = entry_of(root / only, seen.get(only), trusted)
        return {only: e} if e is not None and e.kind != "d" else {}
    out: dict[str, Entry] = {}
    if not root.is_dir():
        return out
    stack = [""]
    while stack:
        prefix = stack.pop()
        try:
            it = os.scandir(root / prefix if prefix else root)
        except OSError as exc:
            if prefix:
                out[prefix] = Entry("f", None, error=exc.strerror or str(exc))
            continue
        with it:
            for d in it:
                rel = f"{prefix}/{d.name}" if prefix else d.name
                is_dir = d.is_dir(follow_symlinks=False)
                if excludes.excluded(rel, is_dir):
                    continue
                if is_dir:
                    out[rel] = Entry("d", mode=stat.S_IMODE(d.stat(follow_symlinks=False).st_mode))
                    stack.append(rel)
                else:
                    e = entry_of(d.path, seen.get(rel), trusted)
                    if e is not None:
                        out[rel] = e
    return out


def write_file(path: Path, data: bytes, mode: int | None) -> None:
    """Replace ``path`` atomically: a reader (or a crash) sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cocalc-sync-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, (mode if mode is not None else 0o644) & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def unchanged(path: Path, sha: str | None) -> bool:
    """Whether ``path`` still holds ``sha`` (None: is still absent), read again just before a
    change, so that an edit made during the sync is never overwritten or deleted."""
    e = entry_of(path)
    if sha is None:
        return e is None
    return e is not None and e.kind == "f" and e.sha == sha
