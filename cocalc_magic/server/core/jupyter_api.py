"""The hub's Jupyter API (conat hub ``jupyter.execute``, ``/api/v2/jupyter/execute``, v1
``jupyter_execute``): the project's stateless execute behind a cache, as CoCalc's
``server/jupyter/execute.ts`` (a50170846e and 5cb3315c30) has it.

The answer for the same (history, input, kernel, project, path) is served from the cache for a
month (each hit extends it) unless ``noCache``, which deletes the entry and computes afresh; a
hit carries the cache row's ``id``. So the hub call answers yesterday's output for today's
identical code (the reason clients call the project's own execute instead). The project gets
CoCalc's PROJECT_LIMITS and PROJECT_POOL. Guess: the cache lives in the server's memory (CoCalc
keeps it in PostgreSQL); a restart empties it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from typing import Any

from .jsvalues import error, type_error
from .jupyter import jupyter_execute

MONTH_S = 30 * 24 * 3600
PROJECT_LIMITS = {"timeout_ms": 45000, "timeout_ms_per_cell": 30000, "max_output": 5000000,
                  "max_output_per_cell": 1000000}
PROJECT_POOL = {"size": 2, "timeout_s": 30 * 60}
_ids = itertools.count(1)


def compute_hash(history: Any, input: str, kernel: str, project_id: Any, path: Any) -> str:
    """``util/jupyter-api/compute-hash.ts``: sha1 of the JSON of the trimmed inputs."""
    if history is not None and not isinstance(history, list):  # (history ?? []).map(...) on a non-array
        raise type_error("(history ?? []).map is not a function")
    items = [[str(x).strip() for x in (history or [])], input.strip(), kernel.lower().strip(), project_id, path]
    return hashlib.sha1(json.dumps(items, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def _cache(ctx) -> dict:
    c = getattr(ctx.runtime, "jupyter_api_cache", None)
    if c is None:
        c = ctx.runtime.jupyter_api_cache = {}
    return c


def lookup(ctx, key: str) -> dict | None:
    """The cached answer for a hash (its expiry pushed a month on), or None."""
    row = _cache(ctx).get(key)
    if row is None or row["expire"] < time.time():
        _cache(ctx).pop(key, None)
        return None
    row["expire"] = time.time() + MONTH_S  # a hit keeps it another month
    return {"id": row["id"], "output": row["output"], "created": row["created"]}


async def execute(ctx, project_id: str, opts: dict, created: str) -> dict | None:
    """``{output, created}`` (plus ``id`` when served from the cache); None for an unknown hash."""
    no_cache = bool(opts.get("noCache"))
    if opts.get("hash") is not None and not no_cache:
        return lookup(ctx, str(opts["hash"]))
    if opts.get("input") is None:
        raise error("input or hash must not be null")
    if opts.get("kernel") is None:
        raise error("kernel must be specified in hash is not specified")
    key = compute_hash(opts.get("history"), str(opts["input"]), str(opts["kernel"]), project_id, opts.get("path"))
    if not no_cache:
        hit = lookup(ctx, key)
        if hit is not None:
            return hit
    mesg = {k: opts.get(k) for k in ("input", "history", "kernel", "path")}
    output = await jupyter_execute(ctx, project_id, {**mesg, "pool": PROJECT_POOL, "limits": PROJECT_LIMITS})
    _cache(ctx)[key] = {"id": next(_ids), "output": output, "created": created, "expire": time.time() + MONTH_S}
    return {"output": output, "created": created}
