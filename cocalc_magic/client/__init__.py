"""A Python client for CoCalc that speaks every API generation (v1, conat, ai).

The facade is ``CoCalc`` (``cocalc.py``) and ``Project`` (``project.py``); each generation's
protocol is one module of ``backends/`` behind the ``Backend`` interface; HTTP is only in
``transport.py``; return values are in ``models.py``, background commands in ``jobs.py``,
``cc.map``'s progress bar in ``progress.py``::

    from cocalc_magic import CoCalc
    cc = CoCalc()                      # host/key from arguments, %config, env, credentials file
    p = cc.project("My project")       # id, exact title or unique title prefix
    p.write("hello.txt", "hi\\n"); p.exec("cat hello.txt").stdout
"""

from ..errors import CoCalcError
from ..settings import redact
from .cocalc import API_CHOICES, CoCalc, is_uuid, sign_in_for_key
from .detect import generation_of_host
from .jobs import ExecJob
from .models import (
    Account,
    Embed,
    ExecResult,
    FileEntry,
    FramingCheck,
    Identity,
    Listing,
    MapResult,
    OrgInfo,
    Pong,
    ProjectInfo,
    ProjectList,
    SignInLink,
    UserInfo,
)
from .org import Org
from .project import Project

__all__ = [
    "API_CHOICES", "is_uuid",
    "CoCalc", "Project", "ExecJob", "sign_in_for_key", "generation_of_host", "Pong", "Identity", "ProjectInfo", "ProjectList",
    "ExecResult", "FileEntry", "Listing", "Account", "UserInfo", "Embed", "FramingCheck", "MapResult",
    "Org", "OrgInfo", "SignInLink",
    "CoCalcError", "redact",
]
