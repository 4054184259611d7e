"""Stateless Jupyter execution for ``system.jupyterExecute`` (project) and ``jupyter.execute``
(hub): run ``history`` (output dropped) then ``input`` in a fresh IPython shell, in a child
process of the server's own Python, in the project's HOME, and return the output items the way
CoCalc's stateless API does: ``{"name","text"}`` streams, ``{"data":{mime: …}}`` results and
displays, ``{"ename","evalue","traceback"}`` errors.

Why not a real kernel: starting one costs seconds and leaves a process to manage; CoCalc's
stateless API starts a kernel per call anyway, so nothing is lost by using a plain IPython shell
that exits when done. The child is registered with the project's processes (stopping the
project kills it) and killed at the timeout.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from .execute import killpg, project_env
from .jsvalues import RemoteError, error, js_str

KERNELS = ("python3", "python")  # names we answer to (CoCalc installs call it python3)
DEFAULT_TIMEOUT_S = 90.0

RUNNER = r'''
import io, json, os, sys
req = json.loads(sys.stdin.read())
outputs = []
def add_stream(name, text):
    if not text:
        return
    if outputs and outputs[-1].get("name") == name:
        outputs[-1]["text"] += text
    else:
        outputs.append({"name": name, "text": text})
class Stream(io.TextIOBase):
    def __init__(self, name): self._n = name
    def writable(self): return True
    def write(self, s):
        if capture[0]: add_stream(self._n, s)
        return len(s)
    def flush(self): pass
capture = [False]
real_out = sys.stdout
sys.stdout, sys.stderr = Stream("stdout"), Stream("stderr")
import importlib.util
if importlib.util.find_spec("matplotlib_inline"):
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
def jsonable(d):
    return {k: (v if isinstance(v, (str, int, float, bool, list, dict, type(None))) else str(v)) for k, v in d.items()}
class Pub(DisplayPublisher):
    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kw):
        if capture[0]:
            item = {"data": jsonable(data)}
            if metadata: item["metadata"] = metadata
            outputs.append(item)
    def clear_output(self, wait=False): pass
class Hook(DisplayHook):
    def write_output_prompt(self): pass
    def write_format_data(self, format_dict, md_dict=None):
        if capture[0]:
            item = {"data": jsonable(format_dict)}
            if md_dict: item["metadata"] = md_dict
            outputs.append(item)
    def finish_displayhook(self): pass
shell = InteractiveShell.instance(display_pub_class=Pub, displayhook_class=Hook)
try:
    shell.colors = "nocolor"
except Exception:
    pass
def show_tb(etype, evalue, stb):
    if capture[0]:
        outputs.append({"ename": etype.__name__, "evalue": str(evalue), "traceback": stb})
shell._showtraceback = show_tb
if req.get("history"):
    shell.run_cell("\n".join(req["history"]), store_history=False)
capture[0] = True
shell.run_cell(req["input"], store_history=True)
capture[0] = False
try:
    import matplotlib.pyplot as plt
    if plt.get_fignums():
        capture[0] = True
        from IPython.display import display
        for n in plt.get_fignums():
            display(plt.figure(n))
        plt.close("all")
        capture[0] = False
except Exception:
    pass
real_out.write("\n@@COCALC-OUTPUTS@@" + json.dumps(outputs, default=str))
real_out.flush()
'''


def kernel_specs() -> list[dict]:
    """What ``jupyter.kernels`` lists: the server's Python, as a python3 kernel."""
    return [{
        "name": "python3",
        "display_name": "Python 3 (Local)",
        "language": "python",
        "env": {},
        "metadata": {"debugger": False},
        "resource_dir": os.path.dirname(sys.executable),
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
    }]


def _no_spec(kernel: str) -> RemoteError:
    return error(
        "**Unable to Spawn Jupyter Kernel:**\n\n"
        f'Error: No spec available for kernel "{kernel}".  Available specs: ["python3"] \n\n'
        f"Try this in a terminal to help debug this (or contact support): `jupyter console --kernel={kernel}`\n\n"
        "Once you fix the problem, explicitly restart this kernel to test here."
    )


async def jupyter_execute(ctx, project_id: str, opts: dict) -> list:
    """Output items of running ``opts["input"]`` with kernel ``opts["kernel"]``."""
    code = opts.get("input")
    if not isinstance(code, str):
        raise error("input must be a string")
    kernel = js_str(opts.get("kernel"))
    if kernel not in KERNELS and not kernel.startswith("python3"):
        raise _no_spec(kernel)
    history = opts.get("history")
    history = [js_str(h) for h in history] if isinstance(history, list) else []
    try:
        timeout = float(opts.get("timeout") or DEFAULT_TIMEOUT_S)
    except (TypeError, ValueError):
        timeout = DEFAULT_TIMEOUT_S
    from . import homes

    home = ctx.store.home(project_id)
    home.mkdir(parents=True, exist_ok=True)
    cwd = os.path.realpath(home)
    outputs: list[dict] = []
    if opts.get("path"):
        try:
            target = homes.resolve(home, js_str(opts["path"]))
            cwd = str(target if target.is_dir() else target.parent)
            if not os.path.isdir(cwd):
                raise FileNotFoundError(cwd)
        except (homes.PathOutsideHome, OSError) as exc:  # CoCalc reports chdir failure as stderr
            outputs.append({"name": "stderr", "text": f"Error: {exc}"})
            cwd = os.path.realpath(home)
    env = project_env(home, project_id)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUNNER, cwd=cwd, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    registry = ctx.runtime.processes
    registry.add(project_id, proc.pid)
    try:
        try:
            out, err = await asyncio.wait_for(
                proc.communicate(json.dumps({"input": code, "history": history}).encode()), timeout
            )
        except asyncio.TimeoutError:
            killpg(proc.pid)
            await proc.wait()
            raise error(f"timeout -- execution took longer than {js_str(timeout)} seconds") from None
        except asyncio.CancelledError:
            killpg(proc.pid)
            raise
    finally:
        registry.discard(project_id, proc.pid)
    text = out.decode("utf-8", "replace")
    marker = "\n@@COCALC-OUTPUTS@@"
    if marker not in text:
        detail = err.decode("utf-8", "replace").strip().splitlines()
        raise error(f"the kernel died: {detail[-1] if detail else 'no output'}")
    return outputs + json.loads(text.rsplit(marker, 1)[1])


__all__ = ["jupyter_execute", "kernel_specs"]
