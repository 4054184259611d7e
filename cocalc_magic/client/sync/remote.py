"""The project's side of a sync, through ``p.exec`` only: one command lists and hashes the whole
folder (``find`` + ``sha256sum``, NUL-separated so any file name survives), and one command per
batch applies the cheap changes (guarded deletes, chmod, mkdir, rmdir).

The scripts take their paths as arguments (never pasted into the script text), so no name is
ever interpreted by the shell.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any, Iterable

from ...errors import CommandFailed
from .rules import Entry

LIST_TIMEOUT = 600.0  # seconds: hashing a large folder takes a while
ARG_BUDGET = 60_000  # bytes of arguments per command (cocalc.ai refuses 128 KiB; v1 takes 100 kB of JSON)

# $1: the folder (or file) to sync, relative to HOME or absolute inside it; $2: "" or the name
# of the one file synced (then $1 may be its folder); the rest: a:GLOB / d:GLOB name prunes.
LIST_SCRIPT = r"""
root=$1; only=$2; shift 2
home=$(cd ~ && pwd -P) || exit 6
case $root in /*) t=$root ;; "") t=$home ;; *) t=$home/$root ;; esac
t=$(realpath -m -- "$t") || exit 6
case "$t/" in "$home"/*) ;; *) printf '%s' "$t"; exit 5 ;; esac
if [ -n "$only" ] && [ -d "$t" ]; then t=$t/$only; fi
printf 'H %s\0T %s\0' "$home" "$t"
pr=()
for g in "$@"; do
  case $g in a:*) pr+=(-o -name "${g#a:}") ;; d:*) pr+=(-o \( -type d -name "${g#d:}" \)) ;; esac
done
if [ ${#pr[@]} -gt 0 ]; then pr=(\( "${pr[@]:1}" \) -prune -o); fi
if [ -d "$t" ] && [ -z "$only" ]; then
  printf 'R d\0'
  cd -- "$t" || exit 6
  find . -mindepth 1 "${pr[@]}" \( -type d -printf 'd %m 0 %P\0' \) -o \( -type f -printf 'f %m %s %P\0' \) \
    -o -printf 'o 0 0 %P\0'
  printf 'S\0'
  find . -mindepth 1 "${pr[@]}" -type f -print0 | xargs -0 -r sha256sum -z --
elif [ -f "$t" ] && [ ! -L "$t" ]; then
  printf 'R f\0'
  stat -c 'f %a %s ' -- "$t" | tr -d '\n'
  printf '%s\0S\0' "${t##*/}"
  cd -- "${t%/*}" && sha256sum -z -- "./${t##*/}"
elif [ -e "$t" ] || [ -L "$t" ]; then printf 'R o\0'
else printf 'R n\0'
fi
exit 0
""".strip()

# Paths relative to HOME. Ops: "rm SHA PATH" (only if PATH still holds SHA), "chmod MODE PATH",
# "mkdir PATH", "rmdir PATH" (only if empty). One NUL-terminated line per op: "ok|no OP PATH".
APPLY_SCRIPT = r"""
cd ~ || exit 6
while [ $# -gt 0 ]; do
  case $1 in
    rm) h=$(sha256sum < "$3" 2>/dev/null); h=${h%% *}
        if [ "$h" = "$2" ] && rm -f -- "$3"; then printf 'ok rm %s\0' "$3"; else printf 'no rm %s\0' "$3"; fi
        shift 3 ;;
    chmod) if chmod -- "$2" "$3" 2>/dev/null; then printf 'ok chmod %s\0' "$3"; else printf 'no chmod %s\0' "$3"; fi
        shift 3 ;;
    mkdir) if mkdir -p -- "$2" 2>/dev/null; then printf 'ok mkdir %s\0' "$2"; else printf 'no mkdir %s\0' "$2"; fi
        shift 2 ;;
    rmdir) if rmdir -- "$2" 2>/dev/null; then printf 'ok rmdir %s\0' "$2"; else printf 'no rmdir %s\0' "$2"; fi
        shift 2 ;;
    *) shift ;;
  esac
done
exit 0
""".strip()


# $1: a path relative to HOME; $2: the sha it must hold ("-": it must be absent). Exit 3 if not.
GUARD_SCRIPT = r"""
cd ~ || exit 6
if [ "$2" = "-" ]; then
  if [ -e "$1" ] || [ -L "$1" ]; then exit 3; fi
  exit 0
