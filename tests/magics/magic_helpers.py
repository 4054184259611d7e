"""Helpers for the magics tests: a shell, a cell run as a user sees it, completions."""

from __future__ import annotations

import atexit
import queue
import time

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from traitlets.config import Config


def make_shell(config: Config | None = None) -> InteractiveShell:
    cfg = config or Config()
    cfg.HistoryManager.hist_file = ":memory:"
    cfg.InteractiveShell.colors = "nocolor"
    cfg.IPCompleter.use_jedi = False
    shell = InteractiveShell.instance(config=cfg)
    shell.extension_manager.load_extension("cocalc_magic")
    return shell


def dispose_shell(shell: InteractiveShell) -> None:
    """Drop the test's shell now. IPython registers an atexit reset per shell, each with a full
    gc.collect() (~0.1 s): a session of ~150 shells would spend ~15 s at interpreter exit."""
    if "cocalc_magic" in shell.extension_manager.loaded:
        shell.extension_manager.unload_extension("cocalc_magic")
    atexit.unregister(shell.atexit_operations)
    if shell.history_manager is not None:
        shell.history_manager.end_session()
        shell.history_manager.close()
    InteractiveShell.clear_instance()


class Run:
    """The outcome of one cell as a user sees it."""

    def __init__(self, res, cap):
        self.res, self.cap = res, cap
        self.stdout, self.stderr = cap.stdout, cap.stderr
        self.outputs = [o.data for o in cap.outputs]
        self.result = res.result
        # What a kernel sends as the cell's execute_result (the plain shell prints only text/plain).
        self.shown = res.result and self._format(res.result)
        self.error = res.error_in_exec or res.error_before_exec

    @staticmethod
    def _format(obj):
        from IPython.core.interactiveshell import InteractiveShell

        data, _ = InteractiveShell.instance().display_formatter.format(obj)
        return data

    @property
    def ok(self) -> bool:
        return self.res.success

    def __repr__(self) -> str:
        return f"Run(ok={self.ok}, stdout={self.stdout!r}, stderr={self.stderr!r}, outputs={self.outputs!r}, error={self.error!r})"


def run(shell: InteractiveShell, cell: str) -> Run:
    with capture_output() as cap:
        res = shell.run_cell(cell, store_history=True)
    return Run(res, cap)


def completions(shell: InteractiveShell, line: str) -> list[str]:
    from IPython.core.completer import provisionalcompleter

    with provisionalcompleter():
        return [c.text for c in shell.Completer.completions(line, len(line))]


def kernel_execute(km, kc, code: str, interrupt_when=None, timeout: float = 60):
    """Run ``code``; return its outputs as (kind, ...) tuples and the seconds it took."""
    msg_id = kc.execute(code)
    start, sent, outs = time.monotonic(), False, []
    while time.monotonic() - start < timeout:
        if interrupt_when and not sent and interrupt_when():
            km.interrupt_kernel()
            sent = True
        try:
            msg = kc.get_iopub_msg(timeout=0.1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            outs.append(("stream", content["name"], content["text"]))
        elif kind == "error":
            outs.append(("error", content["ename"], content["traceback"]))
        elif kind in ("execute_result", "display_data"):
            outs.append((kind, sorted(content["data"])))
        elif kind == "status" and content["execution_state"] == "idle":
            return outs, time.monotonic() - start
    raise AssertionError(f"{code!r} did not finish in {timeout} s: {outs}")
