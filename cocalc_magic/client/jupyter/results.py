"""What a cell run in a project's kernel gave back (``RunResult``), and sessions that keep state
the way CoCalc itself does: by replaying the inputs that succeeded (``KernelSession``).

CoCalc's execute APIs are stateless: every call starts from a fresh kernel and runs ``history``
(outputs dropped) before ``input``. So a session's earlier cells RUN AGAIN on every call: their
side effects repeat and their time adds up. A session says so once when its replay gets long.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..project import Project

LONG_HISTORY_CELLS = 20  # a replay of this many cells, or of REPLAY_SLOW_S seconds, gets the note
REPLAY_SLOW_S = 10.0


@dataclass(frozen=True)
class Stream:
    """Text the cell wrote to ``stdout`` or ``stderr``."""

    name: str
    text: str


@dataclass(frozen=True)
class Display:
    """A rich output (display data or the cell's value): the whole mime bundle and its metadata."""

    data: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CellError:
    """The exception the cell raised in the project (traceback with its ANSI colours)."""

    ename: str
    evalue: str
    traceback: list[str]

    def __str__(self) -> str:
        return f"{self.ename}: {self.evalue}" if self.evalue else self.ename


Output = Stream | Display | CellError


def parse_outputs(items: Any) -> list[Output]:
    """CoCalc's output items (``{name,text}``, ``{data,metadata?}``, ``{traceback,ename,evalue}``)."""
    out: list[Output] = []
    for it in items if isinstance(items, list) else []:
        if not isinstance(it, dict):
            continue
        if "traceback" in it or "ename" in it:
            tb = it.get("traceback") or []
            out.append(CellError(str(it.get("ename") or "Error"), str(it.get("evalue") or ""),
                                   [str(t) for t in (tb if isinstance(tb, list) else [tb])]))
        elif "name" in it and "text" in it:
            text = it["text"]
            out.append(Stream(str(it["name"]), "".join(text) if isinstance(text, list) else str(text)))
        elif isinstance(it.get("data"), dict):
            md = it.get("metadata")
            out.append(Display(dict(it["data"]), dict(md) if isinstance(md, dict) else {}))
    return out


@dataclass
class RunResult:
    """The outputs of one cell, in order, plus what came with them."""

    outputs: list[Output]
    kernel: str
    project_id: str
    elapsed_s: float = 0.0
    variables: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the server did to the outputs (truncation)

    @property
    def error(self) -> CellError | None:
        """The exception the cell raised, or None."""
        return next((o for o in self.outputs if isinstance(o, CellError)), None)

    @property
    def ok(self) -> bool:
        return self.error is None

    def _stream(self, name: str) -> str:
        return "".join(o.text for o in self.outputs if isinstance(o, Stream) and o.name == name)

    @property
    def stdout(self) -> str:
        return self._stream("stdout")

    @property
    def stderr(self) -> str:
        return self._stream("stderr")

    @property
    def text(self) -> str:
        """Everything as plain text, in order: streams, each result's text/plain, the error line."""
        parts = []
        for o in self.outputs:
            if isinstance(o, Stream):
                parts.append(o.text)
            elif isinstance(o, Display):
                t = o.data.get("text/plain")
                if t is not None:
                    parts.append((t if isinstance(t, str) else "".join(t)) + "\n")
            else:
                parts.append(str(o) + "\n")
        return "".join(parts)

    def __repr__(self) -> str:
        kinds = ", ".join(type(o).__name__ for o in self.outputs)
        return f"RunResult({self.kernel!r}, [{kinds}], error={str(self.error) if self.error else None!r})"

    def display(self) -> None:
        """Show the outputs here as the project's kernel showed them (streams to stdout/stderr)."""
        import sys

        from IPython.display import publish_display_data

        for o in self.outputs:
            if isinstance(o, Stream):
                (sys.stderr if o.name == "stderr" else sys.stdout).write(o.text)
            elif isinstance(o, Display):
                publish_display_data(o.data, o.metadata or None)
            else:
                sys.stderr.write("\n".join(o.traceback) + "\n")
        sys.stdout.flush()
        sys.stderr.flush()

    def _ipython_display_(self) -> None:
        self.display()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """One bundle for front ends that do not call ``_ipython_display_``: text and HTML."""
        import html

        chunks = []
        for o in self.outputs:
            if isinstance(o, Display):
                d = o.data
                if "text/html" in d:
                    chunks.append(d["text/html"] if isinstance(d["text/html"], str) else "".join(d["text/html"]))
                elif "image/png" in d:
                    chunks.append(f'<img src="data:image/png;base64,{d["image/png"]}">')
                else:
                    chunks.append(f"<pre>{html.escape(str(d.get('text/plain', '')))}</pre>")
            elif isinstance(o, Stream):
                chunks.append(f"<pre>{html.escape(o.text)}</pre>")
            else:
                chunks.append(f"<pre>{html.escape(str(o))}</pre>")
        return {"text/plain": self.text, "text/html": "".join(chunks)}


class KernelSession:
    """Cells that see each other's variables: each call replays the inputs that succeeded before.

    The replay is real: earlier cells run again on every call (side effects repeat, time adds up).
    ``history`` is what will be replayed; ``reset()`` forgets it.
    """

    def __init__(self, project: "Project", kernel: str = "python3", path: str | None = None,
                 name: str = "") -> None:
        self.project = project
        self.kernel = kernel
        self.path = path
        self.name = name
        self._history: list[str] = []
        self._cost: list[float] = []  # seconds each input took (over the fastest call seen)
        self._fastest: float | None = None
        self.warned = False

    def __repr__(self) -> str:
        return (f"KernelSession({self.kernel!r}, project={self.project.project_id!r}, "
                f"cells={len(self._history)})")

    @property
    def history(self) -> list[str]:
        return list(self._history)

    @property
    def replay_s(self) -> float:
        """About how long the replay of ``history`` takes, from how long each cell took."""
        return sum(self._cost)

    def reset(self) -> None:
        self._history.clear()
        self._cost.clear()
        self.warned = False

    def run(self, code: str, timeout: float | None = None, variables: list[str] | None = None) -> RunResult:
        """Run ``code`` after the replay; keep it in the history if it succeeded."""
        t0 = time.monotonic()
        result = self.project.run(code, kernel=self.kernel, path=self.path, history=self._history,
                                  timeout=timeout, variables=variables)
        elapsed = time.monotonic() - t0
        self._fastest = elapsed if self._fastest is None else min(self._fastest, elapsed)
        if result.ok:
            self._history.append(code)
            self._cost.append(max(0.0, elapsed - self._fastest - self.replay_s))
        note = self.replay_note()
        if note:
            result.notes.append(note)
        return result

    def replay_note(self) -> str | None:
        """The one-time note that the replay got long or slow (None otherwise, or once said)."""
        if self.warned or (len(self._history) < LONG_HISTORY_CELLS and self.replay_s < REPLAY_SLOW_S):
            return None
        self.warned = True
        return (f"Note: this session replays {len(self._history)} earlier cells (about {self.replay_s:.0f} s) "
                "before each cell, since CoCalc's execute API keeps no state: they run again every time. "
                "Use --fresh for cells that need none of it, `%cocalc session reset` to start over, or run a "
                "script with `%cocalc exec python3 script.py`.")
