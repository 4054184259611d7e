"""``CoCalc``: the client facade for one server (settings, detection of the generation,
account-level calls, bulk ``map``). Each call goes to the backend of the detected generation
(``backends/``); ``Project`` (``project.py``) is the handle on one project."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import quote, urlsplit

from .. import settings as _settings
from ..errors import (
    AuthenticationError,
    CoCalcError,
    InvalidRequest,
    NotFound,
    NotSupported,
    PermissionDenied,
    ProtocolError,
)
from ..settings import SecretStr, Settings, mask
from .backends import BACKENDS, AiBackend, Backend, ConatBackend, V1Backend
from .backends.ai import RECENT_PROJECTS, key_id
from .detect import detect, key_kind
from .keydoctor import diagnose
from .models import (
    Account,
    Embed,
    FramingCheck,
    Identity,
    LazyProjectInfo,
    MapResult,
    OrgInfo,
    Pong,
    ProjectInfo,
    ProjectList,
    UserInfo,
)
from .org import Org, all_orgs, create_org
from .progress import Progress
from .project import DEFAULT_START_TIMEOUT, Project
from .titles import match_title
from .transport import Transport
from .transport_read import DEFAULT_MAX_RESPONSE_BYTES

log = logging.getLogger("cocalc_magic.client")

API_CHOICES = ("auto", "v1", "conat", "ai", "current")  # "current": this project's first name for conat
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def is_uuid(value: Any) -> bool:
    return isinstance(value, str) and bool(UUID_RE.match(value))


class CoCalc:
    """A client for one CoCalc server (its API generation detected by itself).

    ``api``: "auto" (probe the conat bridge, fall back to legacy v1), "v1" or "conat"
    ("current" is accepted as another name for "conat").
    ``retries``/``backoff``: how idempotent calls are retried (exponential backoff with jitter).
    """

    def __init__(
        self,
        host: str | None = None,
        api_key: str | None = None,
        api: str = "auto",
        timeout: float | None = None,
        project: str | None = None,
        *,
        config: dict[str, Any] | None = None,
        retries: int = 3,
        backoff: float = 0.2,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        max_response_bytes: int | None = None,
    ) -> None:
        if api not in API_CHOICES:
            raise ValueError(f"api must be one of {', '.join(API_CHOICES)}, not {api!r}")
        self.settings: Settings = _settings.resolve(host=host, api_key=api_key, project=project,
                                                    timeout=timeout, config=config)
        self.start_timeout = float(start_timeout)
        # the largest answer read (default 256 MiB; COCALC_MAX_RESPONSE_BYTES): past it, a one-line error
        cap = max_response_bytes or int(os.environ.get("COCALC_MAX_RESPONSE_BYTES") or DEFAULT_MAX_RESPONSE_BYTES)
        self._transport = Transport(self.settings.host, self.settings.api_key, self.settings.timeout,
                                    retries=retries, backoff=backoff, max_response_bytes=cap)
        api = "conat" if api == "current" else api
        self._requested_api = api
        self._backend: Backend | None = None
        self._detect_lock = threading.Lock()
        self._running: dict[str, float] = {}
        self._identity: Identity | None = None
        self._signin_refused: str | None = None  # why this key cannot make sign-in tokens, once known
        self._unreadable: set[str] = set()  # projects whose state this (cocalc.ai) key may not read
        if api != "auto":
            self._backend = self._make_backend(api)

    # ------------------------------------------------------------------ basics
    @property
    def host(self) -> str:
        return self.settings.host

    @property
    def api(self) -> str:
        """``"v1"`` or ``"conat"`` (probes the server the first time it is asked)."""
        return self._b.api

    @property
    def timeout(self) -> float:
        return self.settings.timeout

    @property
    def max_write_bytes(self) -> int:
        """The largest plain-ASCII text ``p.write`` can send under this server's body limit."""
        return self._b.max_write_bytes

    def __repr__(self) -> str:
        api = self._backend.api if self._backend else f"{self._requested_api} (not probed yet)"
        key = mask(self.settings.api_key) if self.settings.api_key else None
        return f"CoCalc(host={self.host!r}, api={api!r}, api_key={key!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self._transport.close()

    def __enter__(self) -> "CoCalc":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ detection
    def _make_backend(self, api: str) -> Backend:
        return BACKENDS[api](self._transport)

    @property
    def _b(self) -> Backend:
        if self._backend is None:
            self._detect()
        assert self._backend is not None
        return self._backend

    def _detect(self) -> Pong | None:
        """Find the generation (``detect.py``: no request for a cocalc.ai key, one otherwise);
        cached for this client. Returns the probe's Pong when its answer had the server's time."""
        with self._detect_lock:
            if self._backend is not None:
                return None
            found = detect(self._transport, self.settings.api_key)
            log.debug("%s speaks the %s API (%d detection requests)", self.host, found.api, found.requests)
            self._backend = self._make_backend(found.api)
            if found.identity is not None:
                self._identity = found.identity
            return found.pong

    # ------------------------------------------------------------------ account level
    def ping(self) -> Pong:
        """Round trip to the server: its clock, the latency, and the API generation."""
        if self._backend is None:
            pong = self._detect()
            if pong is not None:
                return pong
        started = time.perf_counter()
        try:
            now = self._b.ping()
        except NotFound as err:
            if self._requested_api != "auto" or self._b.api != "v1" or err.status != 404:
                raise
            # detection took "no conat bridge" for the legacy API, and that is missing too
            raise ProtocolError(
                f"{self.host} answers neither the conat CoCalc API (/api/conat/hub) nor the legacy one "
                f"(/api/v1/ping): {err.message}", status=err.status, endpoint=err.endpoint,
                hint="Check the host: it should be the address of a CoCalc server, e.g. https://cocalc.ai") from None
        return Pong(now=now, latency_s=time.perf_counter() - started, api=self._b.api)

    def whoami(self) -> Identity:
        """Whom the key belongs to (an account, or a project for a project-scoped key), the
        server's generation in words and the key's kind; on cocalc.ai also which capabilities the
        magics need this key has (``.checks``, ``.missing``: the key doctor, by harmless calls)."""
        if self._identity is None or not self._identity.api:
            b = self._b
            ident = self._identity or b.whoami()
            checks = diagnose(b, self._default_project_id()) if isinstance(b, AiBackend) else ()
            self._identity = replace(ident, api=b.api, key_kind=key_kind(self.settings.api_key, ident.scope),
                                     key_id=key_id(self.settings.api_key), checks=checks)
        return self._identity

    def _default_project_id(self) -> str | None:
        ref = self.settings.project
        if not ref or is_uuid(ref):
            return ref.lower() if ref else None
        try:
            return self.project(ref).project_id
        except CoCalcError:
            return None

    def projects(self, all: bool = False, search: str | None = None) -> ProjectList:
        """Your projects, newest first. ``all=False`` is CoCalc's ``projects`` table (edited in the
        last 21 days; on cocalc.ai the 50 most recently edited); ``all=True`` is every project.
        Deleted ones are left out. ``search``: case-insensitive words that must all occur in the
        title, description or id. On cocalc.ai a row has only id, title and description until its
        ``state`` or ``created`` is read (one call then, with the key's project:read)."""
        rows = [r for r in self._b.list_projects(all) if not r["deleted"]]
        if search:
            words = search.lower().split()
            rows = [r for r in rows
                    if all_words(words, f"{r['title']} {r['description']} {r['project_id']}".lower())]
        epoch = datetime.fromtimestamp(0, tz=timezone.utc)
        rows.sort(key=lambda r: (r["last_edited"] or r["created"] or epoch), reverse=True)
        if isinstance(self._b, AiBackend):  # only id, title and description come back
            fill = self._fill_project_field
            return ProjectList([LazyProjectInfo(r["project_id"], r["title"], r["description"], fill=fill)
                                for r in rows],
                               window="(all)" if all else f"(the {RECENT_PROJECTS} most recently edited; all=True or "
                                                          f"%cocalc projects --all for every project)",
                               search=search)
        items = [ProjectInfo(project_id=r["project_id"], title=r["title"], description=r["description"],
                             state=r["state"], last_edited=r["last_edited"], created=r["created"]) for r in rows]
        window = "(all)" if all else "(edited in the last 21 days; all=True or %cocalc projects --all for every project)"
        return ProjectList(items, window=window, search=search)

    def _fill_project_field(self, name: str, project_id: str) -> Any:
        """A LazyProjectInfo's state or creation time, asked once; None where the key may not read it
        (and that project is not asked again)."""
        b = self._b
        if project_id in self._unreadable or not isinstance(b, AiBackend):
            return None
        try:
            return b.state(project_id) if name == "state" else b.created_time(project_id)
        except PermissionDenied:
            self._unreadable.add(project_id)
            return None

    def project(self, ref: "str | Project | ProjectInfo", create: bool = False) -> "Project":
        """A project by id, exact title, or unique title prefix (case-insensitive as a fallback).

        ``create=True`` gets or creates by exact title: the project titled ``ref`` (the most recently
        edited one if several are), else a new project with that title. A notebook that runs twice
        thus works on one project.
        """
        if isinstance(ref, Project):
            return ref
        if isinstance(ref, ProjectInfo):
            return Project(self, ref.project_id, ref.title)
        if not isinstance(ref, str) or not ref.strip():
            raise InvalidRequest("a project reference must be a project id, a title or a title prefix",
                                 hint="project_ref")
        ref = ref.strip()
        if is_uuid(ref):
            try:
                row = self._b.project_row(ref.lower())
            except PermissionDenied as err:
                if err.capability == "project:list":  # a cocalc.ai key that may not list: the id will do
                    return Project(self, ref.lower(), None)
                raise NotFound(f"no project with id {ref} is visible to this key") from None
            except (NotFound, InvalidRequest):
                raise NotFound(f"no project with id {ref} is visible to this key") from None
            except AuthenticationError:
                if self.whoami().scope == "project" and self.whoami().project_id == ref.lower():
                    return Project(self, ref.lower(), None)
                raise
            return Project(self, row["project_id"], row["title"])
        rows = [r for r in self._b.list_projects(True) if not r["deleted"]]
        row = match_title(rows, ref, create)
        if row is None:  # create=True and no project has that title
            return self.create_project(ref)
        return Project(self, row["project_id"], row["title"])

    def default_project(self) -> "Project":
        """The project from the settings (argument, ``%config``, ``COCALC_PROJECT_ID``, ``use``)."""
        if not self.settings.project:
            raise NotFound("no default project is set",
                           hint="default_project")
        return self.project(self.settings.project)

    def create_project(self, title: str, description: str = "", start: bool = False) -> "Project":
        """Create a project (and start it, waiting until it runs, when ``start``)."""
        pid = self._b.create_project(title, description, False)
        p = Project(self, pid, title)
        p.created = True
        if start:
            p.start(wait=True)
        return p

    def auth_token(self, account_id: str | None = None, password: str | None = None) -> SecretStr:
        """A sign-in token for ``account_id`` (default: the key's own account), e.g. for kiosk
        embedding. Admins need no password; others need the target account's password.
        The token is masked wherever it is shown (repr, errors, logs)."""
        if account_id is None and self._b.makes_signin_tokens:  # else the backend says why, with no request
            account_id = self.whoami().account_id
            if not account_id:
                raise PermissionDenied("a project-scoped key has no account to make a sign-in token for",
                                       hint="account_key")
        try:
            token = self._b.auth_token(account_id or "", password)
        except AuthenticationError as err:
            if "password" in (err.server_message or "").lower():
                raise PermissionDenied(
                    f"the server refused a sign-in token for {account_id}: {err.server_message}",
                    status=err.status, endpoint=err.endpoint, server_message=err.server_message,
                    hint="token_password",
                ) from None
            raise
        return SecretStr(token)

    def embed(self, project_id: "str | Project", path: str, token: bool = True,
              password: str | None = None) -> Embed:
        """URLs to show ``path`` of a project in a kiosk IFrame, plus a framing check.

        ``kiosk_url`` never holds a token; ``signin_url`` does (legacy: kiosk URL +
        ``&auth_token=``; conat: ``/auth/impersonate?auth_token=`` which sets the cookie).
        ``can_sign_in`` is False when no API call can sign a browser in for this server and key
        (cocalc.ai; a non-admin key without the account's password): a panel then shows the file
        some other way; ``token_error`` says why.
        """
        pid = project_id.project_id if isinstance(project_id, Project) else str(project_id)
        api = self.api
        path = path.lstrip("/")
        kiosk = f"{self.host}/projects/{pid}/files/{quote(path)}?fullscreen=kiosk&session="
        parts = urlsplit(self.host)
        origin = f"{parts.scheme}://{parts.netloc}"
        signin = None
        token_error = None
        can_sign_in = True
        if token and password is None and self._signin_refused is not None:
            token_error, can_sign_in = self._signin_refused, False  # asking again changes nothing
        elif token:
            try:
                t = str(self.auth_token(password=password))
                signin = self._b.signin_url(self.host, kiosk, t)
            except (PermissionDenied, NotSupported) as err:
                # permanent for this key: remembered, since a conat hub answers a second try within
                # 30 s with its ban text, and only the password (or another key) would change it
                token_error, can_sign_in = err.message, False
                if password is None:
                    self._signin_refused = err.message
            except CoCalcError as err:
                token_error = str(err)
        new_tab = (signin if (signin and self._b.signin_opens_file)
                   else f"{self.host}/projects/{pid}/files/{quote(path)}")
        return Embed(kiosk_url=kiosk, signin_url=signin, new_tab_url=new_tab, origin=origin, api=api,
                     framing=self.framing_check(kiosk), token_error=token_error, can_sign_in=can_sign_in,
                     signin_opens_file=self._b.signin_opens_file)

    def framing_check(self, url: str) -> FramingCheck:
        """Whether ``url`` may be shown in an IFrame of another site (X-Frame-Options, CSP)."""
        try:
            status, headers = self._transport.head_headers(url, timeout=min(self.timeout, 10))
        except CoCalcError as err:
            return FramingCheck(False, f"could not load the page: {err.message}")
        lower = {k.lower(): v for k, v in headers.items()}
        xfo = lower.get("x-frame-options", "").strip().upper()
        if xfo in ("DENY", "SAMEORIGIN"):
            return FramingCheck(False, f"the server forbids framing (X-Frame-Options: {xfo})")
        csp = lower.get("content-security-policy", "")
        m = re.search(r"frame-ancestors([^;]*)", csp, re.I)
        if m:
            sources = m.group(1).split()
            if "'none'" in sources or sources == ["'self'"]:
                return FramingCheck(False, f"the server forbids framing (CSP frame-ancestors {' '.join(sources)})")
            if "*" not in sources:
                return FramingCheck(True, f"framing allowed only from: {' '.join(sources)}")
        if status >= 400:
            return FramingCheck(False, f"the page answered HTTP {status}")
        return FramingCheck(True, "no framing restrictions")

    def create_account(self, email: str, password: str, first_name: str = "", last_name: str = "") -> Account:
        """Create an account (legacy: ``create_account`` with an API key back; current: v2 sign-up,
        admins only on most servers, no key back)."""
        account = self._b.create_account(email, password, first_name, last_name)
        if account.api_key:
            _settings.register_secret(account.api_key)
        return account

    def user_search(self, query: str, limit: int | None = None) -> list[UserInfo]:
        """Accounts matching a name or an exact email address."""
        return self._b.user_search(query, limit)

    def get_usernames(self, account_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """``{account_id: {"first_name", "last_name"}}`` for the given ids."""
        return self._b.get_usernames(list(account_ids))

    def add_collaborator(self, project: "str | Project", account_id: str) -> None:
        self._b.add_collaborator(self._pid(project), account_id)

    def remove_collaborator(self, project: "str | Project", account_id: str) -> None:
        self._b.remove_collaborator(self._pid(project), account_id)

    # -- organizations (conat servers: a class's accounts and sign-in links) --------
    def org(self, name: str) -> Org:
        """The organization ``name``: ``.create_user``, ``.sign_in_link``, ``.users`` (see ``Org``)."""
        return Org(self, name)

    def create_org(self, name: str, exist_ok: bool = False) -> Org:
        """Create an organization (site admins; at most 39 characters, never renamed)."""
        return create_org(self, name, exist_ok)

    def orgs(self) -> list[OrgInfo]:
        """Every organization on the server (site admins)."""
        return all_orgs(self)

    def _pid(self, project: "str | Project | ProjectInfo") -> str:
        if isinstance(project, (Project, ProjectInfo)):
            return project.project_id
        if is_uuid(project):
            return str(project).lower()
        return self.project(project).project_id

    # ------------------------------------------------------------------ raw escape hatches
    def call_v1(self, event: str, **fields: Any) -> Any:
        """POST ``/api/v1/<event>`` with ``fields``; the reply message (errors mapped)."""
        return V1Backend(self._transport).call(event, fields)

    def call_hub(self, name: str, *args: Any, timeout: float | None = None) -> Any:
        """Call a hub function on ``/api/conat/hub``; its return value (errors mapped)."""
        return self._bridges().hub(name, *args, timeout=timeout)

    def call_project(self, project_id: str | None, name: str, *args: Any, timeout: float | None = None) -> Any:
        """Call a project function on ``/api/conat/project``; its return value (errors mapped)."""
        pid = self._pid(project_id) if project_id else None
        return self._bridges().project(pid, name, *args, timeout=timeout)

    def _bridges(self) -> ConatBackend:
        """The backend for raw bridge calls: this client's own on conat and ai (their errors)."""
        b = self._b
        return b if isinstance(b, ConatBackend) else ConatBackend(self._transport)

    # ------------------------------------------------------------------ bulk
    def map(self, func: Callable[[Any], Any], items: Iterable[Any], workers: int = 8,
            progress: bool = True) -> MapResult:
        """Run ``func(item)`` for every item, ``workers`` at a time on the shared connection pool.

        Results come back in input order; an item that raised holds ``None`` and its exception is
        in ``result.errors`` as ``(index, item, exception)`` — one failure never aborts the rest.
        ``progress``: an ipywidgets bar in a notebook, a text line on a terminal.
        """
        items = list(items)
        workers = max(1, min(int(workers), max(1, len(items))))
        self._transport.ensure_pool(workers + 2)
        if self._backend is None and items:
            self._detect()  # once, before the threads race for it
        results: list[Any] = [None] * len(items)
        errors: list[tuple[int, Any, BaseException]] = []
        lock = threading.Lock()
        bar = Progress(len(items)) if progress and items else None
        started = time.perf_counter()

        def run(i: int) -> None:
            try:
                results[i] = func(items[i])
            except Exception as exc:  # noqa: BLE001 - collected per item, by design
                with lock:
                    errors.append((i, items[i], exc))
            if bar:
                bar.step(failed=len(errors))

        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cocalc-map")
        try:
            for f in [pool.submit(run, i) for i in range(len(items))]:
                f.result()
        except BaseException:
            # Ctrl-C (or an item's KeyboardInterrupt): items not started yet never start; the
            # running ones finish, so nothing is left half done.
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        else:
            pool.shutdown(wait=True)
        finally:
            if bar:
                bar.close()
        errors.sort(key=lambda e: e[0])
        return MapResult(results, errors, elapsed_s=time.perf_counter() - started)


def all_words(words: Sequence[str], text: str) -> bool:
    return all(w in text for w in words)


# ---------------------------------------------------------------------- getting a key
def sign_in_for_key(host: str, email: str, password: str, key_name: str = "cocalc-magic") -> SecretStr:
    """Sign in with email and password (``/api/v2/auth/sign-in``) and create an account API key
    (``/api/v2/api-keys``); the key (masked in reprs). Nothing is stored: pass it to
    ``settings.save_credentials`` to keep it."""
    host = _settings.normalize_host(host)
    _settings.register_secret(password)
    t = Transport(host, None, _settings.DEFAULT_TIMEOUT, retries=1, keep_cookies=True)
    try:
        return SecretStr(ConatBackend(t).sign_in_for_key(email, password, key_name))
    finally:
        t.close()
