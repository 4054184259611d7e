"""Running one cell in a project's Jupyter kernel: ``Project.run`` does it through here.

What the call sends and how its answer is read does not depend on the generation; the backend
only knows its endpoint (conat: the project's ``system.jupyterExecute``, never the hub's cached
``jupyter.execute``; ai: the project's ``jupyter.apiExecute``; v1: ``/api/v2/jupyter/execute`` with
``noCache``) and the limits its server enforces (``JupyterLimits``), so that they are checked
before sending and named when hit. For Python kernels the first ``history`` entry installs the
kernel side (``kernel_side.py``): the pid file that lets Ctrl-C interrupt the very kernel running
the cell, and ``-o`` variables. A call that did not answer is never sent again.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

from ...errors import CoCalcError, InvalidRequest, NotFound, ServerTimeout
from . import variables as V
from ..models import JupyterLimits
from .results import Display, RunResult, Stream, parse_outputs

if TYPE_CHECKING:
    from ..project import Project

START_SLACK_S = 30.0  # time allowed on top of the cell limits for a kernel to start (CoCalc: seconds)
_NO_SPEC = re.compile(r'No spec available for kernel "(.*?)"\.\s+Available specs: (\[.*?\])', re.S)
_TRUNCATED = "Output truncated since it exceeded the"


def python_like(kernel: str) -> bool:
    """Kernels that run the Python kernel side (CoCalc's python3, sage-x.y, python3-ubuntu...)."""
    return kernel.lower().startswith(("python", "sage", "pypy"))


def request(limits: JupyterLimits, code: str, kernel: str = "python3", path: str | None = None,
            history: list[str] | None = None, timeout: float | None = None,
            variables: list[str] | None = None) -> tuple[dict[str, Any], str, float, float]:
    """What one cell sends: (opts, token of its kernel side, its time limit, the wait), checked
    against the server's ``limits`` before anything is sent."""
    if not isinstance(code, str):
        raise InvalidRequest(f"the code must be text (str), not {type(code).__name__}")
    if not isinstance(kernel, str) or not kernel.strip():
        raise InvalidRequest("the kernel name is empty", hint="Give a kernel name, e.g. kernel='python3'")
    names = V.check_names(list(variables or []))
    per_cell = limits.per_cell_s if timeout is None else float(timeout)
    if per_cell <= 0:
        raise InvalidRequest(f"timeout must be positive, not {timeout!r}")
    if not limits.settable and per_cell > limits.per_cell_s:
        raise InvalidRequest(
            f"this server stops a cell after {limits.per_cell_s:g} s (its Jupyter API's per-cell limit), "
            f"so a timeout of {per_cell:g} s cannot be had",
            hint="run_timeout_fixed")
    token = V.new_token()
    hist = [str(h) for h in history or []]
    opts: dict[str, Any] = {"input": code, "kernel": kernel}
    if python_like(kernel):  # the kernel side goes first; it also moves to the home (no `path` call)
        hist = [V.setup_code(token, names, limits.max_output_per_cell, home=path is None)] + hist
    elif names:
        raise InvalidRequest(f"variables come back only from Python kernels, not from {kernel!r}")
    if path is not None or not python_like(kernel):
        opts["path"] = path or ""  # CoCalc's kernels start in a temp dir; "" is the home
    if hist:
        opts["history"] = hist
    if limits.settable:
        opts["limits"] = {"timeout_ms_per_cell": int(per_cell * 1000),
                          "max_output_per_cell": limits.max_output_per_cell, "max_output": limits.max_output}
    return opts, token, per_cell, per_cell * (2 if history else 1) + START_SLACK_S


def run(project: "Project", code: str, kernel: str = "python3", path: str | None = None,
        history: list[str] | None = None, timeout: float | None = None,
        variables: list[str] | None = None) -> RunResult:
    """One cell; see ``Project.run``."""
    names = V.check_names(list(variables or []))
    limits = project._b.jupyter_limits
    opts, token, per_cell, wait = request(limits, code, kernel, path, history, timeout, names)
    project.ensure_running()
    t0 = time.monotonic()
    try:
        raw = project._b.jupyter_execute(project.project_id, opts, wait)
    except KeyboardInterrupt as exc:
        note = interrupt(project, token) if python_like(kernel) else (
            f"the cell may still run in the project until the server's {per_cell:g} s limit")
        exc.add_note(note)
        raise
    except ServerTimeout as exc:
        what = interrupt(project, token) if python_like(kernel) else "it may still be running there"
        raise ServerTimeout(
            f"the project's {kernel} kernel did not answer within {wait:g} s; {what}. The cell was not sent again "
            "(it may have run in part)",
            endpoint=exc.endpoint, status=exc.status, server_message=exc.server_message,
            hint="run_no_answer") from None
    except CoCalcError as exc:
        raise _kernel_error(exc, kernel, project) or exc
    elapsed = time.monotonic() - t0
    return _result(project, raw, kernel, names, limits, per_cell, elapsed)


def _kernel_error(exc: CoCalcError, kernel: str, project: "Project") -> CoCalcError | None:
    m = _NO_SPEC.search(f"{exc.server_message or ''} {exc.message}")
    if not m:
        return None
    try:
        available = json.loads(m.group(2))
    except ValueError:
        available = []
    title = project.title or project.project_id
    return NotFound(
        f"project {title!r} has no Jupyter kernel {kernel!r}; it offers: {', '.join(available) or 'none'}",
        endpoint=exc.endpoint, status=exc.status, server_message=exc.server_message,
        hint="run_kernel")


def _result(project: "Project", raw: Any, kernel: str, names: list[str], limits: Any, per_cell: float,
            elapsed: float) -> RunResult:
    items = parse_outputs(raw)
    payload = None
    outputs = []
    notes = []
    for o in items:
        if isinstance(o, Display) and V.MIME in o.data:
            payload = o.data[V.MIME]
            continue
        if isinstance(o, Stream) and o.text.startswith(_TRUNCATED):
            notes.append(f"The server cut this cell's output: {o.text.strip()} (CoCalc's Jupyter API limit; "
                         "nothing more was sent).")
        outputs.append(o)
    result = RunResult(outputs=outputs, kernel=kernel, project_id=project.project_id, elapsed_s=elapsed,
                       notes=notes)
    err = result.error
    if err is not None and err.ename == "KeyboardInterrupt" and elapsed >= per_cell:
        exc = ServerTimeout(f"the cell ran past its time limit of {per_cell:g} s and the server interrupted it",
                            hint="run_timeout")
        exc.result = result
        raise exc
    if names and err is None:
        if payload is None:
            cause = ("the cell's output passed the server's per-cell output limit of "
                     f"{limits.max_output_per_cell:,} characters" if notes else "the remote cell sent nothing back")
            exc = V.VariablesNotReturned(f"{', '.join(names)} did not come back: {cause}",
                                         hint="run_print_less")
            exc.result = result
            raise exc
        try:
            result.variables = V.decode(payload if isinstance(payload, str) else "".join(payload), names)
        except V.VariablesNotReturned as exc:
            result.variables = getattr(exc, "values", {})
            exc.result = result
            raise
    return result


INTERRUPT_SCRIPT = r"""f="$HOME/.cocalc-magic/run-{token}.pid"
if [ ! -f "$f" ]; then echo none; exit 0; fi
pid=$(cat "$f"); rm -f "$f"
kill -INT "$pid" 2>/dev/null || {{ echo gone "$pid"; exit 0; }}
for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.2; kill -0 "$pid" 2>/dev/null || {{ echo interrupted "$pid"; exit 0; }}; done
kill -KILL "$pid" 2>/dev/null; echo killed "$pid"
"""


def interrupt(project: "Project", token: str) -> str:
    """Stop the kernel that runs the cell (found by its pid file); what happened, in words."""
    try:
        r = project.exec(INTERRUPT_SCRIPT.format(token=token), bash=True, timeout=20)
    except CoCalcError as exc:
        return f"it may still run in the project (could not reach the project to interrupt it: {exc.message})"
    word, _, pid = r.stdout.strip().partition(" ")
    if word == "interrupted":
        return f"the cell was interrupted in the project's kernel (SIGINT to pid {pid})"
    if word == "killed":
        return f"the project's kernel was stopped (it did not stop on SIGINT; SIGKILL to pid {pid})"
    if word == "gone":
        return "the cell had already finished in the project"
    return "the cell was not running in the project's kernel (not started yet, or already finished)"
