"""Many small files in one round trip: a gzip'd tar through the base64 path.

Uploads: the files of a batch go into a tar (modes and times kept), written as base64 text with
``p.write`` and unpacked by one ``p.exec`` (``base64 -d | tar -x``); downloads: one ``p.exec``
packs the batch (``tar -c | base64``) and every file is checked against the listed hash before
it is written here. So 1,000 small files cost a few requests instead of 1,000; large files, and
a batch that fails, go file by file (``transfer.py``), so a bad file is still named alone.
"""

from __future__ import annotations

import base64
import hashlib
import io
import posixpath
import tarfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ...errors import CommandFailed
from .local import unchanged, write_file
from .rules import Step
from .transfer import NotSynced

SMALL = 256 * 1024          # files up to this size travel in batches
BATCH_FILES = 200           # files per batch (several batches keep the pool busy)
BATCH_BYTES = 512 * 1024   # raw bytes per download batch (guess: one exec answer well under a conat message limit)
ARG_BUDGET = 60_000         # bytes of paths per packing command (argument limits)
TIMEOUT = 300.0

# $1: the uploaded base64 tar; then pairs PATH SHA (SHA "-": PATH must be absent). A member whose
# file no longer holds what the listing saw (an edit made meanwhile) is left out and named.
UNPACK = r"""
t=$1; shift; cd ~ || exit 6
ok=()
while [ $# -gt 1 ]; do
  p=$1; want=$2; shift 2
  if [ "$want" = "-" ]; then
    if [ -e "$p" ] || [ -L "$p" ]; then printf 'changed %s\0' "$p"; continue; fi
  else
    h=$(sha256sum < "$p" 2>/dev/null); h=${h%% *}
    if [ "$h" != "$want" ]; then printf 'changed %s\0' "$p"; continue; fi
  fi
  ok+=("$p")
done
rc=0
if [ ${#ok[@]} -gt 0 ]; then
  printf '%s\0' "${ok[@]}" > "$t.list"
  base64 -d -- "$t" | tar -xzpf - --no-same-owner --no-wildcards --null -T "$t.list"; rc=${PIPESTATUS[1]}
fi
rm -f -- "$t" "$t.list"; exit $rc
""".strip()
PACK = r"""
cd ~ || exit 6; tar -czf - --no-recursion -- "$@" | base64 -w0; exit ${PIPESTATUS[0]}
""".strip()


@dataclass
class Batch:
    """Steps of one direction that travel together."""

    op: str  # "upload" | "download"
    steps: list[Step] = field(default_factory=list)
    size: int = 0


def batches(steps: list[Step], sizes: Callable[[Step], int], upload_limit: int) -> tuple[list[Batch], list[Step]]:
    """Split transfers into batches of small files and the rest (large files, conflict copies)."""
    out: list[Batch] = []
    single: list[Step] = []
    open_: dict[str, Batch] = {}
    for s in steps:
        n = sizes(s)
        if s.conflict is not None or n > SMALL:
            single.append(s)
            continue
        b = open_.get(s.op)
        cap = upload_limit // 2 if s.op == "upload" else BATCH_BYTES  # gzip rarely grows; base64 adds 1/3
        if b is None or len(b.steps) >= BATCH_FILES or b.size + n > cap:
            b = open_[s.op] = Batch(s.op)
            out.append(b)
        b.steps.append(s)
        b.size += n
    # one file alone gains nothing from a tar
    for b in [b for b in out if len(b.steps) == 1]:
        out.remove(b)
        single.extend(b.steps)
    return out, single


