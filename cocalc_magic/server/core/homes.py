"""Files inside a project's HOME: safe path resolution, atomic writes, size-checked reads.

Every file operation of both API generations goes through here, so the traversal rules live in
one place: a path (relative to HOME, or absolute but inside HOME) must resolve, symlinks
included, to somewhere inside HOME.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

MAX_FILE_SIZE_MB = 10  # COCALC_PROJECT_MAX_FILE_SIZE_MB default


class PathOutsideHome(ValueError):
    """A path that would leave the project's HOME."""


class NullByte(ValueError):
    """A path with a NUL byte: Node's fs refuses it before any system call."""

    def __init__(self, path: str, argument: str = "path") -> None:
        super().__init__(null_byte_text(argument, path, fs=True))


def null_byte_text(argument: str, value: str, fs: bool = False) -> str:
    """Node's ERR_INVALID_ARG_VALUE for a NUL byte (fs calls and child_process word it apart)."""
    kinds = "a string, Uint8Array, or URL" if fs else "a string"
    shown = value[:200].replace("\\", "\\\\").replace("'", "\\'").replace("\x00", "\\x00")
    return (f"TypeError [ERR_INVALID_ARG_VALUE]: The argument '{argument}' must be {kinds} without null bytes. "
            f"Received '{shown}'")


def resolve(home: Path, path: str) -> Path:
    """The real absolute path of ``path`` inside ``home``; raise PathOutsideHome otherwise
    (NullByte for a path Node would refuse outright)."""
    if "\x00" in path:
        raise NullByte(path)
    home_real = Path(os.path.realpath(home))
    target = Path(os.path.realpath(home_real / path)) if path else home_real
    if target != home_real and home_real not in target.parents:
        raise PathOutsideHome(f"path '{path}' is outside the project's home directory")
    return target


def _placed(home: Path, target: Path) -> Path:
    """``target`` with its parent directory resolved (symlinks included), which must lie in
    ``home``; the last component is not followed."""
    home_real = Path(os.path.realpath(home))
    if Path(target) == home_real:
        return home_real
    parent = Path(os.path.realpath(Path(target).parent))
    if parent != home_real and home_real not in parent.parents:
        raise PathOutsideHome(f"path '{target}' is outside the project's home directory")
    return parent / Path(target).name


def copy_target_dir(home: Path, target: Path) -> Path:
    """A real directory at ``target`` inside ``home``, for a copy to write into. A symlink or a
    file in its place is removed, as rsync replaces them, and never followed: a link inside the
    target folder must not let a copy write (or ``delete_missing`` delete) outside HOME."""
    target = _placed(home, target)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        target.unlink()
    target.mkdir(exist_ok=True)
    return target


def copy_target_file(home: Path, target: Path) -> Path:
    """``target`` ready to be replaced by a copied file: inside ``home`` (its parent resolved,
    missing folders made), a symlink in its place removed rather than written through."""
    target = _placed(home, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():
        target.unlink()
    return target


def display_path(home: Path, path: str) -> str:
    """The absolute path CoCalc would quote in an ENOENT message (no symlink resolution)."""
    return os.path.normpath(os.path.join(os.path.realpath(home), path))


def write_text(home: Path, path: str, content: str) -> Path:
    """Write atomically: readers see the old or the new file, never half of one."""
    target = resolve(home, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".~cocalc-write-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


class FileTooLarge(ValueError):
    pass


def read_text(home: Path, path: str, max_mb: float | None = MAX_FILE_SIZE_MB) -> str:
    """Read a text file; FileNotFoundError carries CoCalc's ``stat '<abs path>'`` wording."""
    target = resolve(home, path)
    try:
        size = os.stat(target).st_size
    except FileNotFoundError:
        raise FileNotFoundError(
            f"ENOENT: no such file or directory, stat '{display_path(home, path)}'"
        ) from None
    if target.is_dir():
        raise IsADirectoryError("EISDIR: illegal operation on a directory, read")
    if max_mb is not None and size > max_mb * 1_000_000:
        raise FileTooLarge(
            f"Attempt to open large file of size {round(size / 1_000_000)}MB; the maximum allowed size "
            f"is {max_mb:g}MB. Use vim, emacs, or pico from a terminal instead."
        )
    with open(target, "r", encoding="utf-8", errors="replace", newline="") as fh:
        return fh.read()


def listing(home: Path, path: str = "", hidden: bool = False) -> list[dict]:
    """Directory entries as CoCalc lists them: name, size, mtime (s), isdir, issymlink."""
    target = resolve(home, path)
    out = []
    with os.scandir(target) as it:
        for entry in it:
            if not hidden and entry.name.startswith("."):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            item = {"name": entry.name, "size": st.st_size, "mtime": st.st_mtime}
            if entry.is_dir():
                item["isdir"] = True
            if entry.is_symlink():
                item["issymlink"] = True
            out.append(item)
    out.sort(key=lambda e: e["name"])
    return out
