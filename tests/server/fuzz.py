"""A seeded HTTP fuzzer for the local server: every route of a generation, with random methods,
credentials and bodies (random JSON, deep nesting, NUL bytes, huge and non-finite numbers, wrong
types, long strings, bodies that are not JSON), sent from a few threads.

``plan`` builds the requests (the same seed gives the same requests), ``run`` sends them and
counts what came back, ``snapshot`` is every row of the database, to compare before and after.
tests/server/test_fuzz.py runs a few thousand per generation; benchmarks/fuzz.py the larger run.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

# Strings that tend to break things; nothing destructive (commands do run with a valid key).
STRINGS = [
    "", "a", "x" * 10_000, "\x00", "a\x00b", "../../../etc/passwd", "/etc/passwd", "..", "~", "pub/../x.txt",
    "<script>alert(1)</script>", "java\tscript:alert(1)", "%00", "ünï©ødé \u2028", "\ud800", "null", "undefined",
    "true", "1e309", "NaN", "-1", "9" * 400, "00000000-0000-4000-8000-000000000000", "sk-" + "a" * 20, "$(id)",
    "a" * 300, "\n\r\t", "Infinity", "system.ping", "a.b.c", "__proto__", "constructor", "toString",
]
NUMBERS = [0, -1, 1, 7, 2 ** 31, 2 ** 53 + 1, 2 ** 63, 2 ** 64, -(2 ** 63) - 1, 10 ** 30, 10 ** 400, 1e300, -1e300,
           0.5, -0.0, 1e-300, float("inf"), float("-inf"), float("nan")]
FIELDS = [
    "project_id", "path", "command", "args", "bash", "timeout", "limit", "expire", "action", "id", "name", "title",
    "description", "content", "query", "account_id", "account_ids", "email", "password", "terms", "src_project_id",
    "target_project_id", "src_path", "target_path", "pid", "pids", "signal", "kernel", "input", "history", "mesg",
    "event", "max_output", "async_call", "async_get", "async_await", "delete_missing", "fields", "user_account_id",
    "get_api_key", "next", "token", "options", "first_name", "last_name", "email_address", "subject", "body",
]
QUERIES = ["auth_token=" + "a" * 24, "auth_token=%00", "auth_token=" + uuid.uuid4().hex, "fullscreen=kiosk&session=",
           "get_api_key=x", "next=//evil.example", "next=%00", "lang_temp=de", "a=%ff%fe"]
HEAVY = ("jupyter",)  # kernels take seconds to start: only the refusals are fuzzed for them


def value(rng: random.Random, depth: int = 0) -> object:
    """A random JSON value (Python's json writes inf/nan as Infinity/NaN, which JS would not)."""
    kind = rng.randrange(10 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice(NUMBERS)
    if kind in (3, 4, 5):
        return rng.choice(STRINGS) if rng.random() < 0.8 else str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if kind in (6, 7):
        return [value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(FIELDS): value(rng, depth + 1) for _ in range(rng.randrange(5))}


def deep(depth: int, kind: str) -> bytes:
    return ("[" * depth + "]" * depth if kind == "list" else '{"a":' * depth + "1" + "}" * depth).encode()


@dataclass
class Request:
    method: str
    path: str
    body: bytes | None = None
    ctype: str | None = None
    auth: str | None = None
    cookie: str | None = None


@dataclass
class Report:
    sent: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list = field(default_factory=list)  # (method, path, body head, answer head)
    tracebacks: list = field(default_factory=list)
    hangs: list = field(default_factory=list)
    broken: list = field(default_factory=list)  # connection errors
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"{self.sent} requests in {self.seconds:.1f}s: {sum(self.statuses[s] for s in self.statuses if s >= 500)}"
                f" answers >= 500, {len(self.tracebacks)} with a traceback, {len(self.hangs)} hangs, "
                f"{len(self.broken)} broken connections; statuses {dict(sorted(self.statuses.items()))}")


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def credentials(srv) -> tuple[list, list]:
    """(bad, good): headers that must change nothing, and real keys and a cookie of this server."""
    store = srv.ctx.store
    user = store.create_account(f"fuzz-{uuid.uuid4().hex[:8]}@fuzz.local", "fuzz-password-1", "Fuzz", "User")
    own = store.create_project(user, "fuzz")
    _, user_key = store.create_api_key(user, name="fuzz")
    _, project_key = store.create_api_key(user, project_id=own, name="fuzz project")
    session = store.create_session(user, 3600)
    bad = [None, "Bearer garbage", "Basic !!!not-base64", "Weird x", basic("sk-" + "0" * 24), basic(""),
           "Bearer sk-cc-v2.000.000", ("cookie", "remember_me=not-a-session")]
    good = [basic(srv.api_key), basic(user_key), basic(project_key), ("cookie", f"remember_me={session}")]
    return bad, good


def function_names(api: str) -> dict[str, list[str]]:
    """The conat function names a generation's bridges know, per bridge path."""
    if api == "ai":
        from cocalc_magic.server.ai import hub as ai_hub
        from cocalc_magic.server.ai import project as ai_project

        hub, project = ai_hub.TABLE, ai_project.TABLE
    elif api == "conat":
        from cocalc_magic.server.hub.table import TABLE as hub
        from cocalc_magic.server.project.table import TABLE as project
    else:
        return {}
    def names(table: dict) -> list[str]:  # {"group": {"fn": f}} or {"group.fn": f}
        return [f"{g}.{f}" for g, fs in table.items() for f in fs] if all(isinstance(v, dict) for v in table.values()) \
            else list(table)

    return {"/api/conat/hub": names(hub), "/api/conat/project": names(project)}


def routes(srv) -> list[tuple[str, int]]:
    """Every route of the running server: (path template with %s per group, number of groups)."""
    app = getattr(srv, "app", None)
    if app is None:  # a server from before LocalServer kept its app (for before/after figures)
        from cocalc_magic.server.routes import make_app

        app = make_app(srv.ctx)
    out = []
    for rule in app.wildcard_router.rules:
        template = getattr(rule.matcher, "_path", None)
        groups = rule.matcher.regex.groups
        if template is None:  # /projects/<id>(?:/files)?/?
            template, groups = "/projects/%s", 1
        out.append((template.replace("/?", ""), groups))
    return out + [("/no/such/route/%s", 1)]


def plan(srv, count: int, seed: int, creds: list, heavy: bool = False) -> list[Request]:
    """``count`` requests over every route, with these credentials."""
    rng = random.Random(seed)
    store = srv.ctx.store
    ids = [p["project_id"] for p in store.query("SELECT project_id FROM projects LIMIT 3")]
    ids += [str(uuid.UUID(int=rng.getrandbits(128), version=4)), "not-a-uuid", ""]
    names = function_names(srv.api)
    events = list(_v1_events()) if srv.api == "v1" else []
    table = routes(srv)
    out = []
    for _ in range(count):
        template, groups = rng.choice(table)
        fill = []
        for i in range(groups):
            if template.startswith("/projects/") and i == 0:
                fill.append(rng.choice(ids) or "x")
            elif template.startswith("/api/v1/"):
                fill.append(rng.choice(events + ["nope", "ping/extra", "%00"]))
            else:
                fill.append(rng.choice(["", "kiosk.js", "kiosk.css", "%00", "..%2f..%2fx", "a.ipynb", "x" * 300, "a/b/"]))
        path = template % tuple(fill)
        method = "POST" if rng.random() < 0.75 else rng.choice(["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
        body, ctype = _body(rng, path, names.get(path.rstrip("/")), ids, heavy)
        if method in ("GET", "HEAD", "OPTIONS"):
            body = None
            if rng.random() < 0.5:
                path += "?" + rng.choice(QUERIES)
        cred = rng.choice(creds)
        cookie = cred[1] if isinstance(cred, tuple) else None
        out.append(Request(method, path, body, ctype, None if isinstance(cred, tuple) else cred, cookie))
    return out


def _v1_events() -> list[str]:
    from cocalc_magic.server.v1.schemas import SCHEMAS

    return list(SCHEMAS)


def _body(rng: random.Random, path: str, names: list[str] | None, ids: list[str], heavy: bool):
    r = rng.random()
    if r < 0.04:
        return deep(rng.choice([200, 1000, 5000, 50_000]), rng.choice(["list", "dict"])), "application/json"
    if r < 0.08:
        return rng.choice([b"{", b"nul", b"\xff\xfe", b"[1,2", b'{"a":NaN}', b"Infinity", b'"\\u0000"', b"1e999",
                           b'{"a":1,"a":2}', b"\x00"]), "application/json"
    if r < 0.12:
        return rng.choice([b"a=1&b[]=2&project_id=%00&path=..%2F..%2Fx", b"email=%00&password=x", b"%ff=%fe",
                           b"next=//evil&email=a@b.c&password=x"]), "application/x-www-form-urlencoded"
    if r < 0.15:
        return b"plain text", rng.choice(["text/plain", None, "application/octet-stream", "application/json; charset=x"])
    if r < 0.20:
        return json.dumps(value(rng, 1)).encode(), "application/json"  # any JSON value, often not an object
    if names:
        usable = [n for n in names if heavy or not n.startswith(HEAVY)]
        body: dict = {"name": rng.choice(usable) if rng.random() < 0.9 else value(rng)}
        body["args"] = [_fields(rng, ids) for _ in range(rng.randrange(3))] if rng.random() < 0.9 else value(rng)
        if rng.random() < 0.7:
            body["project_id"] = rng.choice(ids)
        if rng.random() < 0.2:  # the bridge waits this long by design: garbage, or short
            body["timeout"] = rng.choice([0, -1, 0.5, 100, 2000, "x", None, [], float("nan"), -1e300])
    else:
        body = _fields(rng, ids)
        if not heavy and "/jupyter/" in path:
            body.pop("input", None)
    return json.dumps(body).encode(), "application/json"


def _fields(rng: random.Random, ids: list[str]) -> dict:
    body = {rng.choice(FIELDS): value(rng, 1) for _ in range(rng.randrange(6))}
    for key in ("project_id", "src_project_id", "target_project_id"):
        if key in body and rng.random() < 0.7:
            body[key] = rng.choice(ids)
    if "timeout" in body and rng.random() < 0.8:
        body["timeout"] = rng.choice([1, 2, 0.5])  # commands that do start end soon
    return body


def run(url: str, requests_: list[Request], workers: int = 8, timeout: float = 30.0) -> Report:
    """Send every request; count statuses, 5xx answers, tracebacks in bodies, hangs."""
    report, lock, local = Report(), threading.Lock(), threading.local()

    def one(req: Request) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        headers = {k: v for k, v in (("Content-Type", req.ctype), ("Authorization", req.auth),
                                     ("Cookie", req.cookie)) if v}
        try:
            r = session.request(req.method, url + req.path, data=req.body, headers=headers, timeout=timeout,
                                allow_redirects=False)
            status, text = r.status_code, r.text
        except requests.exceptions.Timeout:
            with lock:
                report.hangs.append((req.method, req.path))
            return
        except requests.exceptions.RequestException as exc:
            with lock:
                report.broken.append((req.method, req.path, type(exc).__name__))
            local.session = None
            return
        with lock:
            report.sent += 1
            report.statuses[status] += 1
            if status >= 500:
                report.server_errors.append((req.method, req.path, (req.body or b"")[:100], text[:200]))
            if "Traceback (most recent call last)" in text or 'File "/' in text:
                report.tracebacks.append((req.method, req.path, text[:300]))

    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, requests_))
    report.seconds = time.monotonic() - started
    return report


def snapshot(store) -> dict[str, list]:
    """Every row of every table, in a stable order."""
    tables = [r["name"] for r in store.query("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    return {t: sorted(json.dumps(r, sort_keys=True, default=str) for r in store.query(f'SELECT * FROM "{t}"'))
            for t in tables}


def causes(report: Report, top: int = 20) -> list[tuple[int, tuple]]:
    """The commonest (method, path, answer) of the 5xx answers, for a report."""
    c = Counter((m, p.split("?")[0][:60], a[:90]) for m, p, _b, a in report.server_errors)
    return [(n, k) for k, n in c.most_common(top)]
