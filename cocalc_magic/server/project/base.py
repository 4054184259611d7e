"""What every project function shares: the project's view of one call (``Project``: its HOME,
paths inside it) and Node's error texts. The functions are in ``exec`` (exec, async jobs,
signal), ``files`` (text files, listing, file operations, realpath) and ``table`` (dispatch).

Texts follow the recordings of ``real-hub-transcripts.md`` §2 and CoCalc's
``project/conat/api/system.ts`` and ``backend/execute-code.ts``. Exec errors are plain strings in
CoCalc (no ``Error: `` prefix); file-system errors are Node's ``Error: ENOENT: …`` texts.
Where CoCalc would act outside HOME we refuse with Node's EACCES text (a guess: a real project
is a Linux user who may read outside HOME; here HOME is the project's whole world).
"""

from __future__ import annotations

import errno as errno_mod
import os
import time
from pathlib import Path
from typing import Any

from ..core import homes
from ..core.jsvalues import RemoteError, error, type_error

# system.version: CoCalc reports its build time in seconds; this is the build the recordings
# come from (5cb3315c30, 2026-07-03), the generation this server plays.
VERSION = 1783081032

NODE_TEXT = {
    errno_mod.ENOENT: ("ENOENT", "no such file or directory"),
    errno_mod.EISDIR: ("EISDIR", "illegal operation on a directory"),
    errno_mod.ENOTDIR: ("ENOTDIR", "not a directory"),
    errno_mod.EACCES: ("EACCES", "permission denied"),
    errno_mod.EPERM: ("EPERM", "operation not permitted"),
    errno_mod.EEXIST: ("EEXIST", "file already exists"),
    errno_mod.ENOTEMPTY: ("ENOTEMPTY", "directory not empty"),
    errno_mod.EINVAL: ("EINVAL", "invalid argument"),
}


def fs_error(exc: OSError | int, syscall: str, path: str | None = None) -> RemoteError:
    """Node's fs error text: ``Error: ENOENT: no such file or directory, open 'x'``."""
    num = exc if isinstance(exc, int) else (exc.errno or errno_mod.EIO)
    code, text = NODE_TEXT.get(num, (errno_mod.errorcode.get(num, "EIO"), os.strerror(num).lower()))
    where = f" '{path}'" if path is not None else ""
    return error(f"{code}: {text}, {syscall}{where}")


def _ms() -> int:
    return int(time.time() * 1000)


def _destructure(opts: Any, prop: str) -> dict:
    if opts is None:
        raise type_error(f"Cannot destructure property '{prop}' of 'undefined' as it is undefined.")
    return opts if isinstance(opts, dict) else {}


class Project:
    """One call's view of a project: its id, HOME and the server's runtime."""

    def __init__(self, ctx, project_id: str):
        self.ctx = ctx
        self.project_id = project_id
        self.home = ctx.store.home(project_id)
        self.home.mkdir(parents=True, exist_ok=True)
        self.home_real = Path(os.path.realpath(self.home))

    def abs_display(self, path: str) -> str:
        return homes.display_path(self.home, path)

    def inside(self, path: str, syscall: str, shown: str | None = None) -> Path:
        """The real path of ``path`` inside HOME, or Node's EACCES text."""
        try:
            return homes.resolve(self.home, path)
        except homes.PathOutsideHome:
            raise fs_error(errno_mod.EACCES, syscall, shown if shown is not None else path) from None
        except homes.NullByte as exc:
            raise RemoteError(str(exc)) from None

    def lexical(self, path: str, syscall: str) -> Path:
        """``path`` under HOME without following a final symlink (for lstat, unlink, rename)."""
        if "\x00" in path:
            raise RemoteError(str(homes.NullByte(path)))
        p = Path(os.path.normpath(self.home_real / path))
        if p == self.home_real:
            return p
        parent = Path(os.path.realpath(p.parent))
        if parent != self.home_real and self.home_real not in parent.parents:
            raise fs_error(errno_mod.EACCES, syscall, str(p))
        return parent / p.name
