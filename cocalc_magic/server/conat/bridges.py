"""The current API generation: the conat bridges ``POST /api/conat/hub`` and
``POST /api/conat/project`` (CoCalc's ``next/pages/api/conat/{hub,project}.ts`` and
``server/api/{hub,project}-bridge.ts`` at 5cb3315c30).

Every reply is HTTP 200 JSON: the function's bare return value, or ``{"error": text}``; the one
exception is a JSON body that does not parse (400 ``Invalid JSON``, plain text), and a body over
Next.js' 1 MB parser limit (413, see ``NextApiHandler``). The body is read only as JSON or form
fields, and only on POST (a GET's query string is never read: recorded ``hub-get-query-string``).
Auth is an API key only; cookies are ignored. The bridge waits ``timeout`` ms (default 15000)
and then answers with conat's 408 text, while the call itself runs on, as CoCalc's does.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .. import hub
from .. import project as project_api
from ..core import access
from ..core.jsvalues import RemoteError, spread_args
from ..http import AuthProblem
from ..v2.base import NextApiHandler

log = logging.getLogger("cocalc_magic.server.current")

DEFAULT_TIMEOUT_MS = 15000
HUB_NOT_SIGNED_IN = "must be signed in and MUST provide an api key (cookies are not allowed)"
PROJECT_NOT_SIGNED_IN = "must sign in as project or account"


def _timeout_s(value: Any) -> float:
    try:
        ms = float(value)
    except (TypeError, ValueError):
        ms = DEFAULT_TIMEOUT_MS
    if ms != ms or ms <= 0:  # NaN or nonsense: the default
        ms = DEFAULT_TIMEOUT_MS
    return ms / 1000.0


async def _bounded(coro, timeout_s: float, subject: str, name: Any) -> Any:
    """Run ``coro`` (it keeps running after a timeout, as the remote call would)."""
    task = asyncio.ensure_future(coro)
    try:
        return await asyncio.wait_for(asyncio.shield(task), timeout_s)
    except asyncio.TimeoutError:
        task.add_done_callback(_swallow)
        raise RemoteError(f"timeout - callHub: subject='{subject}', name='{_shown(name)}', code='408' ") from None


def _shown(name: Any) -> str:
    """The function name as conat's error texts show it."""
    return name if isinstance(name, str) else "undefined"


def _swallow(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()


class BridgeHandler(NextApiHandler):
    def params_and_caller(self) -> tuple[dict, access.Caller | None] | None:
        """The body and whom its key belongs to (None: unknown key); None once an answer was
        sent (a body that does not parse, a missing or malformed Authorization header)."""
        params = self.params_or_reply()
        if params is None:
            return None
        try:
            key = self.api_key()
        except AuthProblem as exc:
            self.write_json({"error": str(exc)})
            return None
        return params, access.resolve_key(self.ctx, key)

    async def reply(self, fn) -> None:
        try:
            result = await fn()
        except RemoteError as exc:
            self.write_json({"error": exc.text})
            return
        except Exception as exc:  # noqa: BLE001 - the bridge never fails with a non-200
            log.exception("conat bridge call failed")
            self.write_json({"error": f"Error: {exc}"})
            return
        self.write_json(result)

    async def get(self) -> None:  # Next runs the route for any method; only POST bodies are read
        await self.post()

    put = patch = delete = get


class HubBridge(BridgeHandler):
    async def post(self) -> None:
        got = self.params_and_caller()
        if got is None:
            return
        params, caller = got
        if caller is None or not caller.account_id:
            self.write_json({"error": HUB_NOT_SIGNED_IN})
            return
        account_id = caller.account_id
        name, args = params.get("name"), params.get("args", [])
        subject = f"hub.account.{account_id}.api"
        await self.reply(lambda: _bounded(
            hub.call(self.ctx, account_id, name, args), _timeout_s(params.get("timeout")), subject, name
        ))


class ProjectBridge(BridgeHandler):
    async def post(self) -> None:
        got = self.params_and_caller()
        if got is None:
            return
        params, caller = got
        if caller is None:
            self.write_json({"error": PROJECT_NOT_SIGNED_IN})
            return
        project_id = params.get("project_id") or caller.project_id
        if not project_id:
            self.write_json({"error": "must specify project_id or use project-specific api key"})
            return
        if caller.project_id and caller.project_id != project_id:
            self.write_json({"error": "project specific api key must match requested project"})
            return
        if caller.account_id:
            try:
                ok = access.is_collaborator(self.ctx, caller.account_id, project_id)
            except ValueError as exc:
                self.write_json({"error": str(exc)})
                return
            if not ok:
                self.write_json({"error": "user must be a collaborator on the project"})
                return
        name, args = params.get("name"), params.get("args", [])
        if name == "system.test":  # the bridge tells the project which project it is
            first = args[0] if isinstance(args, list) and args and isinstance(args[0], dict) else {}
            args = [{**first, "project_id": project_id}]
        csid = params.get("compute_server_id") or 0
        subject = f"project.{project_id}.{csid}.api.-"
        if csid not in (0, "0"):
            # No compute servers here: nothing listens on that subject. conat's text for it
            # (the real bridge would first wait for interest until its timeout; a guess).
            self.write_json({"error": f"request -- no subscribers matching '{subject}' - callHub: "
                                      f"subject='{subject}', name='{_shown(name)}', code='503' "})
            return

        async def forward() -> Any:
            # CoCalc touches (starts) the project first; waitForInterest makes the wait for it
            # part of the request's timeout.
            self.store.touch_project(project_id)
            await self.runtime.ensure_running(project_id)
            return await project_api.call(self.ctx, project_id, name, spread_args(args))

        await self.reply(lambda: _bounded(forward(), _timeout_s(params.get("timeout")), subject, name))


def routes(ctx) -> list:
    return [
        (r"/api/conat/hub/?", HubBridge, {"ctx": ctx}),
        (r"/api/conat/project/?", ProjectBridge, {"ctx": ctx}),
    ]
