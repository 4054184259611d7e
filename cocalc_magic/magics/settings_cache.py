"""The magics' settings, resolved once and reused for as long as nothing they depend on changes.

Every ``%cocalc`` call needs the resolved settings (to find the cached client), and resolving them
means reading the environment, building the credentials file's path and reading and parsing that
file. The result depends only on: the ``use``d project, the ``%config`` values, a few environment
variables, and the credentials file. So the last result is kept with a key made of exactly those
(the file by its stat: inode, size, mtime, ctime), and resolved again as soon as any part differs.
The file supplies only the host and the key, each only when neither ``%config`` nor the environment
gives it (the documented precedence); when both are given, its contents cannot change the result,
so it is not even looked at (no stat).

A file written twice within the file system's timestamp granularity (a few ms) could keep its
stat; so, like git's "racily clean" rule, a file modified less than ``RACY_SECONDS`` ago is never
trusted from the cache: it is read again on each call until it has been quiet for that long.
"""

from __future__ import annotations

import os
import time
from typing import Any, Mapping

# Every environment variable that settings.resolve or settings.credentials_path reads
# (HOME: expanduser("~") for the default credentials location).
ENV_NAMES = ("COCALC_HOST", "COCALC_API_KEY", "COCALC_PROJECT_ID", "COCALC_MAGIC_CREDENTIALS",
             "XDG_CONFIG_HOME", "HOME")
_HOST, _API_KEY = 0, 1  # their places in ENV_NAMES
RACY_SECONDS = 2.0
_RACY_NS = int(RACY_SECONDS * 1e9)


def _environment() -> tuple:
    """The values of ``ENV_NAMES`` (None when unset), compared with the previous call's."""
    return tuple(map(os.environ.get, ENV_NAMES))


class SettingsCache:
    """The last ``settings.resolve`` result and the key it was resolved for."""

    def __init__(self) -> None:
        self._entry: tuple[tuple, Any] | None = None   # (key, Settings): swapped as one object
        self._path: tuple[tuple, str] | None = None    # (environment, credentials path)
        self.resolved = 0  # how many times settings were resolved for real (tests read it)

    def clear(self) -> None:
        """Forget the cached settings (after ``%cocalc login``/``logout``: belt and braces)."""
        self._entry = None

    def _credentials_path(self, env: tuple) -> str:
        cached = self._path
        if cached is not None and cached[0] == env:
            return cached[1]
        from ..settings import credentials_path

        path = str(credentials_path())
        self._path = (env, path)
        return path

    def get(self, project: str | None, config: Mapping[str, Any]):
        """``settings.resolve(project=project, config=config)``, from the cache when still valid.

        Raises ValueError as ``resolve`` does (a failed resolution is never cached)."""
        env = _environment()
        if (config.get("host") or env[_HOST]) and env[_API_KEY]:
            stamp, racy = "not consulted", False
        else:
            stamp, racy = self._stamp(env)
        key = (project, tuple(config.items()), env, stamp)
        entry = self._entry
        if entry is not None and entry[0] == key:
            return entry[1]
        from ..settings import resolve

        value = resolve(project=project, config=config)
        self.resolved += 1
        self._entry = None if racy else (key, value)
        return value

    def _stamp(self, env: tuple) -> tuple[tuple | None, bool]:
        """The credentials file's identity and times (None: no file), and whether it is too fresh
        to be trusted from the cache."""
        try:
            st = os.stat(self._credentials_path(env))
        except OSError:
            return None, False
        else:
            changed = max(st.st_mtime_ns, st.st_ctime_ns)
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            return stamp, time.time_ns() - changed < _RACY_NS
