"""The transport's body reader: an answer is read in pieces, within the call's deadline and
under a size cap, so that a server sending a byte every few seconds cannot hold a call past its
timeout, and a 300 MB answer cannot grow the client by gigabytes. Used by transport.py only.
"""

from __future__ import annotations

import time
from typing import Any

import requests
import urllib3.exceptions as u3

from ..errors import ProtocolError, ServerTimeout

DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024  # 10 MB files, escaped, and exec output fit with room
CHUNK = 256 * 1024


def too_large(host: str, limit: int, endpoint: str) -> ProtocolError:
    return ProtocolError(
        f"the answer from {host} is larger than {limit / 1048576:g} MiB, this client's limit per answer",
        endpoint=endpoint,
        hint="Ask for less in one call (exec: max_output=, a smaller file), or raise "
             "CoCalc(max_response_bytes=...) / COCALC_MAX_RESPONSE_BYTES")


def too_slow(host: str, timeout: float, endpoint: str) -> ServerTimeout:
    return ServerTimeout(f"no complete answer from {host} within {timeout:g}s (the call's timeout)",
                         endpoint=endpoint, hint="slow_answer")


def read_body(resp: Any, *, host: str, deadline: float, timeout: float, limit: int, endpoint: str) -> bytes:
    """All of ``resp``'s body (a ``requests`` response opened with ``stream=True``), or raise:
    ServerTimeout once ``deadline`` (time.monotonic) passes, ProtocolError past ``limit`` bytes.
    The connection is closed on either (it is never reused half read)."""
    length = resp.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > limit:
        resp.close()
        raise too_large(host, limit, endpoint)
    if resp.raw is None or getattr(resp, "_content", False) not in (False, None):  # read already (a test adapter)
        content = resp.content or b""
        if len(content) > limit:
            raise too_large(host, limit, endpoint)
        return content
    raw, parts, size = resp.raw, [], 0
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise too_slow(host, timeout, endpoint)
            if sock is not None:  # one read may wait only for what is left of the call
                sock.settimeout(max(0.01, left))
            try:
                chunk = raw.read1(CHUNK, decode_content=True)
            except (u3.ReadTimeoutError, TimeoutError):
                raise too_slow(host, timeout, endpoint) from None
            except (u3.ProtocolError, u3.DecodeError) as exc:  # cut off: the transport maps it as requests would
                raise requests.exceptions.ChunkedEncodingError(exc) from None
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise too_large(host, limit, endpoint)
            parts.append(chunk)
    except (ProtocolError, ServerTimeout, requests.exceptions.ChunkedEncodingError):
        resp.close()
        raise
    resp._content = b"".join(parts)  # as requests keeps it: resp.content works as before
    resp._content_consumed = True
    return resp._content
