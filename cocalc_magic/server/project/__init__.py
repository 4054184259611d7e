"""What a CoCalc project does, by its conat names (``system.exec``, ``system.writeTextFileToProject``,
…), running in the project's HOME: ``exec`` (commands, async jobs, signals), ``files``, ``base``
(a call's view of the project, Node's error texts) and ``table`` (the dispatch the ``conat``
project bridge calls). The /api/v2 routes reuse the functions."""

from .exec import exec_code, job_view, project_pids, send_signal
from .files import listing, listing_of, read_text_file, write_text_file
from .table import TABLE, call

__all__ = ["TABLE", "call", "exec_code", "job_view", "listing", "listing_of", "project_pids",
           "read_text_file", "send_signal", "write_text_file"]
