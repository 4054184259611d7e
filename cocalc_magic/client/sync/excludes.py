"""Which paths a sync leaves alone: the default excludes plus the user's globs.

A glob ending in ``/`` matches folders only; a glob with a ``/`` inside is matched against the
whole path relative to the synced folder; any other glob against each file or folder name (so
``*.log`` excludes log files at any depth). Both sides use the same matcher, and the remote
listing prunes the name globs already in ``find`` so excluded trees are not hashed there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import translate
from typing import Iterable

DEFAULT_EXCLUDES = (".git/", "__pycache__/", ".ipynb_checkpoints/")
# Temporary files of the transfers themselves (p.write_bytes' base64 upload, the local server's
# atomic writes, this module's atomic local writes): never synced, whoever left them behind.
INTERNAL_EXCLUDES = ("*.cocalc-magic-b64.tmp", ".~cocalc-write-*", ".cocalc-sync-*.tmp")


@dataclass(frozen=True)
class Excludes:
    """A compiled list of globs; ``excluded(rel, is_dir)`` says whether a path is left out."""

    names: tuple[str, ...]       # match any entry's name
    dir_names: tuple[str, ...]   # match a folder's name
    paths: tuple[str, ...]       # match the whole relative path
    _res: tuple[re.Pattern[str] | None, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        # each list as one compiled pattern: a scan asks for every file it sees
        def one(globs: tuple[str, ...]) -> re.Pattern[str] | None:
            return re.compile("|".join(translate(g) for g in globs)) if globs else None
        object.__setattr__(self, "_res", (one(self.names), one(self.dir_names), one(self.paths)))

    @classmethod
    def of(cls, user: Iterable[str] = (), defaults: bool = True) -> "Excludes":
        globs = [*(DEFAULT_EXCLUDES if defaults else ()), *INTERNAL_EXCLUDES, *user]
        names: list[str] = []
        dir_names: list[str] = []
        paths: list[str] = []
        for g in globs:
            g = str(g).strip()
            if not g:
                continue
            dir_only = g.endswith("/")
            g = g.strip("/")
            if not g:
                continue
            if "/" in g:
                paths.append(g)
            elif dir_only:
                dir_names.append(g)
            else:
                names.append(g)
        return cls(tuple(names), tuple(dir_names), tuple(paths))

    def excluded(self, rel: str, is_dir: bool) -> bool:
        names, dir_names, paths = self._res
        name = rel.rsplit("/", 1)[-1]
        return bool((names and names.match(name)) or (is_dir and dir_names and dir_names.match(name))
                    or (paths and paths.match(rel)))

    def covers(self, rel: str, is_dir: bool) -> bool:
        """Whether ``rel`` or one of its parent folders is excluded (for flat listings)."""
        parts = rel.split("/")
        for i in range(1, len(parts)):
            if self.excluded("/".join(parts[:i]), True):
                return True
        return self.excluded(rel, is_dir)

    def find_prunes(self) -> list[str]:
        """The globs ``find`` can prune by name: ``a:GLOB`` any entry, ``d:GLOB`` folders only."""
        return [f"a:{g}" for g in self.names] + [f"d:{g}" for g in self.dir_names]