def pack_local(files: list[tuple[Step, Path, str]], mtime: float | None = None) -> tuple[bytes, list[Step], dict[str, str]]:
    """A tar.gz of ``(step, local path, remote path)``; the steps packed and the ones that changed."""
    buf = io.BytesIO()
    packed: list[Step] = []
    problems: dict[str, str] = {}
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=6) as tar:
        for s, path, remote in files:
            try:
                data = path.read_bytes()
                st = path.stat()
            except OSError as exc:
                problems[s.path] = f"could not be read here: {exc.strerror or exc}"
                continue
            if hashlib.sha256(data).hexdigest() != s.sha:
                problems[s.path] = "changed here while syncing; the next sync takes the new version"
                continue
            info = tarfile.TarInfo(remote)
            info.size = len(data)
            info.mode = (s.mode if s.mode is not None else 0o644) & 0o7777
            info.mtime = mtime if mtime is not None else st.st_mtime
            tar.addfile(info, io.BytesIO(data))
            packed.append(s)
    return buf.getvalue(), packed, problems


def upload_batch(p: Any, folder: str, files: list[tuple[Step, Path, str, str | None]],
                 limit: int) -> tuple[list[Step], dict[str, str]]:
    """Send a batch of ``(step, local path, remote path, sha the project's file had when listed)``;
    the steps done and the files that changed meanwhile on either side (never overwritten). Raises
    when the batch as a whole failed (the caller then goes file by file)."""
    expect = {remote: sha for _, _, remote, sha in files}
    data, packed, problems = pack_local([(s, local, remote) for s, local, remote, _ in files])
    if not packed:
        return [], problems
    text = base64.b64encode(data).decode("ascii")
    if len(text) > limit:
        raise ValueError("batch too large")  # the caller splits it
    tmp = posixpath.join(folder, f".cocalc-sync-{uuid.uuid4().hex[:12]}.tmp")
    p.write(tmp, text)
    remote_of = {s.path: remote for s, _, remote, _ in files}
    guards = [a for s in packed for a in (remote_of[s.path], expect[remote_of[s.path]] or "-")]
    res = p.exec("bash", "-c", UNPACK, "cocalc-sync", tmp, *guards, timeout=TIMEOUT)
    if res.exit_code != 0:
        raise CommandFailed(f"unpacking in the project failed: {_last(res.stderr, res.exit_code)}", result=res)
    changed = {line[8:] for line in res.stdout.split("\0") if line.startswith("changed ")}
    for s in packed:
        if remote_of[s.path] in changed:
            problems[s.path] = "changed in the project while syncing: not overwritten; the next sync compares again"
    return [s for s in packed if s.path not in problems], problems


def download_batch(p: Any, files: list[tuple[Step, str, Path, str | None]]) -> tuple[list[Step], dict[str, str]]:
    """Fetch a batch of ``(step, remote path, local path, expected local sha)``; the steps done and
    the files that could not be taken (changed on either side meanwhile)."""
    res = p.exec("bash", "-c", PACK, "cocalc-sync", *(r for _, r, _, _ in files), timeout=TIMEOUT)
    if not res.stdout.strip():
        raise CommandFailed(f"packing in the project failed: {_last(res.stderr, res.exit_code)}", result=res)
    got: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(res.stdout)), mode="r:gz") as tar:
        for m in tar:
            if m.isfile():
                fh = tar.extractfile(m)
                if fh is not None:
                    got[m.name] = fh.read()
    done: list[Step] = []
    problems: dict[str, str] = {}
    for s, remote, local, expect in files:
        data = got.get(remote)
        if data is None or hashlib.sha256(data).hexdigest() != s.sha:
            problems[s.path] = "changed in the project while syncing; the next sync takes the new version"
            continue
        if not unchanged(local, expect):
            problems[s.path] = "changed here while syncing; kept, and the next sync compares again"
            continue
        try:
            write_file(local, data, s.mode)
        except OSError as exc:
            problems[s.path] = f"could not be written here: {exc.strerror or exc}"
            continue
        done.append(s)
    return done, problems


def _last(stderr: str, code: int) -> str:
    lines = stderr.strip().splitlines()
    return lines[-1] if lines else f"exit code {code}"


__all__ = ["Batch", "batches", "upload_batch", "download_batch", "NotSynced"]
