"""The v1 project messages: create_project, query, project_exec, text files and copies
(a mixin of ``V1Handler``), with ``_CopyOp``, rsync's semantics in Python."""
from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from ..core import homes
from ..core.execute import ExecOptions, project_env, run
from ..core.jsvalues import RemoteError, js_str
from ..core.store import is_uuid, new_uuid, now_ms
from ..core.userquery import is_public, iso, parse_time, user_query
from .schemas import Caller, V1Error, _js_json, _number, _pg_uuid, _truthy


class ProjectMessages:
    async def m_create_project(self, m: dict, caller: Caller) -> dict:
        if not caller.account_id:
            raise V1Error("You must be signed in to create a new project.")
        title = m.get("title")
        description = m.get("description")
        try:
            project_id = self.store.create_project(
                caller.account_id, "" if title is None else js_str(title),
                "" if description is None else js_str(description),
            )
            if m.get("image"):
                self.store.update_project(project_id, compute_image=js_str(m["image"]))
        except Exception as exc:  # noqa: BLE001
            raise V1Error(f"Failed to create new project '{js_str(title)}' -- {_js_json(str(exc))}") from None
        reply = self.ok("project_created", m, project_id=project_id)
        if _truthy(m.get("start")):
            self.runtime.request_start(project_id)  # answered before the project runs, as CoCalc does
        return reply

    async def m_query(self, m: dict, caller: Caller) -> dict:
        result = user_query(self.ctx, caller.id, m["query"], m.get("options"))
        # The hub answers with the request message itself, its `query` replaced by the result:
        # key order = the body's keys, then defaults, then event and id (recorded).
        body = self.params()
        out: dict[str, Any] = {}
        for key in body:
            if key in m and key != "id":
                out[key] = result if key == "query" else m[key]
        out.setdefault("query", result)
        out.setdefault("multi_response", m["multi_response"])
        out["event"] = "query"
        out["id"] = m["id"]
        return out

    # ------------------------------------------------------------------ exec and files
    async def m_project_exec(self, m: dict, caller: Caller) -> dict:
        pid = self.access(caller, m["project_id"], "write")
        command = m["command"]
        if not isinstance(command, str):
            command = js_str(command)
        if command == "smc-jupyter":
            raise V1Error("do not run smc-jupyter directly")
        args = m.get("args")
        if args is None:
            args = []
        elif not isinstance(args, list):
            args = [args]
        args = [js_str(a) for a in args]
        timeout = _number(m.get("timeout", 10), "timeout")
        max_output = m.get("max_output")
        max_output = int(_number(max_output, "max_output")) if max_output is not None else None
        await self.runtime.ensure_running(pid)
        home = self.store.home(pid)
        try:
            cwd = homes.resolve(home, str(m.get("path") or ""))
        except (homes.PathOutsideHome, homes.NullByte) as exc:
            raise V1Error(f"Error: {exc}") from None
        opts = ExecOptions(command=command, args=args, cwd=cwd, timeout=timeout, max_output=max_output,
                           bash=_truthy(m.get("bash")))
        prefix = f"Error executing command '{command}' with args '{js_str(args)}' -- "
        try:
            outcome = await run(opts, project_env(home, pid), self.runtime.processes, pid)
        except RemoteError as exc:  # what spawn throws at once (E2BIG, a NUL byte): execute-code's text
            raise V1Error(f"{prefix}{exc.text}") from None
        if outcome.killed:
            raise V1Error(f"{prefix}killed command '{outcome.spawned}', undefined, undefined")
        stdout, stderr = outcome.stdout, outcome.stderr
        if outcome.spawn_error:
            stderr = _js_json(outcome.spawn_error)
        if outcome.exit_code and _truthy(m.get("err_on_exit", True)):
            what = f"command '{command}'" if outcome.bash else f"command '{command}' (args={' '.join(args)})"
            raise V1Error(
                f"{prefix}{what} exited with nonzero code {outcome.exit_code} -- stderr='{stderr[:1024]}', undefined, undefined"
            )
        if outcome.spawn_error:  # execute-code.ts@a50170846e: `!ran_code`, "regardless of opts.err_on_exit!"
            what = f"command '{command}' (args={' '.join(args)})"
            raise V1Error(f"{prefix}{what} was not able to run -- stderr='{stderr[:1024]}', undefined, undefined")
        return self.ok("project_exec_output", m, stdout=stdout, stderr=stderr, exit_code=outcome.exit_code)

    async def _read_one(self, caller: Caller, project_id: Any, path: Any) -> str:
        pid = self.access(caller, project_id, "read")
        if not isinstance(path, str):
            raise V1Error(f"Error: path must be a string, not '{js_str(path)}'")
        await self.runtime.ensure_running(pid)
        try:
            return await self.in_thread(homes.read_text, self.store.home(pid), path)
        except (OSError, ValueError) as exc:
            raise V1Error(f"Error: {exc}") from None

    async def m_read_text_file_from_project(self, m: dict, caller: Caller) -> dict:
        project_id, path = m["project_id"], m["path"]
        if isinstance(project_id, list) or isinstance(path, list):
            if isinstance(project_id, list) and not (isinstance(path, list) and len(path) == len(project_id)):
                raise V1Error("if project_id is an array, then path must be an array of the same length")
            pairs = list(zip(project_id, path)) if isinstance(project_id, list) else [(project_id, p) for p in path]

            async def one(pid: Any, p: Any) -> dict:
                try:
                    return {"project_id": pid, "path": p, "content": await self._read_one(caller, pid, p)}
                except V1Error as exc:
                    return {"project_id": pid, "path": p, "error": str(exc)}

            content = await asyncio.gather(*(one(pid, p) for pid, p in pairs))
            return self.ok("text_file_read_from_project", m, content=list(content))
        return self.ok("text_file_read_from_project", m, content=await self._read_one(caller, project_id, path))

    async def m_write_text_file_to_project(self, m: dict, caller: Caller) -> dict:
        pid = self.access(caller, m["project_id"], "write")
        path, content = m["path"], m["content"]
        if not isinstance(path, str) or not path:
            raise V1Error(f"Error: path must be a non-empty string, not '{js_str(path)}'")
        if not isinstance(content, str):
            content = js_str(content) if not isinstance(content, (dict, list)) else _js_json(content)
        await self.runtime.ensure_running(pid)
        try:
            await self.in_thread(homes.write_text, self.store.home(pid), path, content)
        except (OSError, ValueError) as exc:
            raise V1Error(f"Error: {exc}") from None
        return self.ok("file_written_to_project", m)

    # ------------------------------------------------------------------ copies
    async def m_copy_path_between_projects(self, m: dict, caller: Caller) -> dict:
        src, target = m["src_project_id"], m["target_project_id"]
        for name, value in (("src_project_id", src), ("target_project_id", target)):
            if not is_uuid(value):
                raise V1Error(f"{name}='{js_str(value)}' not valid")
        self._copy_write_access(caller, target)
        self._copy_read_access(caller, src)
        op = _CopyOp.from_mesg(m)
        copy_id = new_uuid()
        scheduled = parse_time(m["scheduled"]) if m.get("scheduled") is not None else None
        if m.get("scheduled") is not None and scheduled is None:
            raise V1Error(f"scheduled='{js_str(m['scheduled'])}' is not a valid date")
        self.store.execute(
            "INSERT INTO copy_paths (id, time, source_project_id, source_path, target_project_id, target_path,"
            " overwrite_newer, delete_missing, backup, scheduled, exclude) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (copy_id, now_ms(), src, op.src_path, target, op.target_path, int(op.overwrite_newer),
             int(op.delete_missing), int(op.backup), scheduled, _js_json(op.exclude) if op.exclude else None),
        )
        if scheduled is not None and scheduled > now_ms():
            asyncio.get_running_loop().call_later(
                (scheduled - now_ms()) / 1000.0, lambda: asyncio.ensure_future(self._run_copy(copy_id, op))
            )
            # A scheduled copy can be polled or deleted only by its id, so it is returned here
            # (an immediate copy on a self-hosted server answers copy_path_id "": recorded).
            return self.ok("copy_path_between_projects_response", m, copy_path_id=copy_id, note=COPY_NOTE)
        error = await self._run_copy(copy_id, op)
        if error and _truthy(m.get("wait_until_done")):
            raise V1Error(error)
        return self.ok("copy_path_between_projects_response", m, copy_path_id="", note=COPY_NOTE)

    async def _run_copy(self, copy_id: str, op: "_CopyOp") -> str | None:
        row = self.store.query_one("SELECT * FROM copy_paths WHERE id=?", (copy_id,))
        if not row or row["started"] is not None:
            return None
        self.store.execute("UPDATE copy_paths SET started=? WHERE id=?", (now_ms(), copy_id))
        error = None
        try:
            await self.runtime.ensure_running(op.src)
            await self.runtime.ensure_running(op.target)
            await self.in_thread(op.run, self.store)
        except Exception as exc:  # noqa: BLE001 - recorded in the copy's row
            error = str(exc)
        self.store.execute("UPDATE copy_paths SET finished=?, error=? WHERE id=?", (now_ms(), error, copy_id))
        return error

    # hub/copy-path.ts: its access checks and texts
    def _copy_read_access(self, caller: Caller, project_id: Any) -> None:
        if not is_uuid(project_id):
            raise V1Error(f"invalid src_project_id={js_str(project_id)}")
        if not self.can_write(caller, project_id):
            raise V1Error(f"ACCESS BLOCKED -- No read access to source project -- {project_id}")

    def _copy_write_access(self, caller: Caller, project_id: Any) -> None:
        if not is_uuid(project_id):
            raise V1Error(f"invalid target_project_id={js_str(project_id)}")
        if not self.can_write(caller, project_id):
            raise V1Error(f"ACCESS BLOCKED -- No write access to target project -- {project_id}")

    @staticmethod
    def _sanitize(value: Any, default: int, maximum: int, name: str) -> int:
        if value is None:
            return default
        try:
            n = int(value) if not isinstance(value, str) else int(re.match(r"\s*[-+]?\d+", value).group())  # parseInt
        except (TypeError, ValueError, AttributeError, OverflowError):
            n = -1
        if n < 0 or n > maximum:
            raise V1Error(f"ILLEGAL VALUE {name}='{js_str(value)}' (must be in [0, {maximum}])")
        return n

    def _copy_op_row(self, caller: Caller, copy_id: Any, not_yet_done: bool = False) -> dict:
        _pg_uuid(copy_id)
        sql = "SELECT * FROM copy_paths WHERE id=?"
        if not_yet_done:
            sql += " AND scheduled IS NOT NULL AND finished IS NULL"
        row = self.store.query_one(sql, (copy_id,))
        if not row:
            if not_yet_done:
                raise V1Error(f"Copy operation '{copy_id}' either does not exist or already finished")
            raise V1Error(f"Can't find copy operation with ID={copy_id}")
        self._copy_write_access(caller, row["target_project_id"])
        self._copy_read_access(caller, row["source_project_id"])
        return row

    async def m_copy_path_status(self, m: dict, caller: Caller) -> dict:
        src, target = m.get("src_project_id"), m.get("target_project_id")
        if src is None and target is None:
            if m.get("copy_path_id") is None:
                raise V1Error("'copy_path_id' (UUID) of a copy operation or 'src_project_id/target_project_id' must be defined")
            row = self._copy_op_row(caller, m["copy_path_id"])
            return self.ok("copy_path_status_response", m, data=_copy_row(row))
        where, params = [], []
        if src is not None:
            self._copy_read_access(caller, src)
            where.append("source_project_id=?")
            params.append(src)
        if target is not None:
            self._copy_write_access(caller, target)
            where.append("target_project_id=?")
            params.append(target)
        if m.get("src_path") is not None:
            where.append("source_path=?")
            params.append(js_str(m["src_path"]))
        pending = m.get("pending")
        if m.get("failed") in (True, "true"):  # all failed ones are implicitly also finished
            where.append("error IS NOT NULL")
            pending = False
        where.append("finished IS NULL" if pending in (True, "true") else "finished IS NOT NULL")
        offset = self._sanitize(m.get("offset"), 0, 100_000, "offset")
        limit = self._sanitize(m.get("limit"), 1000, 1000, "limit")
        rows = self.store.query(
            f"SELECT * FROM copy_paths WHERE {' AND '.join(where)} ORDER BY time DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return self.ok("copy_path_status_response", m, data=[_copy_row(r) for r in rows])

    async def m_copy_path_delete(self, m: dict, caller: Caller) -> dict:
        """Only a scheduled copy that has not finished can be deleted (copy-path.ts)."""
        copy_id = m.get("copy_path_id")
        self._copy_op_row(caller, copy_id, not_yet_done=True)
        self.store.execute("DELETE FROM copy_paths WHERE id=?", (copy_id,))
        return self.ok("copy_path_status_response", m, data=f"copy_path_id = '{copy_id}' deleted")

    async def m_copy_public_path_between_projects(self, m: dict, caller: Caller) -> dict:
        src, target = m["src_project_id"], m["target_project_id"]
        if not is_uuid(target) or not self.can_write(caller, target):
            raise V1Error(f"user must have write access to target project {js_str(target)}")
        real = self._public_source(src, js_str(m["src_path"])) if is_uuid(src) else None
        if real is None:
            raise V1Error(f"path '{js_str(m['src_path'])}' of project with id '{js_str(src)}' is not public")
        op = _CopyOp.from_mesg(m)
        op.src_path = real
        await self.runtime.ensure_running(target)
        try:
            await self.in_thread(op.run, self.store)
        except Exception as exc:  # noqa: BLE001
            raise V1Error(str(exc)) from None
        return self.ok("success", m)


    def _public_source(self, project_id: str, path: str) -> str | None:
        """Where ``path`` really is in the project (``..`` and symlinks resolved), if both it and
        that place are public; None otherwise. CoCalc's ``containing_public_path`` denies any
        ``../``; checking the resolved place as well stops ``pub/..``, absolute paths and links
        inside a public folder that point at private files."""
        if "../" in path or self.store.project(project_id) is None:
            return None
        home = self.store.home(project_id)
        try:
            real = homes.resolve(home, path)
        except (homes.PathOutsideHome, ValueError):
            return None
        rel = os.path.relpath(real, os.path.realpath(home))
        rel = "" if rel == "." else rel
        return rel if is_public(self.store, project_id, path) and is_public(self.store, project_id, rel) else None


COPY_NOTE = "Query copy_path_status with the copy_path_id to learn if the copy operation was successful."


def _copy_row(row: dict) -> dict:
    return {
        "copy_path_id": row["id"], "time": iso(row["time"]), "source_project_id": row["source_project_id"],
        "source_path": row["source_path"], "target_project_id": row["target_project_id"],
        "target_path": row["target_path"], "overwrite_newer": bool(row["overwrite_newer"]),
        "delete_missing": bool(row["delete_missing"]), "backup": bool(row["backup"]),
        "started": iso(row["started"]), "finished": iso(row["finished"]), "scheduled": iso(row["scheduled"]),
        "error": row["error"], "exclude": json.loads(row["exclude"]) if row["exclude"] else None,
    }


class _CopyOp:
    """rsync's semantics, in Python: a file or a directory from one HOME into another.

    Without ``overwrite_newer`` a newer target file is kept (``rsync --update``);
    ``delete_missing`` removes target files the source lacks; ``backup`` keeps a ``~`` copy of
    each replaced file; ``exclude`` patterns (fnmatch) skip names.
    """

    def __init__(self, src: str, src_path: str, target: str, target_path: str, overwrite_newer: bool,
                 delete_missing: bool, backup: bool, exclude: list[str] | None):
        self.src, self.src_path, self.target, self.target_path = src, src_path, target, target_path
        self.overwrite_newer, self.delete_missing, self.backup = overwrite_newer, delete_missing, backup
        self.exclude = exclude or []

    @classmethod
    def from_mesg(cls, m: dict) -> "_CopyOp":
        src_path = js_str(m["src_path"])
        target_path = m.get("target_path")
        target_path = src_path if target_path is None else js_str(target_path)
        exclude = m.get("exclude")
        if exclude is not None and not isinstance(exclude, list):
            exclude = [exclude]
        return cls(m["src_project_id"], src_path, m["target_project_id"], target_path,
                   _truthy(m.get("overwrite_newer")), _truthy(m.get("delete_missing")),
                   _truthy(m.get("backup")), [js_str(e) for e in exclude] if exclude else None)

    def _excluded(self, name: str) -> bool:
        return any(fnmatch.fnmatch(name, pat) for pat in self.exclude)

    def run(self, store) -> None:
        src_home, dst_home = store.home(self.src), store.home(self.target)
        src = homes.resolve(src_home, self.src_path)
        dst = homes.resolve(dst_home, self.target_path)
        if not src.exists():
            raise FileNotFoundError(f"rsync: link_stat \"{src}\" failed: No such file or directory (2)")
        if src.is_dir():
            self._copy_dir(src, dst, dst_home)
        else:
            if dst.is_dir() and self.target_path.endswith("/"):
                dst = dst / src.name
            self._copy_file(src, dst, dst_home)

    def _copy_file(self, src, dst, dst_home) -> None:
        dst = homes.copy_target_file(dst_home, dst)  # inside HOME; a link in its place is replaced
        if dst.exists() and not self.overwrite_newer and dst.stat().st_mtime > src.stat().st_mtime:
            return
        if dst.exists() and self.backup:
            shutil.copy2(dst, homes.copy_target_file(dst_home, Path(str(dst) + "~")))
        tmp = dst.with_name(f".~cocalc-copy-{uuid.uuid4().hex[:8]}")
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)

    def _copy_dir(self, src, dst, dst_home) -> None:
        dst = homes.copy_target_dir(dst_home, dst)  # a real folder inside HOME, never a link's target
        names = set()
        for entry in os.scandir(src):
            if self._excluded(entry.name):
                continue
            names.add(entry.name)
            if entry.is_symlink():
                continue  # never follow a link out of the source HOME
            if entry.is_dir():
                self._copy_dir(src / entry.name, dst / entry.name, dst_home)
            else:
                self._copy_file(src / entry.name, dst / entry.name, dst_home)
        if self.delete_missing:
            for entry in os.scandir(dst):
                if entry.name not in names and not self._excluded(entry.name):
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry.path)
                    else:
                        os.unlink(entry.path)