fi
h=$(sha256sum < "$1" 2>/dev/null); h=${h%% *}
[ "$h" = "$2" ] || exit 3
""".strip()


def still_holds(p: Any, path: str, sha: str | None) -> bool:
    """Whether the project's ``path`` still holds ``sha`` (None: is still absent), asked just
    before a file is written there alone, so that an edit made since the listing is kept."""
    res = p.exec("bash", "-c", GUARD_SCRIPT, "cocalc-sync", path, sha or "-", timeout=LIST_TIMEOUT)
    if res.exit_code not in (0, 3):
        raise CommandFailed(f"checking {path} in the project failed: {_last_line(res)}", result=res)
    return res.exit_code == 0


class OutsideHome(ValueError):
    """The project folder resolves to a place outside the project's home."""


@dataclass
class RemoteSide:
    home: str           # the project's home, as the project sees it
    target: str         # the synced folder or file, absolute
    kind: str           # "d" folder, "f" file, "n" missing, "o" something else
    entries: dict[str, Entry]

    @property
    def rel(self) -> str:
        """The target relative to the home ('' for the home itself): the paths p.write takes."""
        r = posixpath.relpath(self.target, self.home)
        return "" if r == "." else r


def list_remote(p: Any, root: str, only: str | None, prunes: Iterable[str]) -> RemoteSide:
    """List and hash the project folder ``root`` (or the file ``only`` in it) in one command."""
    res = p.exec("bash", "-c", LIST_SCRIPT, "cocalc-sync", root, only or "", *prunes, timeout=LIST_TIMEOUT)
    if res.exit_code == 5:
        raise OutsideHome(res.stdout.strip() or root)
    if res.exit_code != 0:
        raise CommandFailed(f"listing the project folder failed: {_last_line(res)}", result=res)
    return parse_listing(res.stdout, res.stderr)


def parse_listing(stdout: str, stderr: str = "") -> RemoteSide:
    home = target = ""
    kind = "n"
    meta: dict[str, Entry] = {}
    shas: dict[str, str] = {}
    records = stdout.split("\0")
    i = 0
    while i < len(records) and records[i] != "S":
        rec = records[i]
        i += 1
        if rec.startswith("H "):
            home = rec[2:]
        elif rec.startswith("T "):
            target = rec[2:]
        elif rec.startswith("R "):
            kind = rec[2:]
        elif len(rec) > 2 and rec[1] == " ":
            parts = rec.split(" ", 3)
            if len(parts) < 4:
                continue
            k, mode, size, rel = parts
            if kind == "f":
                rel = posixpath.basename(target)
            meta[rel] = Entry(k, mode=int(mode, 8) if k != "o" else None, size=int(size or 0))
    for rec in records[i + 1:]:
        if len(rec) > 66 and rec[64:66] == "  ":
            name = rec[66:]
            name = name.removeprefix("./")
            shas[name] = rec[:64]
    errors = _read_errors(stderr)
    entries: dict[str, Entry] = {}
    for rel, e in meta.items():
        if e.kind == "f":
            sha = shas.get(rel)
            e = Entry("f", sha, e.mode, e.size,
                      error=None if sha else errors.get(rel, "it vanished or could not be read while listing"))
        entries[rel] = e
    return RemoteSide(home=home, target=target, kind=kind, entries=entries)


def _read_errors(stderr: str) -> dict[str, str]:
    """sha256sum's complaints (``sha256sum: ./a: Permission denied``) by relative path."""
    out: dict[str, str] = {}
    for line in stderr.splitlines():
        if line.startswith("sha256sum: ") and ": " in line[11:]:
            name, _, why = line[11:].rpartition(": ")
            out[name.removeprefix("./")] = why
    return out


def apply_ops(p: Any, ops: list[tuple[str, ...]]) -> dict[tuple[str, str], bool]:
    """Run the cheap remote changes (``("rm", sha, path)``, ``("chmod", "755", path)``,
    ``("mkdir", path)``, ``("rmdir", path)``; paths relative to the home) in as few commands as
    the argument limit allows; ``{(op, path): done}``."""
    done: dict[tuple[str, str], bool] = {}
    batch: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal batch, size
        if not batch:
            return
        res = p.exec("bash", "-c", APPLY_SCRIPT, "cocalc-sync", *batch, timeout=LIST_TIMEOUT)
        if res.exit_code != 0:
            raise CommandFailed(f"changing files in the project failed: {_last_line(res)}", result=res)
        for line in res.stdout.split("\0"):
            parts = line.split(" ", 2)
            if len(parts) == 3:
                done[(parts[1], parts[2])] = parts[0] == "ok"
        batch, size = [], 0

    for op in ops:
        n = sum(len(a.encode()) + 1 for a in op)
        if size + n > ARG_BUDGET:
            flush()
        batch.extend(op)
        size += n
    flush()
    return done


def _last_line(res: Any) -> str:
    lines = res.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit code {res.exit_code}"
