"""Which API generation a server speaks, in at most one request (none for a cocalc.ai key).

A hub ``system.test`` tells the three apart (DESIGN.md): the legacy generation has no conat bridge
(404 or an HTML page), ``conat`` answers it (``{account_id, server_time}``), and cocalc.ai refuses
it to keys (``API keys are not allowed to call hub RPC 'system.test'``). Only when the key itself
is refused, which both conat and cocalc.ai say in the same words, ``GET /customize`` is asked:
``configuration.cocalc_product`` exists only on cocalc.ai's code (the confirming sign).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..errors import AuthenticationError, CoCalcError, NotFound, ProtocolError, classify
from .backends.ai import is_ai_key
from .backends.conat import HUB
from .models import Identity, Pong, parse_time
from .transport import Transport, error_in

AI_REFUSAL = "API keys are not allowed to call hub RPC"


@dataclass(frozen=True)
class Detected:
    """The generation, plus what the probe's answer already told (so no call is repeated)."""

    api: str
    pong: Pong | None = None
    identity: Identity | None = None
    requests: int = 0  # how many requests detection cost (benchmarks report it)


def key_kind(api_key: str | None, scope: str) -> str:
    """What kind of key this is, in words (from its form and, on conat, its scope)."""
    key = str(api_key or "")
    if is_ai_key(key):
        return "a cocalc.ai account key (capabilities and allowed projects)"
    if key.startswith("sk_"):
        return "a legacy API key (sk_…)"
    return "a project API key" if scope == "project" else "an account API key"


def generation_of_host(host: str, timeout: float = 10.0) -> str | None:
    """"ai" when ``host`` runs cocalc.ai's code (its ``/customize`` says so), else None. Asks with
    no key, so it can be used before there is one (``%cocalc login``)."""
    t = Transport(host, None, timeout, retries=1)
    try:
        return "ai" if cocalc_product(t) else None
    finally:
        t.close()


def cocalc_product(t: Transport) -> str | None:
    """``configuration.cocalc_product`` of ``GET /customize`` (plus, launchpad, rocket) or None."""
    try:
        data = t.get_json("/customize")
    except CoCalcError:
        return None
    conf = data.get("configuration") if isinstance(data, dict) else None
    product = conf.get("cocalc_product") if isinstance(conf, dict) else None
    return str(product) if product else None


def detect(t: Transport, api_key: str | None) -> Detected:
    """The generation of ``t``'s server (see the module's docstring)."""
    if is_ai_key(api_key):
        return Detected("ai")
    started = time.perf_counter()
    try:
        reply = t.post(HUB, {"name": "system.test", "args": []}, endpoint=f"{HUB} system.test (probe)",
                       idempotent=True)
    except (NotFound, ProtocolError) as err:
        if err.status is None or err.status >= 500:
            raise
        return Detected("v1", requests=1)  # no conat bridge: 404 or an HTML page
    data = reply.data
    text = error_in(data)
    if text is None:
        latency = time.perf_counter() - started
        data = data if isinstance(data, dict) else {}
        now = parse_time(data.get("server_time"))
        identity = None
        if data.get("account_id") or data.get("project_id"):
            scope = "account" if data.get("account_id") else "project"
            identity = Identity(account_id=data.get("account_id"), project_id=data.get("project_id"), scope=scope)
        return Detected("conat", Pong(now=now, latency_s=latency, api="conat") if now else None, identity, 1)
    if AI_REFUSAL in text:
        return Detected("ai", requests=1)
    if isinstance(classify(text), AuthenticationError):
        # conat and cocalc.ai refuse a wrong key alike: the site's configuration tells them apart
        return Detected("ai" if cocalc_product(t) else "conat", requests=2)
    return Detected("conat", requests=1)
