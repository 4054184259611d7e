"""A local folder and a project folder for the sync tests, with ways to look at and change both."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from cocalc_magic.client import Project

GENERATIONS = ["v1", "conat", "ai"]


class Side:
    def __init__(self, p: Project, local: Path, remote: str, cache: Path) -> None:
        self.p, self.local, self.remote, self.cache = p, local, remote, cache

    def sync(self, **kw):
        kw.setdefault("progress", False)
        return self.p.sync(self.local, self.remote, **kw)

    # this machine
    def put(self, rel: str, content: str | bytes, mode: int | None = None) -> None:
        path = self.local / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        if mode is not None:
            os.chmod(path, mode)

    # the project
    def rput(self, rel: str, content: str | bytes) -> None:
        path = f"{self.remote}/{rel}"
        if isinstance(content, str):
            self.p.write(path, content)
        else:
            self.p.write_bytes(path, content)

    def rget(self, rel: str) -> bytes:
        return self.p.read_bytes(f"{self.remote}/{rel}")

    def rexec(self, script: str) -> str:
        res = self.p.exec(script.format(d=shlex.quote(self.remote)), bash=True)
        assert res.exit_code == 0, res
        return res.stdout

    def rls(self) -> list[str]:
        return self.rexec("ls -A {d} 2>/dev/null || true").split()

    def rls_of(self, rel: str) -> list[str]:
        return self.rexec(f"ls -A {{d}}/{shlex.quote(rel)}").split()

    def rmode(self, rel: str) -> int:
        return int(self.rexec(f"stat -c %a {{d}}/{shlex.quote(rel)}").strip(), 8)

    def rkind(self, rel: str) -> str:
        return self.rexec(f"stat -c %F {{d}}/{shlex.quote(rel)}").strip()


def break_writes(monkeypatch, after: int, exc: BaseException):
    """``p.write`` works ``after`` times, then raises ``exc`` (a lost connection, a Ctrl-C);
    returns the function that mends it."""
    real = Project.write
    calls = {"n": 0}

    def broken(self, path, content):
        calls["n"] += 1
        if calls["n"] > after:
            raise exc
        return real(self, path, content)

    monkeypatch.setattr(Project, "write", broken)
    return lambda: monkeypatch.setattr(Project, "write", real)
