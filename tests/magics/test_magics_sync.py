"""``%cocalc sync`` as a user types it, on every API generation: the report shown as a table,
kept in a variable, the flags, and one-line errors."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from cocalc_magic import CoCalc
from cocalc_magic.client.sync import SyncReport
from magic_helpers import run

GENERATIONS = ["v1", "conat", "ai"]
every_generation = pytest.mark.parametrize("cocalc_server", GENERATIONS, indirect=True)


@pytest.fixture
def proj(cocalc_server, clean_env, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)  # the state goes under the test's HOME
    monkeypatch.setenv("COCALC_HOST", cocalc_server.url)
    monkeypatch.setenv("COCALC_API_KEY", cocalc_server.api_key)
    cc = CoCalc(host=cocalc_server.url, api_key=cocalc_server.api_key)
    pid = getattr(cocalc_server, "project_id", None)
    p = cc.project(pid) if pid else cc.create_project(f"sync-magic-{uuid.uuid4().hex[:6]}")
    monkeypatch.setenv("COCALC_PROJECT_ID", p.project_id)
    return p


def folder(name: str, files: dict[str, str]) -> Path:
    root = Path(name)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@every_generation
def test_sync_shows_a_table_and_goes_both_ways(ip, proj):
    name = f"res-{uuid.uuid4().hex[:6]}"
    local = folder(name, {"summary.csv": "run,score\n1,0.9\n", "notes.md": "# Notes\n"})
    r = run(ip, f"%cocalc sync {name}")
    assert r.ok, r
    (html,) = [o["text/html"] for o in r.outputs if "text/html" in o]
    assert "uploaded" in html and "summary.csv" in html and "<table" in html
    assert proj.read(f"{name}/summary.csv") == "run,score\n1,0.9\n"
    (local / "summary.csv").write_text("run,score\n1,0.9\n2,0.95\n")
    proj.exec(f"echo '- checked' >> {name}/notes.md", bash=True)
    r = run(ip, f"rep = %cocalc sync {name}")
    assert r.ok and not r.outputs, r  # kept, not shown
    rep = ip.user_ns["rep"]
    assert isinstance(rep, SyncReport)
    assert rep.uploaded == ["summary.csv"] and rep.downloaded == ["notes.md"]
    assert (local / "notes.md").read_text() == "# Notes\n- checked\n"
    assert re.fullmatch(r"SyncReport\([^\n]*\)", repr(rep))


@every_generation
def test_dry_run_delete_and_exclude(ip, proj):
    name = f"flags-{uuid.uuid4().hex[:6]}"
    local = folder(name, {"keep.txt": "k\n", "drop.txt": "d\n", "skip.log": "noise\n", "b.log": "x\n"})
    r = run(ip, f"rep = %cocalc sync {name} --dry-run")
    assert r.ok and ip.user_ns["rep"].dry_run and sorted(ip.user_ns["rep"].uploaded) == [
        "b.log", "drop.txt", "keep.txt", "skip.log"]
    assert proj.exec(f"ls {name}", bash=True).exit_code != 0  # nothing made
    r = run(ip, f"rep = %cocalc sync {name} --exclude '*.log'")
    assert r.ok and sorted(ip.user_ns["rep"].uploaded) == ["drop.txt", "keep.txt"]
    (local / "drop.txt").unlink()
    r = run(ip, f"rep = %cocalc sync {name} --exclude '*.log'")
    assert ip.user_ns["rep"].skipped == ["drop.txt"]
    assert proj.exec(f"test -e {name}/drop.txt").exit_code == 0
    r = run(ip, f"rep = %cocalc sync {name} --delete --exclude '*.log'")
    assert ip.user_ns["rep"].deleted_remote == ["drop.txt"]
    assert proj.exec(f"test -e {name}/drop.txt").exit_code != 0


@every_generation
def test_errors_are_one_line(ip, proj):
    folder("here", {"a.txt": "a\n"})
    r = run(ip, "%cocalc sync here /etc")
    assert not r.ok
    text = (r.stdout + r.stderr).strip()
    assert "outside the project's home" in text and "\n" not in text and "Traceback" not in text
    r = run(ip, "%cocalc sync no-such-folder-anywhere")
    text = (r.stdout + r.stderr).strip()
    assert not r.ok and "nothing to sync" in text and "\n" not in text


@every_generation
def test_help_names_the_flags(ip, proj):
    r = run(ip, "%cocalc sync --help")
    for flag in ("--dry-run", "--delete", "--exclude", "LOCAL", "REMOTE", "conflict"):
        assert flag in r.stdout
    assert "sync" in run(ip, "%cocalc help").stdout


@pytest.mark.parametrize("cocalc_server", ["ai"], indirect=True)
def test_a_missing_capability_on_ai_is_one_line(ip, proj, cocalc_server, monkeypatch):
    key = cocalc_server.create_key(["account:read", "project:read", "project:list", "file:read", "file:write"])
    monkeypatch.setenv("COCALC_API_KEY", key)
    folder("caps", {"a.txt": "a\n"})
    r = run(ip, "%cocalc sync caps")
    text = (r.stdout + r.stderr).strip()
    assert not r.ok and "'project:exec'" in text and "\n" not in text and key not in text


@every_generation
def test_ctrl_c_says_what_became_of_the_work(ip, proj, monkeypatch):
    from cocalc_magic.client import Project

    folder("cut", {f"f{i}.txt": f"{i}\n" for i in range(3)})

    def interrupted(self, path, content):
        raise KeyboardInterrupt

    monkeypatch.setattr(Project, "write", interrupted)
    r = run(ip, "%cocalc sync cut")
    text = (r.stdout + r.stderr).strip()
    assert not r.ok and "\n" not in text and "Traceback" not in text
    assert "Interrupted" in text and "run the same %cocalc sync again to finish" in text
