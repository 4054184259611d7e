"""The decisions of a two-way sync, as a pure function of three snapshots: what each side holds
now, and what both held after the last sync (the state). No I/O here, so every rule is tested
on plain data.

The state keeps, per file, the content hash each side had after the last sync (equal when the
file was in sync; different for an unresolved conflict, and for a conflict copy that exists on
one side only). A side *changed* a file when its hash differs from that record; with no record
(a first sync, or a file new on both sides) every present file counts as changed, so differing
files become conflicts and nothing is overwritten.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from datetime import date

DEFAULT_MODE = 0o644  # guess: what a CoCalc project gives a file written through the API (umask 022)


@dataclass(frozen=True)
class Entry:
    """One path on one side: a file (``f``), a folder (``d``) or anything else (``o``: a link...)."""

    kind: str
    sha: str | None = None
    mode: int | None = None
    size: int = 0
    error: str | None = None  # why a file could not be read there
    mtime_ns: int = 0  # this machine's files: when last modified (so an unchanged file is not read again)


@dataclass(frozen=True)
class Base:
    """What a file was on each side after the last sync (None: absent there) and its mode."""

    local: str | None
    remote: str | None
    mode: int | None = None


@dataclass(frozen=True)
class Step:
    """One thing to do. ``op``: upload, download, delete_remote, delete_local, chmod_remote,
    chmod_local, mkdir_remote, mkdir_local, rmdir_remote, rmdir_local. ``path`` is where the
    content comes from, ``target`` where it goes (a conflict copy's name; else ``path``);
    ``sha`` the content moved (or, for a delete, the content expected there); ``mode`` to set."""

    op: str
    path: str
    sha: str | None = None
    mode: int | None = None
    target: str | None = None
    conflict: str | None = None  # the conflicted path this copy belongs to

    @property
    def dest(self) -> str:
        return self.target or self.path


@dataclass
class Conflict:
    path: str
    local_sha: str
    remote_sha: str
    local_copy: str   # the project's version, kept here
    remote_copy: str  # this machine's version, kept in the project
    mode: int | None = None


@dataclass
class Plan:
    transfers: list[Step] = field(default_factory=list)
    remote_ops: list[Step] = field(default_factory=list)
    local_ops: list[Step] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # path -> why
    records: dict[str, Base | None] = field(default_factory=dict)  # state changes needing no work
    dirs: dict[str, bool] = field(default_factory=dict)  # folder -> in the state after this sync
    notes: dict[str, str] = field(default_factory=dict)  # path -> what happened and why (for the report)
    parents: set[str] = field(default_factory=set)  # folders holding something (made by what they hold)


def conflict_name(path: str, side: str, day: date, n: int = 1) -> str:
    """``dir/name.conflict-<side>-<date>.ext`` (``-2``, ``-3``... when taken); an extension-less
    or dot file gets the suffix at its end."""
    folder, name = posixpath.split(path)
    stem, ext = posixpath.splitext(name)
    if not stem:  # ".bashrc": splitext already treats it as a stem; "." never reaches here
        stem, ext = name, ""
    tag = f".conflict-{side}-{day.isoformat()}" + (f"-{n}" if n > 1 else "")
    return posixpath.join(folder, f"{stem}{tag}{ext}")


def _free_name(path: str, side: str, day: date, content: str, here: dict[str, Entry],
               there: dict[str, Entry]) -> tuple[str, bool]:
    """A conflict copy's name on one side, and whether the copy is already there (an earlier,
    interrupted run made it): a taken name holding other content moves on to the next number."""
    n = 1
    while True:
        name = conflict_name(path, side, day, n)
        e = here.get(name)
        if e is None and name not in there:
            return name, False
        if e is not None and e.kind == "f" and e.sha == content:
            return name, True
        n += 1


def plan(local: dict[str, Entry], remote: dict[str, Entry], files: dict[str, Base], dirs: set[str],
         *, delete: bool = False, today: date | None = None) -> Plan:
    """What to do so that both sides hold the same files, losing nothing.

    ``local``/``remote``: path -> Entry (paths relative to the synced folder, ``/``-separated).
    ``files``/``dirs``: the state of the last sync. ``delete``: propagate deletions.
    """
    day = today or date.today()
    out = Plan()
    paths = sorted(set(local) | set(remote) | set(files) | set(dirs))
    out.parents = {q.rsplit("/", 1)[0] for q in (*local, *remote) if "/" in q}
    for path in paths:
        le, re_ = local.get(path), remote.get(path)
        if (le and le.kind == "d") or (re_ and re_.kind == "d") or (path in dirs and not le and not re_):
            _folder(out, path, le, re_, path in dirs, delete)
            continue
        _file(out, path, le, re_, files.get(path), delete, day, local, remote)
    return out


def _folder(out: Plan, path: str, le: Entry | None, re_: Entry | None, known: bool, delete: bool) -> None:
    ld, rd = bool(le and le.kind == "d"), bool(re_ and re_.kind == "d")
    if (le and not ld) or (re_ and not rd):
        here = "a folder here" if ld else ("a file here" if le else "nothing here")
        there = "a folder in the project" if rd else ("a file in the project" if re_ else "nothing there")
        out.skipped[path] = f"{here} but {there}: rename one of them"
        return
    if ld and rd:
        out.dirs[path] = True
    elif not ld and not rd:
        out.dirs[path] = False  # gone on both sides
    elif ld:  # only here
        if not known:
            if path not in out.parents:  # an empty folder; a full one comes with its files
                out.remote_ops.append(Step("mkdir_remote", path))  # recorded once made
        elif delete:
            out.local_ops.append(Step("rmdir_local", path))
        else:
            out.skipped[path] = "folder deleted in the project; kept here (--delete deletes it)"
    else:  # only in the project
        if not known:
            if path not in out.parents:
                out.local_ops.append(Step("mkdir_local", path))
        elif delete:
            out.remote_ops.append(Step("rmdir_remote", path))
        else:
            out.skipped[path] = "folder deleted here; kept in the project (--delete deletes it)"


def _file(out: Plan, path: str, le: Entry | None, re_: Entry | None, base: Base | None, delete: bool,
          day: date, local: dict[str, Entry], remote: dict[str, Entry]) -> None:
    for e, where in ((le, "here"), (re_, "in the project")):
        if e is not None and e.kind == "o":
            out.skipped[path] = f"not a regular file {where} (a symbolic link or special file): not synced"
            return
        if e is not None and e.sha is None:
            out.skipped[path] = f"could not be read {where}: {e.error or 'unknown error'}"
            return
    l = le.sha if le else None
    r = re_.sha if re_ else None
    lmode = le.mode if le else None
    rmode = re_.mode if re_ else None
    if l == r:
        if l is None:
            if base is not None:
                out.records[path] = None
            return
        _modes(out, path, l, lmode, rmode, base)
        return
    lc = l != base.local if base else l is not None
    rc = r != base.remote if base else r is not None
    if not lc and not rc:
        if l is not None and r is not None:
            out.skipped[path] = "still differs from the project's version (an unresolved conflict): edit one side"
        return  # on one side only since the last sync (a conflict copy): nothing to do
    if lc != rc:
        if lc:
            _one_sided(out, path, True, l, r, lmode, delete)
        else:
            _one_sided(out, path, False, r, l, rmode, delete)
        return
    # both changed, to different contents
    if l is None:
        out.transfers.append(Step("download", path, sha=r, mode=rmode))
        out.notes[path] = "deleted here but changed in the project: the project's version is back here"
        return
    if r is None:
        out.transfers.append(Step("upload", path, sha=l, mode=lmode))
        out.notes[path] = "deleted in the project but changed here: your version is back in the project"
        return
    assert l is not None and r is not None
    local_copy, have_local = _free_name(path, "remote", day, r, local, remote)
    remote_copy, have_remote = _free_name(path, "local", day, l, remote, local)
    c = Conflict(path, l, r, local_copy, remote_copy, lmode)
    out.conflicts.append(c)
    out.notes[path] = (f"changed on both sides: the project's version is here as {local_copy}, "
                       f"yours is in the project as {remote_copy}")
    if not have_local:
        out.transfers.append(Step("download", path, sha=r, mode=rmode, target=local_copy, conflict=path))
    if not have_remote:
        out.transfers.append(Step("upload", path, sha=l, mode=lmode, target=remote_copy, conflict=path))


def _one_sided(out: Plan, path: str, here: bool, sha: str | None, other: str | None, mode: int | None,
               delete: bool) -> None:
    """A change on one side only (``here``: on this machine): copy it, or carry the deletion."""
    if sha is not None:
        out.transfers.append(Step("upload" if here else "download", path, sha=sha, mode=mode))
    elif delete:  # ``other`` is what the file must still hold there for the delete to happen
        ops = out.remote_ops if here else out.local_ops
        ops.append(Step("delete_remote" if here else "delete_local", path, sha=other))
    else:
        out.skipped[path] = ("deleted here; kept in the project (--delete deletes it)" if here
                             else "deleted in the project; kept here (--delete deletes it)")


def _modes(out: Plan, path: str, sha: str, lmode: int | None, rmode: int | None, base: Base | None) -> None:
    """Equal content: record it, and carry a permission change made on one side only."""
    was = base.mode if base and base.local == base.remote == sha else None
    if lmode is not None and rmode is not None and lmode != rmode and was is not None:
        # the state is recorded once the change is made (an interrupted chmod is redone next time)
        if rmode == was:
            out.remote_ops.append(Step("chmod_remote", path, sha=sha, mode=lmode))
            return
        if lmode == was:
            out.local_ops.append(Step("chmod_local", path, sha=sha, mode=rmode))
            return
    # Both differ from the record (or there is none): both are left as they are, and a mode is
    # recorded only when the sides agree on it (a guess: no side's permissions are preferred).
    new = Base(sha, sha, lmode if lmode == rmode else None)
    if base != new:
        out.records[path] = new
