"""``p.sync``: one run of a two-way sync between a local folder (or file) and a project's.

It lists both sides (the project's in one command), decides with ``rules.plan``, then copies
the changed files concurrently through ``cc.map`` (the shared connection pool, its progress
bar), applies deletes and modes in one batched command, and records each finished step in the
state at once. A failing file is listed in the report and does not stop the others; a failure
of the connection or of the key stops the run (what finished stays recorded) and is raised.
"""

from __future__ import annotations

import binascii
import copy
import os
import posixpath
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Iterable

from ... import errors as E
from .excludes import Excludes
from .local import scan, unchanged
from .remote import OutsideHome, RemoteSide, apply_ops, list_remote
from .report import SyncReport
from .rules import DEFAULT_MODE, Base, Entry, Plan, Step, plan
from .bundle import Batch, batches, download_batch, upload_batch
from .state import State, SyncBusy, state_path
from .transfer import NotSynced, download, upload

DEFAULT_WORKERS = 8


def default_remote(local: str) -> str:
    """The project path a LOCAL maps to: the same relative path (``data/x`` -> ``data/x``); for
    ``.``, an absolute path or one above this folder, its name (a guess: never the home itself)."""
    p = PurePath(os.path.expanduser(local))
    if not p.is_absolute() and p.parts and ".." not in p.parts:
        return "/".join(p.parts)
    full = Path(os.path.abspath(p))
    try:
        rel = full.relative_to(Path.cwd())
        if rel.parts:
            return "/".join(rel.parts)
    except ValueError:
        pass
    return full.name


@dataclass
class Pair:
    """Where the relative paths of both sides start, and the one file of a file sync."""

    local_base: Path
    remote_base: str          # relative to the project's home ('' = the home)
    only: str | None = None   # a file sync: its name here ...
    remote_name: str | None = None  # ... and in the project

    def local(self, rel: str) -> Path:
        return self.local_base / rel

    def remote(self, rel: str) -> str:
        if self.only is not None and rel == self.only:
            rel = self.remote_name or rel
        return posixpath.join(self.remote_base, rel) if self.remote_base else rel


def _kind(path: Path) -> str:
    if path.is_dir():
        return "d"
    if path.is_file():
        return "f"
    return "o" if os.path.lexists(path) else "n"


def _amend(err: E.CoCalcError, message: str, hint: str | None = None) -> E.CoCalcError:
    """The same error (class, status, attributes such as ``capability``) with a sync's wording."""
    new = copy.copy(err)
    new.message, new.args = message, (message,)
    if hint is not None:
        new.hint = hint
    return new


def _stops_the_run(err: BaseException) -> bool:
    """Errors no other file would escape: the connection, the key, a missing capability."""
    moved = getattr(E, "Moved", None)
    return (isinstance(err, (E.CoCalcConnectionError, E.AuthenticationError))
            or (moved is not None and isinstance(err, moved))
            or (isinstance(err, E.PermissionDenied) and bool(getattr(err, "capability", None))))


def _list(p: Any, remote: str, only: str | None, excludes: Excludes) -> RemoteSide:
    try:
        return list_remote(p, remote, only, excludes.find_prunes())
    except OutsideHome as where:
        shown = remote if str(where) in (remote, remote.rstrip("/")) else f"{remote} ({where})"
        raise E.InvalidRequest(f"the project path {shown} is outside the project's home",
                               hint="outside_home") from None
    except E.PermissionDenied as err:
        cap = getattr(err, "capability", None)
        if cap:
            raise _amend(err, f"sync needs '{cap}' (it works through the project's commands): {err.message}") from None
        raise


