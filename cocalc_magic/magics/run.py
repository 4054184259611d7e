"""``%%cocalc_run``: the cell in a project's Jupyter kernel, every output back as if it ran here;
``%cocalc kernels`` and ``%cocalc session``.

No protocol knowledge: ``Project.run`` / ``KernelSession.run`` do the call; this module shows
what came back (each display item re-published with its whole mime bundle and metadata, so a
saved notebook keeps it; streams to this cell's stdout and stderr; the remote traceback, then one
line naming the error, the project and the kernel), puts ``-o`` variables into the user's
namespace, and keeps the sessions (per project, kernel, path and ``--session`` name) for as long
as the magics live.
"""

from __future__ import annotations

import sys
from typing import Any

from IPython.core.magic import Magics, cell_magic, magics_class

from .display import CoCalcMagicError


class RemoteCellError(CoCalcMagicError):
    """The remote cell raised: its traceback (ANSI colours kept), then the one line."""

    def __init__(self, line: str, traceback: list[str]):
        super().__init__(line)
        self.remote_traceback = traceback

    def _render_traceback_(self) -> list[str]:
        return [*self.remote_traceback, "", self.line]


def sessions(magics) -> dict:
    """The sessions of this magics instance: (project_id, kernel, path, name) -> KernelSession."""
    s = getattr(magics, "_run_sessions", None)
    if s is None:
        s = magics._run_sessions = {}
    return s


def publish(result, skip_interrupt: bool = False) -> None:
    """Show ``result``'s outputs here, in order (and the server's notes on stderr)."""
    from IPython.display import publish_display_data

    from ..client.jupyter import CellError, Display, Stream

    for o in result.outputs:
        if isinstance(o, Stream):
            (sys.stderr if o.name == "stderr" else sys.stdout).write(o.text)
        elif isinstance(o, Display):
            sys.stdout.flush()
            publish_display_data(o.data, o.metadata or None)
        elif isinstance(o, CellError) and skip_interrupt:
            continue
    for note in result.notes:
        sys.stderr.write(note + "\n")
    sys.stdout.flush()
    sys.stderr.flush()


def _where(p, kernel: str) -> str:
    return f"in project {p.title or p.project_id!r}, kernel {kernel}"


def _project(magics, cc, ref: str | None):
    """The cell's project. An id is taken as it is (its title is read only if an error names
    it): a cell pays no lookup call; the execute call itself says if the key cannot use it."""
    from ..client import Project, is_uuid

    ref = ref or magics.settings().project
    if ref and is_uuid(ref.strip()):
        return Project(cc, ref.strip().lower())
    return magics._project(cc, ref)


def run_cell(magics, a, cell: str) -> None:
    """The body of ``%%cocalc_run``."""
    from ..client.jupyter.variables import VariablesNotReturned, describe
    from ..errors import ServerTimeout

    cc = magics.client()
    p = _project(magics, cc, a.project)
    kernel = a.kernel or "python3"
    names = [n for group in (a.output or []) for item in group for n in item.replace(",", " ").split()]
    try:
        if a.fresh:
            result = p.run(cell, kernel=kernel, path=a.path, timeout=a.timeout, variables=names)
        else:
            key = (p.project_id, kernel, a.path or "", a.session or "")
            session = sessions(magics).get(key)
            if session is None:
                session = sessions(magics)[key] = p.session(kernel=kernel, path=a.path, name=a.session or "")
            result = session.run(cell, timeout=a.timeout, variables=names)
    except KeyboardInterrupt as exc:
        magics._drop_client()
        notes = getattr(exc, "__notes__", None) or ["stopped waiting; the cell may still run in the project"]
        raise CoCalcMagicError(f"Interrupted ({_where(p, kernel)}): {'; '.join(notes)}.") from None
    except (ServerTimeout, VariablesNotReturned) as exc:
        partial = getattr(exc, "result", None)
        if partial is not None:
            publish(partial, skip_interrupt=True)
        raise
    publish(result)
    err = result.error
    if err is not None:
        raise RemoteCellError(f"{err.ename}: {err.evalue} ({_where(p, kernel)})" if err.evalue
                              else f"{err.ename} ({_where(p, kernel)})", err.traceback)
    for name, value in result.variables.items():
        magics.shell.user_ns[name] = value
        print(describe(name, value))


def do_kernels(magics, a) -> Any:
    """``%cocalc kernels``: the kernels a project offers."""
    from .display import result_fate

    cc = magics.client()
    p = magics._project(cc, a.project)
    specs = magics._call(p.kernels, f"the kernels of project {p.title or p.project_id!r}")
    if result_fate() == "kept":
        return specs
    if not specs:
        print(f"Project {p.title or p.project_id!r} offers no Jupyter kernels.")
    w = max([len(k.name) for k in specs] + [4])
    for k in specs:
        print(f"{k.name:<{w}}  {k.display_name}  ({k.language})")
    return None


def do_session(magics, a) -> None:
    """``%cocalc session [list|reset]``."""
    all_sessions = sessions(magics)
    if a.action == "list":
        if not all_sessions:
            print("No sessions yet: each %%cocalc_run cell starts one (per project, kernel, path, --session).")
        for (pid, kernel, path, name), s in sorted(all_sessions.items()):
            print(f"{name or '(default)'}: project {pid}, kernel {kernel}{', path ' + path if path else ''}: "
                  f"{len(s.history)} cells replayed, about {s.replay_s:.1f} s")
        return None
    if a.all:
        n = len(all_sessions)
        for s in all_sessions.values():
            s.reset()
        print(f"Reset {n} session{'s' if n != 1 else ''}: the next cells start from a fresh kernel with no history.")
        return None
    cc = magics.client()
    p = magics._project(cc, a.project)
    key = (p.project_id, a.kernel or "python3", a.path or "", a.session or "")
    s = all_sessions.get(key)
    if s is None:
        print(f"No such session ({a.session or 'the default one'} of project {p.title or p.project_id!r}, "
              f"kernel {a.kernel or 'python3'}): nothing to reset.")
        return None
    n = len(s.history)
    s.reset()
    print(f"Reset: {n} cell{'s' if n != 1 else ''} forgotten; the next cell starts from a fresh kernel.")
    return None


class RunSubcommands:
    """``%cocalc kernels`` and ``%cocalc session``: a mixin of ``CoCalcMagics``."""

    def _do_kernels(self, a) -> Any:
        return do_kernels(self, a)

    def _do_session(self, a) -> None:
        return do_session(self, a)


@magics_class
class RunMagics(Magics):
    """``%%cocalc_run``, beside ``CoCalcMagics`` (whose settings, client and errors it uses)."""

    def __init__(self, shell, main) -> None:
        super().__init__(shell=shell)
        self.main = main

    @cell_magic
    def cocalc_run(self, line: str, cell: str) -> None:
        """``%%cocalc_run [-p PROJECT] [--kernel NAME] [--path DIR] [--session NAME | --fresh]
        [-o VAR ...] [--timeout S]``: the cell in a project's Jupyter kernel, its outputs here.

        Earlier cells of the session are re-run before each cell (CoCalc's execute API keeps no
        state): see ``%%cocalc_run --help``.
        """
        from . import args as A

        try:
            a = A.parse("%%cocalc_run", A.split(line))
        except A.HelpShown:
            return None
        return self.main._guard(run_cell, self.main, a, cell)
