"""A loopback HTTP server that misbehaves on purpose, to test the client's error handling.

Each path gets a script: a list of behaviours played one per request (the last one repeats).
Behaviours are small tuples built by the helpers below; ``hits[path]`` counts requests, and
``bodies[path]`` keeps what was sent (to check retries and what reached the server).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def reply_json(obj: Any, status: int = 200) -> tuple:
    return ("json", status, obj)


def reply_html(status: int = 200, title: str = "502 Bad Gateway") -> tuple:
    return ("html", status, f"<html><head><title>{title}</title></head><body><h1>{title}</h1>nginx</body></html>")


def reply_text(status: int, text: str, ctype: str | None = None) -> tuple:
    return ("text", status, text, ctype)


def truncated(full: Any = None) -> tuple:
    """Announce a JSON body by Content-Length, send half of it, close."""
    return ("truncated", 200, full if full is not None else {"now": 1, "padding": "x" * 200})


def redirect(location: str, status: int = 301) -> tuple:
    return ("redirect", status, location)


def reset() -> tuple:
    """Read the request, then reset the connection (RST) without answering."""
    return ("reset",)


def close() -> tuple:
    """Read the request, then close the connection cleanly without answering."""
    return ("close",)


def dribble(every: float = 0.5, size: int = 40) -> tuple:
    """A JSON answer of ``size`` bytes sent one byte every ``every`` seconds (each read is quick)."""
    return ("dribble", every, size)


def big(megabytes: int) -> tuple:
    """A JSON string answer of ``megabytes`` MB, streamed without a Content-Length (chunked)."""
    return ("big", megabytes)


def hang(seconds: float = 30.0) -> tuple:
    """Read the request and answer nothing for ``seconds`` (released at shutdown)."""
    return ("hang", seconds)


class FaultServer:
    def __init__(self) -> None:
        self.scripts: dict[str, list[tuple]] = {}
        self.hits: dict[str, int] = defaultdict(int)
        self.bodies: dict[str, list[bytes]] = defaultdict(list)
        self.headers: dict[str, list[dict[str, str]]] = defaultdict(list)
        self._release = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                with server._lock:
                    n = server.hits[path]
                    server.hits[path] += 1
                    server.bodies[path].append(body)
                    server.headers[path].append(dict(self.headers))
                    script = server.scripts.get(path)
                if not script:
                    return self._send(404, b"<html><head><title>404</title></head><body>404</body></html>",
                                      "text/html; charset=utf-8")
                step = script[min(n, len(script) - 1)]
                kind = step[0]
                if kind == "json":
                    self._send(step[1], json.dumps(step[2]).encode(), "application/json; charset=utf-8")
                elif kind == "html":
                    self._send(step[1], step[2].encode(), "text/html; charset=utf-8")
                elif kind == "text":
                    self._send(step[1], step[2].encode(), step[3])
                elif kind == "truncated":
                    data = json.dumps(step[2]).encode()
                    self.send_response(step[1])
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self._abort(rst=False)
                elif kind == "redirect":
                    self.send_response(step[1])
                    self.send_header("Location", step[2])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif kind == "reset":
                    self._abort(rst=True)
                elif kind == "close":
                    self._abort(rst=False)
                elif kind == "dribble":
                    data = b'"' + b"x" * (step[2] - 2) + b'"'
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    for i in range(len(data)):
                        if server._release.wait(step[1]):
                            break
                        try:
                            self.wfile.write(data[i:i + 1])
                            self.wfile.flush()
                        except OSError:
                            break
                    self._abort(rst=False)
                elif kind == "big":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    piece = b"x" * 1_000_000
                    try:
                        self.wfile.write(b'1\r\n"\r\n')
                        for _ in range(step[1]):
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                        self.wfile.write(b'1\r\n"\r\n0\r\n\r\n')
                    except OSError:
                        pass
                    self._abort(rst=False)
                elif kind == "hang":
                    server._release.wait(step[1])
                    self._abort(rst=False)

            def _send(self, status: int, data: bytes, ctype: str | None) -> None:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _abort(self, rst: bool) -> None:
                self.close_connection = True
                try:
                    if rst:
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.shutdown(socket.SHUT_RDWR) if not rst else None
                except OSError:
                    pass
                try:
                    self.connection.close()
                except OSError:
                    pass

            def finish(self) -> None:
                try:
                    super().finish()
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def script(self, path: str, *steps: tuple) -> None:
        self.scripts[path] = list(steps)
        self.hits[path] = 0
        self.bodies[path] = []

    def __enter__(self) -> "FaultServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


def free_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    time.sleep(0.01)
    return port
