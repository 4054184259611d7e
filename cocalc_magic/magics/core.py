"""The IPython magics: ``%cocalc <subcommand>``, ``%%cocalc_write`` and ``%%cocalc_exec``.

They hold no protocol knowledge: each subcommand asks ``CoCalc`` (the client) and shows what it got.
Loading the extension imports IPython and traitlets (already loaded in a kernel) and three small
pure helpers (parsing, display, transfers); the settings, the client (requests) and the widgets load
on the first call that needs them.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, Callable

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from traitlets import Bool, CaselessStrEnum, Float, Unicode, observe

# Small and pure (no client, no network): imported with the extension, so that a call pays no import.
from . import args as A, transfer as T
from .display import CoCalcMagicError, Listing, MaskedToken, clock_text, magic_hint, result_fate, scrub
from .run import RunSubcommands
from .settings_cache import SettingsCache

TITLE_CACHE_SECONDS = 60.0  # completion of project titles: how long a fetched list is trusted
_COMPLETER_KEYS = ("%cocalc", "%%cocalc_write", "%%cocalc_exec", "%%cocalc_run")


@magics_class
class CoCalcMagics(RunSubcommands, Magics):
    """``%cocalc`` and friends. Settings: ``%config CoCalcMagics.<name> = value``."""

    host = Unicode(None, allow_none=True,
                   help="CoCalc server URL (overrides COCALC_HOST and the saved login)").tag(config=True)
    api = CaselessStrEnum(("auto", "v1", "conat", "ai", "current"), default_value="auto",
                          help="API generation: auto-detect, or force 'ai' (cocalc.ai), 'conat' (a self-hosted "
                          "CoCalc; 'current' is an alias) or 'v1' (an older self-hosted CoCalc)").tag(config=True)
    timeout = Float(None, allow_none=True, help="seconds to wait for one HTTP request").tag(config=True)
    project = Unicode(None, allow_none=True, help="default project (id, title or unique title prefix); "
                      "overrides COCALC_PROJECT_ID").tag(config=True)
    show_tracebacks = Bool(False, help="show full tracebacks instead of one-line errors").tag(config=True)

    def __init__(self, shell=None, **kwargs):
        super().__init__(shell=shell, **kwargs)
        self._client = None
        self._client_key: tuple | None = None
        self._used_project: str | None = None    # set by `%cocalc use`
        self._titles: list[str] = []
        self._titles_at = 0.0
        self._refreshing = False
        self._extra_secrets: list[str] = []       # scrubbed from errors during login
        self._settings_cache = SettingsCache()    # resolved settings, until what they depend on changes

    @observe("project")
    def _project_changed(self, change) -> None:
        self._used_project = None  # a new %config project wins over an earlier `use`

    # ------------------------------------------------------------------ settings and client
    def settings(self):
        """The resolved settings: `use` > %config > environment > credentials file > default."""
        config = {}
        for name in ("host", "project", "timeout"):
            value = getattr(self, name)
            if value not in (None, ""):
                config[name] = value
        try:
            return self._settings_cache.get(self._used_project, config)
        except ValueError as exc:  # e.g. %config CoCalcMagics.timeout = -1
            raise CoCalcMagicError(f"Bad setting: {exc}.") from None

    def client(self):
        """The cached ``CoCalc``; rebuilt when host, key, api or timeout change."""
        s = self.settings()
        if not s.api_key:
            raise CoCalcMagicError(f"No CoCalc API key for {s.host}: {magic_hint('no_key')}.")
        key = (s.host, s.api_key, self.api, s.timeout)
        if self._client_key is not None and key[:2] != self._client_key[:2]:
            self._titles, self._titles_at = [], 0.0  # another server or account: other projects
        if self._client is None or key != self._client_key:
            from ..client import CoCalc

            self._client = CoCalc(host=s.host, api_key=s.api_key, api=self.api, timeout=s.timeout)
            self._client_key = key
        return self._client

    def _drop_client(self) -> None:
        self._client, self._client_key = None, None

    def _project(self, cc, ref: str | None):
        """The project named by -p/positional, else the default (from `use`, %config, environment)."""
        if not ref:
            ref = self.settings().project
            if not ref:
                raise CoCalcMagicError(
                    f"No project given and no default project: {magic_hint('default_project')}.")
        return self._call(lambda: cc.project(ref), f"project {ref!r}")

    # ------------------------------------------------------------------ calls, errors, Ctrl-C
    def _call(self, fn: Callable[[], Any], what: str, on_interrupt: Callable[[], str] | None = None) -> Any:
        """Run one client call; on Ctrl-C stop waiting and say what became of the work.

        The call runs in the kernel's main thread: Linux hands a process's SIGINT to the main
        thread, so a blocking socket read ends at once with KeyboardInterrupt (no helper thread,
        no polling). ``on_interrupt`` (e.g. cancel the remote job) returns what happened to the
        work; the cached client is dropped, since its connection was cut mid-request.
        """
        try:
            return fn()
        except KeyboardInterrupt:
            note = "it may still finish on the server"
            if on_interrupt is not None:
                try:
                    note = on_interrupt()
                except Exception as exc:  # the cancel call itself failed
                    note = f"could not cancel it: {exc}"
            self._drop_client()
            raise CoCalcMagicError(f"Interrupted: stopped waiting for {what}; {note}.") from None

    def _guard(self, fn: Callable[..., Any], *args, caller: str = "magic") -> Any:
        """Turn a CoCalcError into one line (no traceback) unless show_tracebacks is set; its advice
        is the magics' (``caller``: "login" while signing in, which must not advise signing in)."""
        try:
            return fn(*args)
        except _coc_error() as exc:
            if self.show_tracebacks:
                raise
            try:
                key = self.settings().api_key
            except Exception:
                key = None
            line = scrub(f"{type(exc).__name__}: {exc.line(caller)}", key, *self._extra_secrets)
            raise CoCalcMagicError(line) from None
        finally:
            self._extra_secrets = []

    # ------------------------------------------------------------------ %cocalc
    @line_magic
    def cocalc(self, line: str = "") -> Any:
        """Use CoCalc from this notebook: ``%cocalc SUBCOMMAND [options]``.

        ``%cocalc help`` lists the subcommands; ``%cocalc SUBCOMMAND --help`` shows one's options.
        Subcommands that act on a project take ``-p PROJECT`` (id, title or unique prefix), else
        the default project (``%cocalc use``). Results can be kept: ``r = %cocalc exec ls``,
        ``ps = %cocalc projects``. API keys are never magic arguments: ``%cocalc login`` asks.
        """
        name, rest = (line.strip().split(None, 1) + ["", ""])[:2]
        if name in ("", "help", "-h", "--help"):
            print(A.help_text())
            return None
        if name not in A.SUBCOMMANDS:
            raise A.unknown_subcommand(name)
        try:
            if name == "exec":
                opts, command = A.split_exec(rest)
                args = A.parse("exec", opts)
                if not command:
                    A.parser_for("exec").error("missing COMMAND (the shell command to run)")
                args.command = A.unquote_whole(command)
            else:
                args = A.parse(name, A.split(rest))
        except A.HelpShown:
            return None
        return self._guard(getattr(self, f"_do_{name}"), args, caller="login" if name == "login" else "magic")

    # --- account and settings
    def _do_ping(self, a):
        cc = self.client()
        pong = self._call(cc.ping, "the server's answer")
        if result_fate() == "kept":
            return pong
        now = clock_text(pong.now) if pong.now else "?"
        sys.stdout.write(f"pong from {cc.host}: API {pong.api}, server time {now}, "
                         f"latency {pong.latency_s * 1000:.1f} ms\n")
        return None

    def _do_whoami(self, a):
        from . import account  # whoami and login: account.py, loaded when used

        return account.whoami(self, a)

    def _do_login(self, a):
        from . import account

        return account.login(self, a)

    def _do_logout(self, a):
        from .. import settings

        path = settings.credentials_path()
        existed = os.path.exists(path)
        settings.clear_credentials()
        self._settings_cache.clear()
        self._drop_client()
        print(f"Removed the saved credentials ({path})." if existed else f"No saved credentials ({path}).")
        if os.environ.get("COCALC_API_KEY"):
            print("Note: COCALC_API_KEY is still set in this environment.")
        return None

    # --- projects
    def _do_projects(self, a):
        cc = self.client()
        text = " ".join(a.text) or None
        ps = self._call(lambda: cc.projects(all=a.all, search=text), "the project list")
        self._remember_titles([p.title for p in ps], complete=text is None)
        return ps

    def _do_use(self, a):
        cc = self.client()
        ref = " ".join(a.ref)
        if a.create:  # get or create by exact title: a notebook run twice uses one project
            p = self._call(lambda: cc.project(ref, create=True), f"project {ref!r}")
        else:
            p = self._project(cc, ref)
        self._used_project = p.project_id
        self._remember_titles([p.title])
        print(f"{'Created project' if p.created else 'Default project:'} {p.title} ({p.project_id})"
              f"{'; it is the default project from now on' if p.created else ''}")
        return None

    def _do_create(self, a):
        cc = self.client()
        title = " ".join(a.title)
        p = self._call(lambda: cc.create_project(title, description=a.description, start=a.start),
                       f"project {title!r} to be created")
        self._remember_titles([p.title])
        print(f"Created project {p.title} ({p.project_id}){' and started it' if a.start else ''}.")
        return p if result_fate() == "kept" else None

    def _lifecycle(self, a, verb: str):
        cc = self.client()
        p = self._project(cc, a.project or " ".join(a.ref))
        if verb == "start":
            self._call(lambda: p.start(wait=True), f"project {p.title} to start",
                       on_interrupt=lambda: "it goes on starting on the server")
        else:
            self._call(getattr(p, verb), f"project {p.title} to {verb}",
                       on_interrupt=lambda: f"the {verb} goes on on the server")
        state = self._call(p.state, "the project's state")
        print(f"Project {p.title}: {state}")
        return None

    def _do_start(self, a):
        return self._lifecycle(a, "start")

    def _do_stop(self, a):
        return self._lifecycle(a, "stop")

    def _do_restart(self, a):
        return self._lifecycle(a, "restart")

    def _do_state(self, a):
        cc = self.client()
        p = self._project(cc, a.project or " ".join(a.ref))
        state = self._call(p.state, "the project's state")
        if result_fate() == "kept":
            return state
        print(f"Project {p.title}: {state}")
        return None

    # --- files
    def _do_ls(self, a):
        cc = self.client()
        p = self._project(cc, a.project)
        entries = self._call(lambda: p.listing(a.path), f"the listing of {a.path or 'home'}")
        return Listing(entries, p.title, a.path)

    def _do_read(self, a):
        if a.into and not a.into.isidentifier():
            raise CoCalcMagicError(f"--into {a.into!r}: not a Python variable name.")
        cc = self.client()
        p = self._project(cc, a.project)
        text = self._call(lambda: p.read(a.path), f"{a.path}")
        if a.into:
            self.shell.user_ns[a.into] = text
            print(f"Read {len(text)} characters from {a.path} into {a.into}.")
            return None
        if a.next_cell:
            self.shell.set_next_input(text, replace=False)
            return None
        if result_fate() == "kept":
            return text
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
        return None

    def _do_push(self, a):
        return T.push(self, a)

    def _do_pull(self, a):
        return T.pull(self, a)

    def _do_sync(self, a):
        from .sync import sync

        return sync(self, a)

    def _do_copy(self, a):
        cc = self.client()
        p = self._project(cc, a.project)
        target = self._project(cc, a.to)
        self._call(lambda: p.copy_to(target, a.src, a.dest), f"the copy of {a.src}",
                   on_interrupt=lambda: "the copy may still complete on the server")
        print(f"Copied {a.src} from {p.title} to {target.title}:{a.dest or a.src}")
        return None

    # --- commands
    def _do_exec(self, a):
        cc = self.client()
        p = self._project(cc, a.project)
        out = T.run_command(self, cc, p, a.command, a.timeout)
        return out if result_fate() == "kept" else None

    def _do_token(self, a):
        cc = self.client()
        password = None
        if a.ask_password:
            from .account import ask_secret

            password = ask_secret("Password of the account (not stored): ")
            self._extra_secrets = [password]
        token = self._call(lambda: cc.auth_token(account_id=a.account, password=password), "the auth token")
        return MaskedToken(token)

    # --- views (the panel helper builds them; imported only here)
    def _do_open(self, a):
        from ..panel import open_view

        cc = self.client()
        p = self._project(cc, a.project)
        return open_view(cc, p, a.path)

    def _do_panel(self, a):
        from ..panel import CoCalcPanel

        return CoCalcPanel(client=self.client())

    # ------------------------------------------------------------------ cell magics
    @cell_magic
    def cocalc_write(self, line: str, cell: str) -> None:
        """``%%cocalc_write [-p PROJECT] [-a] PATH``: write the cell's body to PATH in a project.

        Like ``%%writefile``: prints Writing / Overwriting / Appending to; ``-a`` appends. The body
        is written exactly as typed (never variable-expanded).
        """
        try:
            args = A.parse("%%cocalc_write", A.split(line))
        except A.HelpShown:
            return None
        return self._guard(self._write, args, cell)

    def _write(self, a, cell: str) -> None:
        cc = self.client()
        p = self._project(cc, a.project)
        exists = self._call(lambda: p.exists(a.path), a.path)
        content = cell
        if a.append and exists:
            content = self._call(lambda: p.read(a.path), a.path) + cell
            verb = "Appending to"
        else:
            verb = "Overwriting" if exists else "Writing"
        T.check_size(self, cc, a.path, len(content.encode("utf-8")), binary=False)
        self._call(lambda: p.write(a.path, content), f"the write of {a.path}")
        print(f"{verb} {a.path}")
        return None

    @cell_magic
    def cocalc_exec(self, line: str, cell: str) -> Any:
        """``%%cocalc_exec [-p PROJECT] [--timeout S]``: run the cell as a bash script in a project."""
        try:
            args = A.parse("%%cocalc_exec", A.split(line))
        except A.HelpShown:
            return None
        return self._guard(self._exec_cell, args, cell)

    def _exec_cell(self, a, cell: str) -> Any:
        cc = self.client()
        p = self._project(cc, a.project)
        out = T.run_command(self, cc, p, cell, a.timeout)
        return out if result_fate() == "kept" else None

    # ------------------------------------------------------------------ completion
    def _remember_titles(self, titles: list[str], complete: bool = False) -> None:
        if complete:
            self._titles = list(dict.fromkeys(titles))
            self._titles_at = time.monotonic()
        else:
            self._titles = list(dict.fromkeys([*self._titles, *titles]))

    def project_titles(self) -> list[str]:
        """Cached titles for completion; a stale cache is refreshed in the background, never waited for."""
        if time.monotonic() - self._titles_at > TITLE_CACHE_SECONDS and not self._refreshing:
            self._refreshing = True
            threading.Thread(target=self._refresh_titles, name="cocalc-magic-titles", daemon=True).start()
        return list(self._titles)

    def _refresh_titles(self) -> None:
        try:
            s = self.settings()
            if not s.api_key:
                return
            from ..client import CoCalc

            cc = CoCalc(host=s.host, api_key=s.api_key, api=self.api, timeout=s.timeout or 10)
            self._remember_titles([p.title for p in cc.projects()], complete=True)
        except Exception:
            self._titles_at = time.monotonic()  # do not hammer a failing server; retry after the TTL
        finally:
            self._refreshing = False

    def _complete(self, event) -> list[str]:
        try:
            return A.complete(event.text_until_cursor, event.symbol, self.project_titles)
        except Exception:
            return []


def _coc_error() -> type:
    """``errors.CoCalcError``, imported on first use (an ``except`` clause evaluates this only
    when an exception is on its way, so a successful call pays nothing)."""
    from ..errors import CoCalcError

    return CoCalcError