def sync(p: Any, local: str | os.PathLike[str], remote: str | None = None, *, dry_run: bool = False,
         delete: bool = False, exclude: Iterable[str] | str = (), workers: int = DEFAULT_WORKERS,
         progress: bool = True) -> SyncReport:
    """Make ``local`` (a file or folder here) and ``remote`` (in project ``p``) the same."""
    excludes = Excludes.of([exclude] if isinstance(exclude, str) else list(exclude))
    local_path = Path(os.path.abspath(os.path.expanduser(os.fspath(local))))
    remote = default_remote(os.fspath(local)) if remote is None else str(remote).strip()
    if remote == "~" or remote.startswith("~/"):
        remote = remote[2:]  # the home, as a shell would read it
    lkind = _kind(local_path)
    if lkind == "o":
        raise E.InvalidRequest(f"{local_path} is neither a file nor a folder", hint="Give a file or a folder")
    if lkind == "f" and remote.endswith("/"):
        remote += local_path.name  # "into this folder", as cp reads it
    side = _list(p, remote, local_path.name if lkind == "f" else None, excludes)
    where = f"{p.title or p.project_id}:{side.rel or '~'}"
    if side.kind == "o" or (lkind == "d" and side.kind == "f"):
        what = "a folder" if lkind == "d" else ("a file" if lkind == "f" else "missing")
        raise E.InvalidRequest(f"{local_path} is {what} here but {where} is not a folder in the project",
                               hint="Give another project path")
    if lkind == "n" and side.kind == "n":
        raise E.NotFound(f"neither {local_path} nor {where} exists: nothing to sync",
                         hint="Check both paths")
    if lkind == "f" or side.kind == "f":
        pair = Pair(local_path.parent, posixpath.dirname(side.rel), local_path.name, posixpath.basename(side.rel))
        found = list(side.entries.values())  # the one file, known here by its local name
        remote_entries = {pair.only: found[0]} if found else {}
    else:
        pair = Pair(local_path, side.rel)
        remote_entries = {k: e for k, e in side.entries.items() if not excludes.covers(k, e.kind == "d")}

    state = State(state_path(p.client.host, p.project_id, os.path.realpath(local_path), side.target),
                  {"host": p.client.host, "project_id": p.project_id, "local": str(local_path),
                   "remote": side.target})
    try:
        state.lock()
    except SyncBusy:
        raise E.InvalidRequest(f"another sync of {local_path} with {where} is running",
                               hint="Wait for it to finish") from None
    try:
        state.load()
        scanned_at = time.time_ns()
        local_entries = scan(pair.local_base, excludes, pair.only, state.seen, state.seen_at_ns)
        if not dry_run:
            state.seen = {k: (e.size, e.mtime_ns, e.sha) for k, e in local_entries.items() if e.kind == "f" and e.sha}
            state.seen_at_ns = scanned_at
        decided = plan(local_entries, remote_entries, state.files, state.dirs, delete=delete)
        if pair.only is None and side.kind == "n":
            decided.remote_ops.insert(0, Step("mkdir_remote", ""))
        report = SyncReport(dry_run=dry_run, local=os.fspath(local), remote=where)
        if dry_run:
            return _intent(decided, report)
        return _Run(p, pair, state, decided, report, local_entries, remote_entries).go(workers, progress)
    finally:
        state.close()


def _intent(d: Plan, r: SyncReport) -> SyncReport:
    """What a run would do (a dry run's report)."""
    slash = {"mkdir_remote", "mkdir_local", "rmdir_remote", "rmdir_local"}
    lists = {"upload": r.uploaded, "download": r.downloaded, "mkdir_remote": r.uploaded, "mkdir_local": r.downloaded,
             "chmod_remote": r.uploaded, "chmod_local": r.downloaded,
             "delete_remote": r.deleted_remote, "rmdir_remote": r.deleted_remote,
             "delete_local": r.deleted_local, "rmdir_local": r.deleted_local}
    for s in [*d.transfers, *d.remote_ops, *d.local_ops]:
        if s.conflict is None and s.op in lists and s.path:
            lists[s.op].append(s.path + ("/" if s.op in slash else ""))
    r.conflicts.extend(c.path for c in d.conflicts)
    r.skipped.extend(d.skipped)
    r.notes.update(d.skipped)
    r.notes.update(d.notes)
    return r


