"""Cells in a project's Jupyter kernel: ``Project.run`` / ``Project.session`` (``runner``), what
came back (``results``: RunResult, KernelSession), ``-o`` variables without pickle
(``variables``), and the code that runs inside the kernel for them (``kernel_side``)."""

from .results import CellError, Display, KernelSession, RunResult, Stream
from .variables import VariablesNotReturned

__all__ = ["CellError", "Display", "KernelSession", "RunResult", "Stream", "VariablesNotReturned"]
