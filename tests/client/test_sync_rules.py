"""The sync's decisions on plain data: every rule of a two-way sync, without a server."""

from __future__ import annotations

from datetime import date

from cocalc_magic.client.sync.excludes import Excludes
from cocalc_magic.client.sync.rules import Base, Entry, conflict_name, plan

DAY = date(2026, 12, 1)


def f(sha: str, mode: int = 0o644) -> Entry:
    return Entry("f", sha, mode)


def ops(p) -> list[tuple[str, str]]:
    return sorted((s.op, s.dest) for s in [*p.transfers, *p.remote_ops, *p.local_ops])


def test_one_sided_changes_are_copied_each_way():
    state = {"a": Base("1", "1", 0o644), "b": Base("1", "1", 0o644)}
    p = plan({"a": f("2"), "b": f("1")}, {"a": f("1"), "b": f("3")}, state, set(), today=DAY)
    assert ops(p) == [("download", "b"), ("upload", "a")]
    assert not p.conflicts and not p.skipped


def test_both_sided_change_is_a_conflict_keeping_both_versions():
    p = plan({"d/x.csv": f("L")}, {"d/x.csv": f("R")}, {"d/x.csv": Base("0", "0")}, set(), today=DAY)
    assert [c.path for c in p.conflicts] == ["d/x.csv"]
    assert ops(p) == [("download", "d/x.conflict-remote-2026-12-01.csv"),
                      ("upload", "d/x.conflict-local-2026-12-01.csv")]
    # nothing is written over d/x.csv itself on either side
    assert all(s.dest != "d/x.csv" for s in p.transfers)


def test_first_sync_never_overwrites_a_differing_file():
    p = plan({"a": f("L"), "same": f("S"), "mine": f("M")}, {"a": f("R"), "same": f("S"), "theirs": f("T")},
             {}, set(), today=DAY)
    assert [c.path for c in p.conflicts] == ["a"]
    assert ("upload", "mine") in ops(p) and ("download", "theirs") in ops(p)
    assert p.records["same"] == Base("S", "S", 0o644)


def test_deletes_only_with_delete():
    state = {"gone-here": Base("1", "1"), "gone-there": Base("2", "2")}
    local = {"gone-there": f("2")}
    remote = {"gone-here": f("1")}
    keep = plan(local, remote, state, set(), today=DAY)
    assert ops(keep) == [] and set(keep.skipped) == {"gone-here", "gone-there"}
    assert "--delete" in keep.skipped["gone-here"]
    gone = plan(local, remote, state, set(), delete=True, today=DAY)
    assert ops(gone) == [("delete_local", "gone-there"), ("delete_remote", "gone-here")]
    # the delete carries the content expected there, so an edit made meanwhile is not deleted
    assert next(s for s in gone.remote_ops if s.op == "delete_remote").sha == "1"


def test_deleted_on_one_side_and_changed_on_the_other_comes_back():
    p = plan({}, {"a": f("new")}, {"a": Base("old", "old")}, set(), delete=True, today=DAY)
    assert ops(p) == [("download", "a")] and "back" in p.notes["a"]


def test_an_unresolved_conflict_is_reported_once_then_resolved_by_editing_one_side():
    state = {"a": Base("L", "R"), "a.conflict-remote-2026-12-01": Base("R", None),
             "a.conflict-local-2026-12-01": Base(None, "L")}
    local = {"a": f("L"), "a.conflict-remote-2026-12-01": f("R")}
    remote = {"a": f("R"), "a.conflict-local-2026-12-01": f("L")}
    again = plan(local, remote, state, set(), today=DAY)
    assert ops(again) == [] and not again.conflicts and "unresolved" in again.skipped["a"]
    local["a"] = f("merged")
    fixed = plan(local, remote, state, set(), today=DAY)
    assert ops(fixed) == [("upload", "a")]