class _Run:
    """The changes of one run, each recorded in the state as soon as it is made."""

    def __init__(self, p: Any, pair: Pair, state: State, d: Plan, report: SyncReport,
                 local: dict[str, Entry], remote: dict[str, Entry]) -> None:
        self.p, self.pair, self.state, self.d, self.r = p, pair, state, d, report
        self.local, self.remote = local, remote
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.fatal: list[BaseException] = []
        self.chmods: list[Step] = []
        self.pending = {c.path: sum(1 for s in d.transfers if s.conflict == c.path) for c in d.conflicts}

    def go(self, workers: int, progress: bool) -> SyncReport:
        d, r = self.d, self.r
        for rel, base in d.records.items():
            self.state.set_file(rel, base)
        for rel, present in d.dirs.items():
            if present != (rel in self.state.dirs):
                self.state.set_dir(rel, present)
        r.conflicts.extend(c.path for c in d.conflicts)
        r.notes.update(d.notes)
        for c in d.conflicts:
            self._conflict_step_done(c.path, None)
        if self.pair.only is None:  # the folder itself, even when the project's is empty
            self.pair.local_base.mkdir(parents=True, exist_ok=True)
        try:
            if d.transfers:
                limit = self.p.client.max_write_bytes
                grouped, single = batches(d.transfers, self._size, limit)
                items: list[Batch | Step] = [*grouped, *single]
                done = self.p.client.map(lambda item: self._item(item, limit), items,
                                         workers=workers, progress=progress)
                for _, item, exc in done.errors:
                    for step in (item.steps if isinstance(item, Batch) else [item]):
                        self._failed(step, exc)
            if self.fatal:
                raise self.fatal[0]
            self._remote_ops()
            self._local_ops()
        except E.CoCalcError as err:
            if not _stops_the_run(err) and not self.fatal:
                raise
            finished = len(r.uploaded) + len(r.downloaded)
            cap = getattr(err, "capability", None)
            if cap:  # what to do is the key's business: keep the client's advice about it
                raise _amend(err, f"sync needs '{cap}' ({finished} of {len(d.transfers)} transfers done): "
                                  f"{err.message}") from None
            raise _amend(err, f"the sync stopped ({finished} of {len(d.transfers)} transfers done): {err.message}",
                         hint="sync_again") from None
        finally:
            self.state.save()
        for rel, why in d.skipped.items():
            if rel not in r.skipped:
                r.skipped.append(rel)
            r.notes.setdefault(rel, why)
        return r

    # -- transfers (worker threads) -----------------------------------------------------
    def _size(self, s: Step) -> int:
        e = (self.local if s.op == "upload" else self.remote).get(s.path)
        return e.size if e else 0

    def _expect(self, s: Step) -> str | None:
        """What the local file must still hold before a download replaces it (None: absent)."""
        e = None if s.conflict else self.local.get(s.path)
        return e.sha if e and e.kind == "f" else None

    def _remote_sha(self, s: Step) -> str | None:
        """What the project's file held when listed (None: absent), which an upload may replace."""
        e = self.remote.get(s.dest)
        return e.sha if e and e.kind == "f" else None

    def _item(self, item: "Batch | Step", limit: int) -> None:
        if self.stop.is_set():
            raise _NotTried()
        try:
            if isinstance(item, Step):
                return self._transfer(item, limit)
            return self._batch(item, limit)
        except E.CoCalcError as err:
            if _stops_the_run(err):
                self.stop.set()
                with self.lock:
                    self.fatal.append(err)
            raise

    def _transfer(self, s: Step, limit: int) -> None:
        if s.op == "upload":
            upload(self.p, self.pair.local(s.path), self.pair.remote(s.dest), s.sha or "", limit, self._remote_sha(s))
        else:
            download(self.p, self.pair.remote(s.path), self.pair.local(s.dest), s.sha or "", s.mode,
                     self._expect(s))
        self._transferred(s)

    def _batch(self, b: Batch, limit: int) -> None:
        """A batch in one round trip; when it fails as a whole, its files one by one."""
        try:
            if b.op == "upload":
                done, problems = upload_batch(self.p, self.pair.remote_base, [
                    (s, self.pair.local(s.path), self.pair.remote(s.dest), self._remote_sha(s)) for s in b.steps], limit)
            else:
                done, problems = download_batch(self.p, [
                    (s, self.pair.remote(s.path), self.pair.local(s.dest), self._expect(s)) for s in b.steps])
        except E.CoCalcError as err:
            if _stops_the_run(err):
                raise
            done, problems = [], None
        except (ValueError, tarfile.TarError, binascii.Error, EOFError, OSError):
            done, problems = [], None
        if problems is None:  # the batch failed as a whole: each file alone, each error its own
            for s in b.steps:
                if self.stop.is_set():
                    return
                try:
                    self._transfer(s, limit)
                except Exception as exc:  # listed per file, like cc.map's errors
                    if _stops_the_run(exc):
                        raise
                    self._failed(s, exc)
            return
        for s in done:
            self._transferred(s, mode_kept=True)
        for s in b.steps:
            if s.path in problems:
                self._failed(s, NotSynced(problems[s.path]))

    def _transferred(self, s: Step, mode_kept: bool = False) -> None:
        if s.conflict is not None:
            here = s.op == "download"
            self.state.set_file(s.dest, Base(s.sha, None, s.mode) if here else Base(None, s.sha, None))
            self._conflict_step_done(s.conflict, s)
            return
        if s.op == "download":
            self.state.set_file(s.path, Base(s.sha, s.sha, s.mode))
            with self.lock:
                self.r.downloaded.append(s.path)
            return
        before = self.remote.get(s.path)
        after = before.mode if before and before.kind == "f" and before.mode is not None else DEFAULT_MODE
        if mode_kept:  # a batch's tar sets the modes itself
            after = s.mode if s.mode is not None else after
        self.state.set_file(s.path, Base(s.sha, s.sha, after))
        with self.lock:
            self.r.uploaded.append(s.path)
            if s.mode is not None and s.mode != after:
                self.chmods.append(Step("chmod_remote", s.path, sha=s.sha, mode=s.mode))

    def _conflict_step_done(self, path: str, s: Step | None) -> None:
        with self.lock:
            if s is not None:
                self.pending[path] -= 1
            left = self.pending[path]
        if left == 0:
            c = next(c for c in self.d.conflicts if c.path == path)
            self.state.set_file(path, Base(c.local_sha, c.remote_sha, None))

    def _failed(self, s: Step, exc: BaseException) -> None:
        if isinstance(exc, _NotTried):
            return
        if isinstance(exc, E.CoCalcError):
            why = exc.message
        elif isinstance(exc, OSError):
            why = f"could not be read here: {exc.strerror or exc}"
        else:
            why = str(exc)
        if s.conflict is not None:
            why = f"its conflict copy {s.dest} was not made: {why}"
        with self.lock:
            self.r.errors[s.path] = why
            if s.path not in self.r.skipped:
                self.r.skipped.append(s.path)

    # -- the batched remote command and the local changes -----------------------------------
    def _remote_ops(self) -> None:
        steps = [s for s in self.d.remote_ops if s.op != "rmdir_remote"] + self.chmods
        steps += sorted((s for s in self.d.remote_ops if s.op == "rmdir_remote"),
                        key=lambda s: s.path.count("/"), reverse=True)
        if not steps:
            return
        code = {"delete_remote": "rm", "chmod_remote": "chmod", "mkdir_remote": "mkdir", "rmdir_remote": "rmdir"}
        ops: list[tuple[str, ...]] = []
        for s in steps:
            path = self.pair.remote(s.path) if s.path else self.pair.remote_base
            if s.op == "delete_remote":
                ops.append(("rm", s.sha or "", path))
            elif s.op == "chmod_remote":
                ops.append(("chmod", f"{(s.mode or 0) & 0o7777:o}", path))
            else:
                ops.append((code[s.op], path or "."))
        done = apply_ops(self.p, ops)
        for s, op in zip(steps, ops, strict=True):
            ok = done.get((op[0], op[-1]), False)
            if s.op == "delete_remote":
                self._delete_done(s, ok, self.r.deleted_remote, "changed in the project while syncing: not deleted")
            elif s.op == "chmod_remote":
                if ok:
                    self.state.set_file(s.path, Base(s.sha, s.sha, s.mode))
                    if s.path not in self.r.uploaded:  # a permission change alone is a change too
                        self.r.uploaded.append(s.path)
                        self.r.notes[s.path] = f"permissions only (now {(s.mode or 0) & 0o7777:o})"
            elif s.op == "mkdir_remote":
                if ok and s.path:
                    self.state.set_dir(s.path, True)
                    self.r.uploaded.append(s.path + "/")
            elif ok:
                self.state.set_dir(s.path, False)
                self.r.deleted_remote.append(s.path + "/")
            else:
                self._skip(s.path, "folder not empty in the project: kept")

    def _local_ops(self) -> None:
        rmdirs = sorted((s for s in self.d.local_ops if s.op == "rmdir_local"),
                        key=lambda s: s.path.count("/"), reverse=True)
        for s in [s for s in self.d.local_ops if s.op != "rmdir_local"] + rmdirs:
            path = self.pair.local(s.path)
            try:
                if s.op == "delete_local":
                    ok = unchanged(path, s.sha)
                    if ok:
                        path.unlink()
                    self._delete_done(s, ok, self.r.deleted_local, "changed here while syncing: not deleted")
                elif s.op == "chmod_local":
                    if unchanged(path, s.sha):
                        os.chmod(path, (s.mode or DEFAULT_MODE) & 0o7777)
                        self.state.set_file(s.path, Base(s.sha, s.sha, s.mode))
                        self.r.downloaded.append(s.path)
                        self.r.notes[s.path] = f"permissions only (now {(s.mode or 0) & 0o7777:o})"
                elif s.op == "mkdir_local":
                    path.mkdir(parents=True, exist_ok=True)
                    self.state.set_dir(s.path, True)
                    self.r.downloaded.append(s.path + "/")
                else:
                    path.rmdir()
                    self.state.set_dir(s.path, False)
                    self.r.deleted_local.append(s.path + "/")
            except OSError as exc:
                kept = "folder not empty here: kept" if s.op == "rmdir_local" else f"{exc.strerror or exc}"
                self._skip(s.path, kept)

    def _delete_done(self, s: Step, ok: bool, into: list[str], otherwise: str) -> None:
        if ok:
            self.state.set_file(s.path, None)
            into.append(s.path)
        else:
            self._skip(s.path, otherwise)

    def _skip(self, path: str, why: str) -> None:
        if path not in self.r.skipped:
            self.r.skipped.append(path)
        self.r.notes[path] = why


class _NotTried(Exception):
    """A transfer left alone because the run was stopping."""
