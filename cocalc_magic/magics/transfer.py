"""Moving bytes: ``%cocalc push``/``pull`` (text directly, binary through base64) with the size
check against the server's limit, and running a command with Ctrl-C that really stops it.

Functions of the ``CoCalcMagics`` instance ``m`` (its client, project lookup and interruptible
calls); no protocol knowledge beyond plain bash in the project.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path, PurePosixPath

from .display import CoCalcMagicError


def check_size(m, cc, what: str, nbytes: int, binary: bool) -> None:
    """Refuse, before sending, what the server would refuse (its body limit), saying what to do."""
    # Binary content travels base64-encoded (4 bytes for every 3). Guess: max_write_bytes is the
    # largest payload (text or base64) one write may carry; the client knows the body limits.
    wire = 4 * ((nbytes + 2) // 3) if binary else nbytes
    limit = m._call(lambda: cc.max_write_bytes, "the server's limits")
    if wire > limit:
        enc = f" ({wire} as base64)" if binary else ""
        raise CoCalcMagicError(
            f"{what} is {nbytes} bytes{enc}, more than the {limit} bytes the server takes in one write; "
            "split it, or fetch it from inside the project (e.g. %cocalc exec curl -O URL)."
        )


def push(m, a) -> None:
    """``%cocalc push LOCAL [REMOTE]``: UTF-8 text is written as text, anything else as bytes."""
    local = Path(os.path.expanduser(a.local))
    if not local.is_file():
        raise CoCalcMagicError(f"No local file {a.local} (looked in {os.getcwd()}).")
    data = local.read_bytes()
    try:
        text: str | None = data.decode("utf-8")
        if "\x00" in text:
            text = None
    except UnicodeDecodeError:
        text = None
    cc = m.client()
    p = m._project(cc, a.project)
    remote = a.remote or local.name
    check_size(m, cc, a.local, len(data), binary=text is None)
    if text is not None:
        m._call(lambda: p.write(remote, text), f"the upload of {a.local}")
    else:
        m._call(lambda: p.write_bytes(remote, data), f"the upload of {a.local}")
    kind = "text" if text is not None else "binary"
    print(f"Pushed {a.local} ({len(data)} bytes, {kind}) to {p.title}:{remote}")


def pull(m, a) -> None:
    """``%cocalc pull REMOTE [LOCAL]``: read as text; a file that is not clean text comes as bytes."""
    from ..errors import CoCalcError, NotFound

    cc = m.client()
    p = m._project(cc, a.project)
    local = Path(os.path.expanduser(a.local or PurePosixPath(a.remote).name))
    if not local.parent.is_dir():  # never make folders on this machine unasked
        raise CoCalcMagicError(f"No folder {local.parent} on this machine: create it first (!mkdir -p "
                               f"{shlex.quote(str(local.parent))}), or pull into a folder that exists.")
    # Text comes back directly; if it is not clean text (a binary file), fetch the bytes instead.
    data: bytes | None = None
    try:
        text = m._call(lambda: p.read(a.remote), a.remote)
        if "\ufffd" not in text and "\x00" not in text:
            data = text.encode("utf-8")
    except NotFound:
        raise
    except CoCalcError:
        data = None
    binary = data is None
    if binary:
        data = m._call(lambda: p.read_bytes(a.remote), a.remote)
    existed = local.exists()
    local.write_bytes(data)
    verb = "Overwrote" if existed else "Wrote"
    print(f"{verb} {local} ({len(data)} bytes, {'binary' if binary else 'text'}) from {p.title}:{a.remote}")


def wrap(command: str, marker: str) -> str:
    """The script that runs ``command`` as ``bash -c`` with ``$0`` "bash" (so bash's own errors
    read ``bash: line 2: ...`` with the lines of the cell, not of a wrapper script, whatever the
    server prepends) and ``marker`` as its process name (so Ctrl-C finds it: no pid file)."""
    eof = f"COCALC_MAGIC_EOF_{marker[-16:]}"
    return (f"IFS= read -r -d '' __cocalc_magic_body <<'{eof}'\n{command}\n{eof}\n"
            f'exec -a {marker} bash -c "$__cocalc_magic_body" bash')


def run_command(m, cc, p, command: str, timeout: float | None):
    """Run a bash command line; print its output as is; Ctrl-C kills it in the project.

    A blocking exec, not a background job: recorded current CoCalc drops the stdout and the
    exit code of a background job that exits non-zero ("No result", exit 1), while a
    blocking exec with err_on_exit=false keeps both. To stop it on Ctrl-C, a second exec finds
    the command's shell by its process name (``wrap``'s marker) and kills it and its descendants.
    This works on every generation (no protocol knowledge: plain bash in the project).
    """
    import uuid

    marker = f"cocalc-magic-{uuid.uuid4().hex[:16]}"
    script = wrap(command, marker)

    def cancel() -> str:
        # The whole tree is frozen first, so no shell runs its next line once a child dies.
        # "[c]ocalc-..." matches the command's shell but not this script's own command line.
        kill = (f"top=$(pgrep -f -- '[{marker[0]}]{marker[1:]}') || exit 3; "
                't() { echo "$1"; for c in $(pgrep -P "$1"); do t "$c"; done; }; ps=$(for x in $top; do t "$x"; done); '
                'kill -STOP $ps 2>/dev/null; kill -TERM $ps 2>/dev/null; kill -CONT $ps 2>/dev/null')
        from ..errors import CoCalcError

        try:
            res = m.client().project(p.project_id).exec(kill, bash=True, timeout=15)
        except CoCalcError as exc:
            return f"could not stop it in the project ({exc.line('magic')})"
        if res.exit_code == 3:
            return "it had not started in the project, or had just ended"
        return "stopped the command in the project"

    out = m._call(lambda: p.exec(script, bash=True, timeout=timeout), "the command", on_interrupt=cancel)
    if out.stdout:
        sys.stdout.write(out.stdout)
        sys.stdout.flush()
    if out.stderr:
        sys.stderr.write(out.stderr if out.stderr.endswith("\n") else out.stderr + "\n")
        sys.stderr.flush()
    if out.exit_code:
        print(f"exit code {out.exit_code}", file=sys.stderr)
    return out