def test_conflict_names_skip_taken_names_and_reuse_a_finished_copy():
    assert conflict_name("notes/a.ipynb", "remote", DAY) == "notes/a.conflict-remote-2026-12-01.ipynb"
    assert conflict_name("Makefile", "local", DAY, 2) == "Makefile.conflict-local-2026-12-01-2"
    assert conflict_name(".bashrc", "local", DAY) == ".bashrc.conflict-local-2026-12-01"
    taken = {"a": f("L"), "a.conflict-remote-2026-12-01": f("other")}
    p = plan(taken, {"a": f("R")}, {}, set(), today=DAY)
    assert p.conflicts[0].local_copy == "a.conflict-remote-2026-12-01-2"
    done = {"a": f("L"), "a.conflict-remote-2026-12-01": f("R")}  # an interrupted run made it
    p = plan(done, {"a": f("R")}, {"a.conflict-remote-2026-12-01": Base("R", None)}, set(), today=DAY)
    assert [(s.op, s.dest) for s in p.transfers] == [("upload", "a.conflict-local-2026-12-01")]


def test_empty_folders_both_ways_and_folder_deletes():
    p = plan({"e": Entry("d"), "full": Entry("d"), "full/x": f("1")}, {"r": Entry("d")}, {}, set(), today=DAY)
    assert ("mkdir_remote", "e") in ops(p) and ("mkdir_local", "r") in ops(p)
    assert ("mkdir_remote", "full") not in ops(p)  # made by its file's upload
    gone = plan({"e": Entry("d")}, {}, {}, {"e"}, today=DAY)
    assert ops(gone) == [] and "e" in gone.skipped
    assert ops(plan({"e": Entry("d")}, {}, {}, {"e"}, delete=True, today=DAY)) == [("rmdir_local", "e")]


def test_modes_follow_a_one_sided_permission_change():
    state = {"run.sh": Base("1", "1", 0o644)}
    p = plan({"run.sh": f("1", 0o755)}, {"run.sh": f("1", 0o644)}, state, set(), today=DAY)
    assert [(s.op, s.mode) for s in p.remote_ops] == [("chmod_remote", 0o755)]
    p = plan({"run.sh": f("1", 0o644)}, {"run.sh": f("1", 0o700)}, state, set(), today=DAY)
    assert [(s.op, s.mode) for s in p.local_ops] == [("chmod_local", 0o700)]


def test_links_and_unreadable_files_are_skipped_with_a_reason():
    p = plan({"l": Entry("o"), "u": Entry("f", None, error="Permission denied")}, {}, {}, set(), today=DAY)
    assert ops(p) == [] and "link" in p.skipped["l"] and "Permission denied" in p.skipped["u"]


def test_excludes():
    ex = Excludes.of(["*.log", "build/", "data/raw"])
    assert ex.excluded(".git", True) and ex.excluded("__pycache__", True)
    assert ex.covers(".git/config", False) and ex.covers("a/__pycache__/m.pyc", False)
    assert ex.covers(".ipynb_checkpoints/x-checkpoint.ipynb", False)
    assert ex.covers("deep/x.log", False) and ex.covers("build/out.o", False)
    assert not ex.covers("build", False)  # "build/" names folders only
    assert ex.covers("data/raw/big.csv", False) and not ex.covers("data/raw.csv", False)
    assert not ex.covers("src/main.py", False)
    assert ex.covers("x.cocalc-magic-b64.tmp", False)  # upload temporaries never travel


def test_many_remote_changes_are_split_under_the_argument_limit():
    from cocalc_magic.client.models import ExecResult
    from cocalc_magic.client.sync import remote

    calls = []

    class FakeProject:
        def exec(self, command, *args, timeout=None):
            calls.append(sum(len(a.encode()) for a in args))
            ops = args[3:]
            out, i = [], 0
            while i < len(ops):
                n = 3 if ops[i] in ("rm", "chmod") else 2
                out.append(f"ok {ops[i]} {ops[i + n - 1]}")
                i += n
            return ExecResult("\0".join(out) + "\0", "", 0)

    ops = [("rm", "0" * 64, f"folder/{'x' * 80}-{i}.txt") for i in range(2000)]
    done = remote.apply_ops(FakeProject(), ops)
    assert len(done) == 2000 and all(done.values())
    assert len(calls) > 1 and max(calls) < remote.ARG_BUDGET + len(remote.APPLY_SCRIPT) + 100
