"""``p.sync`` against the local server, every rule on every API generation: what both sides hold
afterwards is what a user would find in the folder and in the project."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from cocalc_magic import errors as E
from cocalc_magic.client.sync import bundle
from cocalc_magic.client.sync import local as local_side

from .sync_helpers import GENERATIONS, Side, break_writes

pytestmark = pytest.mark.parametrize("cocalc_server", GENERATIONS, indirect=True)


def test_first_sync_uploads_text_binary_modes_and_empty_folders(side: Side):
    side.put("a.txt", "hello\n")
    side.put("sub/blob.bin", bytes(range(256)) * 4)
    side.put("run.sh", "#!/bin/sh\necho hi\n", mode=0o755)
    (side.local / "empty" / "deeper").mkdir(parents=True)
    r = side.sync()
    assert sorted(r.uploaded) == ["a.txt", "empty/deeper/", "run.sh", "sub/blob.bin"]
    assert not (r.downloaded or r.conflicts or r.skipped or r.errors)
    assert side.rget("a.txt") == b"hello\n"
    assert side.rget("sub/blob.bin") == bytes(range(256)) * 4
    assert side.rmode("run.sh") == 0o755
    assert side.rkind("empty/deeper") == "directory"
    again = side.sync()
    assert not again.changed and not again.skipped and "already in sync" in again.text()


def test_one_sided_changes_go_each_way(side: Side):
    side.put("mine.txt", "v1\n")
    side.put("theirs.txt", "v1\n")
    side.sync()
    side.put("mine.txt", "v2 from here\n")
    side.rput("theirs.txt", "v2 from the project\n")
    side.rput("new/remote.bin", b"\x00\xffbinary")
    side.rexec("chmod 700 {d}/theirs.txt")
    r = side.sync()
    assert r.uploaded == ["mine.txt"] and sorted(r.downloaded) == ["new/remote.bin", "theirs.txt"]
    assert side.rget("mine.txt") == b"v2 from here\n"
    assert (side.local / "theirs.txt").read_text() == "v2 from the project\n"
    assert stat.S_IMODE(os.stat(side.local / "theirs.txt").st_mode) == 0o700
    assert (side.local / "new" / "remote.bin").read_bytes() == b"\x00\xffbinary"
    assert not side.sync().changed


def test_both_sided_change_is_a_conflict_and_no_content_is_lost(side: Side):
    side.put("notes.md", "base\n")
    side.sync()
    side.put("notes.md", "edited here\n")
    side.rput("notes.md", "edited in the project\n")
    r = side.sync()
    assert r.conflicts == ["notes.md"] and not r.uploaded and not r.downloaded
    here = {p.name: p.read_text() for p in side.local.iterdir()}
    assert here["notes.md"] == "edited here\n"
    (copy_here,) = [n for n in here if n.startswith("notes.conflict-remote-") and n.endswith(".md")]
    assert here[copy_here] == "edited in the project\n"
    there = side.rls()
    assert side.rget("notes.md") == b"edited in the project\n"
    (copy_there,) = [n for n in there if n.startswith("notes.conflict-local-")]
    assert side.rget(copy_there) == b"edited here\n"
    assert copy_here in r.notes["notes.md"] and copy_there in r.notes["notes.md"]
    # reported once: the next run copies nothing and says the conflict is open
    again = side.sync()
    assert not again.changed and "unresolved" in again.notes["notes.md"]
    # resolving it on one side settles it on both
    side.put("notes.md", "merged\n")
    fixed = side.sync()
    assert fixed.uploaded == ["notes.md"] and side.rget("notes.md") == b"merged\n"


def test_first_sync_with_differing_files_overwrites_nothing(side: Side):
    side.put("same.txt", "same\n")
    side.put("differs.txt", "local\n")
    side.rput("same.txt", "same\n")
    side.rput("differs.txt", "remote\n")
    r = side.sync()
    assert r.conflicts == ["differs.txt"] and not r.uploaded and not r.downloaded
    assert (side.local / "differs.txt").read_text() == "local\n"
    assert side.rget("differs.txt") == b"remote\n"


def test_deletes_are_kept_without_delete_and_made_with_it(side: Side):
    side.put("gone-here.txt", "a\n")
    side.put("gone-there.txt", "b\n")
    (side.local / "old-folder").mkdir()
    side.sync()
    (side.local / "gone-here.txt").unlink()
    (side.local / "old-folder").rmdir()
    side.rexec("rm {d}/gone-there.txt")
    kept = side.sync()
    assert sorted(kept.skipped) == ["gone-here.txt", "gone-there.txt", "old-folder"]
    assert "--delete" in kept.notes["gone-here.txt"]
    assert side.rget("gone-here.txt") == b"a\n" and (side.local / "gone-there.txt").exists()
    done = side.sync(delete=True)
    assert done.deleted_remote == ["gone-here.txt", "old-folder/"] and done.deleted_local == ["gone-there.txt"]
    assert "gone-here.txt" not in side.rls() and not (side.local / "gone-there.txt").exists()
    assert not side.sync(delete=True).changed


def test_deleted_on_one_side_but_changed_on_the_other_is_restored(side: Side):
    side.put("keep.txt", "v1\n")
    side.sync()
    (side.local / "keep.txt").unlink()
    side.rput("keep.txt", "v2\n")
    r = side.sync(delete=True)
    assert r.downloaded == ["keep.txt"] and (side.local / "keep.txt").read_text() == "v2\n"


def test_excludes_default_and_given(side: Side):
    side.put(".git/config", "[core]\n")
    side.put("pkg/__pycache__/m.cpython-311.pyc", b"\x00pyc")
    side.put(".ipynb_checkpoints/a-checkpoint.ipynb", "{}")
    side.put("run.log", "noise\n")
    side.put("keep.py", "print(1)\n")
    side.rput("remote.log", "remote noise\n")
    side.rput(".git/HEAD", "ref: x\n")
    r = side.sync(exclude=["*.log"])
    assert sorted(r.uploaded) == ["keep.py", "pkg/"] and not r.downloaded  # pkg/ is an empty folder now
    assert sorted(side.rls()) == [".git", "keep.py", "pkg", "remote.log"]
    assert side.rls_of("pkg") == []
    assert not (side.local / "remote.log").exists() and not (side.local / ".git" / "HEAD").exists()
    assert "run.log" not in side.rls()


def test_dry_run_changes_nothing_and_says_what_would_happen(side: Side):
    side.put("up.txt", "u\n")
    side.rput("down.txt", "d\n")
    before_here = sorted(p.name for p in side.local.iterdir())
    before_there = sorted(side.rls())
    r = side.sync(dry_run=True)
    assert r.dry_run and r.uploaded == ["up.txt"] and r.downloaded == ["down.txt"]
    assert "dry_run=True" in repr(r) and "Dry run" in r._repr_html_()
    assert sorted(p.name for p in side.local.iterdir()) == before_here
    assert sorted(side.rls()) == before_there
    assert not list(side.cache.rglob("*.json"))  # no state written either
    real = side.sync()
    assert real.uploaded == ["up.txt"] and real.downloaded == ["down.txt"]


def test_one_bad_file_is_listed_and_the_others_go(side: Side):
    limit = side.p.client.max_write_bytes
    side.put("huge.txt", "x" * (limit + 10))
    for i in range(5):
        side.put(f"ok{i}.txt", f"{i}\n")
    side.put("clash", "a file here\n")
    side.rput("clash/inside.txt", "a folder in the project\n")
    r = side.sync()
    assert sorted(r.uploaded) == [f"ok{i}.txt" for i in range(5)]
    assert "huge.txt" in r.skipped and f"{limit:,}" in r.errors["huge.txt"]
    assert "\n" not in r.errors["huge.txt"] and "huge.txt" not in side.rls()
    assert "clash" in r.skipped and "rename one" in r.notes["clash"]
    assert (side.local / "clash").read_text() == "a file here\n"
    assert "huge.txt" in r.text() and "errors=" in repr(r)


def test_outside_home_is_one_line(side: Side):
    for bad in ("/etc", "../elsewhere"):
        with pytest.raises(E.InvalidRequest) as info:
            side.p.sync(side.local, bad, progress=False)
        text = str(info.value)
        assert "outside the project's home" in text and "\n" not in text


def test_a_single_file(side: Side, tmp_path: Path):
    f = tmp_path / "solo.csv"
    f.write_text("a,b\n1,2\n")
    r = side.p.sync(f, f"{side.remote}/solo.csv", progress=False)
    assert r.uploaded == ["solo.csv"] and side.rget("solo.csv") == b"a,b\n1,2\n"
    side.rput("solo.csv", "a,b\n3,4\n")
    assert side.p.sync(f, f"{side.remote}/solo.csv", progress=False).downloaded == ["solo.csv"]
    assert f.read_text() == "a,b\n3,4\n"


def test_a_folder_only_in_the_project_comes_here(side: Side):
    side.rput("data/x.txt", "x\n")
    os.rmdir(side.local)
    r = side.sync()
    assert r.downloaded == ["data/x.txt"] and (side.local / "data" / "x.txt").read_text() == "x\n"


def test_interrupted_by_a_lost_connection_finishes_next_time(side: Side, monkeypatch):
    monkeypatch.setattr(bundle, "BATCH_FILES", 5)  # six batches of small files, each one write
    for i in range(30):
        side.put(f"f{i:02}.txt", f"{i}\n")
    lost = E.CoCalcConnectionError("the connection broke before an answer came", endpoint="test")
    restore = break_writes(monkeypatch, after=2, exc=lost)
    with pytest.raises(E.CoCalcConnectionError) as info:
        side.sync()
    assert "run p.sync(...) again to finish" in str(info.value) and "\n" not in str(info.value)
    assert "%cocalc sync again" in info.value.line("magic")
    restore()
    done_before = len(side.rls())
    assert 5 <= done_before < 30
    r = side.sync()
    assert len(r.uploaded) == 30 - done_before and not r.conflicts
    assert sorted(side.rls()) == [f"f{i:02}.txt" for i in range(30)]
    assert not side.sync().changed


def test_interrupted_by_ctrl_c_keeps_what_finished(side: Side, monkeypatch):
    monkeypatch.setattr(bundle, "BATCH_FILES", 5)
    for i in range(20):
        side.put(f"g{i:02}.txt", f"{i}\n")
    restore = break_writes(monkeypatch, after=2, exc=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        side.sync(workers=1)
    restore()
    state = json.loads(next(side.cache.rglob("*.json")).read_text())
    finished = side.rls()
    assert sorted(state["files"]) == sorted(finished) and 5 <= len(finished) < 20  # what was done, no more
    r = side.sync()
    assert len(r.uploaded) == 20 - len(finished) and not r.conflicts and not side.sync().changed


def test_large_binary_files_go_alone_both_ways_with_their_modes(side: Side):
    big = os.urandom(300_000)  # above the batch threshold: the base64 path, one file per request
    side.put("tool.bin", big, mode=0o755)
    r = side.sync()
    assert r.uploaded == ["tool.bin"] and side.rget("tool.bin") == big and side.rmode("tool.bin") == 0o755
    other = os.urandom(400_000)
    side.rput("data.npy", other)
    r = side.sync()
    assert r.downloaded == ["data.npy"] and (side.local / "data.npy").read_bytes() == other


def test_notebooks_are_files_and_their_conflict_copy_stays_a_notebook(side: Side):
    side.put("analysis.ipynb", '{"cells": [], "nbformat": 4}')
    side.sync()
    side.put("analysis.ipynb", '{"cells": [{"here": 1}], "nbformat": 4}')
    side.rput("analysis.ipynb", '{"cells": [{"there": 1}], "nbformat": 4}')
    r = side.sync()
    assert r.conflicts == ["analysis.ipynb"]
    copies = [p.name for p in side.local.iterdir() if ".conflict-remote-" in p.name]
    assert len(copies) == 1 and copies[0].endswith(".ipynb")
    assert (side.local / copies[0]).read_text() == '{"cells": [{"there": 1}], "nbformat": 4}'


def test_remote_paths_read_as_a_shell_would(side: Side, tmp_path: Path):
    f = tmp_path / "one.txt"
    f.write_text("1\n")
    assert side.p.sync(f, f"~/{side.remote}/", progress=False).uploaded == ["one.txt"]
    assert side.rget("one.txt") == b"1\n"


def test_a_server_error_halfway_lists_the_files_and_the_next_run_finishes(side: Side, monkeypatch):
    monkeypatch.setattr(bundle, "BATCH_FILES", 5)
    for i in range(20):
        side.put(f"h{i:02}.txt", f"{i}\n")
    boom = E.ServerError("the server failed (HTTP 500)", status=500, endpoint="test")
    restore = break_writes(monkeypatch, after=2, exc=boom)
    r = side.sync()  # not raised: each file that failed is named, with the server's one line
    restore()
    assert len(r.uploaded) + len(r.errors) == 20 and r.errors and set(r.errors) <= set(r.skipped)
    assert all(why == "the server failed (HTTP 500)" for why in r.errors.values())
    assert sorted(side.rls()) == sorted(r.uploaded)
    again = side.sync()
    assert sorted(again.uploaded) == sorted(r.errors) and not again.errors and not side.sync().changed


def test_the_report_is_one_line_as_repr_a_short_table_in_a_notebook_and_the_bar_shows(side: Side, capsys):
    for i in range(3):
        side.put(f"r{i}.txt", f"{i}\n")
    r = side.sync(progress=True)
    assert "cocalc: 1/1" in capsys.readouterr().err  # cc.map's bar (text on a terminal): one batch
    assert repr(r) == ("SyncReport(uploaded=3, downloaded=0, deleted_local=0, deleted_remote=0, "
                       "conflicts=0, skipped=0)")
    html = r._repr_html_()
    assert html.count("<tr>") == 1 and "r0.txt" in html and "uploaded" in html


def test_unchanged_local_files_are_not_read_again_but_an_edit_is_seen(side: Side, monkeypatch):
    side.put("big.txt", "x" * 1000)
    side.put("edited.txt", "v1\n")
    old = 1_600_000_000_000_000_000  # files older than the scan: their size and time are trusted
    for name in ("big.txt", "edited.txt"):
        os.utime(side.local / name, ns=(old, old))
    side.sync()
    reads = []
    real = local_side.sha256_file
    monkeypatch.setattr(local_side, "sha256_file", lambda p: reads.append(Path(p).name) or real(p))
    assert not side.sync().changed and reads == []
    side.put("edited.txt", "v2\n")  # same size, new time: read again
    r = side.sync()
    assert r.uploaded == ["edited.txt"] and reads == ["edited.txt"] and side.rget("edited.txt") == b"v2\n"


def test_two_syncs_of_the_same_folders_do_not_interleave(side: Side):
    from cocalc_magic.client.sync.state import State

    side.put("a.txt", "a\n")
    side.sync()
    (state_file,) = side.cache.rglob("*.json")
    held = State(state_file, {})
    held.lock()  # another run of the same pair (the same state file) is in progress
    try:
        with pytest.raises(E.InvalidRequest) as info:
            side.sync()
        assert "another sync" in str(info.value) and "\n" not in str(info.value)
    finally:
        held.close()
    assert not side.sync().changed


def test_an_edit_made_in_the_project_during_the_sync_is_not_overwritten(side: Side, monkeypatch):
    from cocalc_magic.client import Project

    side.put("shared.txt", "v1\n")
    side.put("other.txt", "o1\n")
    side.sync()
    side.put("shared.txt", "v2 here\n")
    side.put("other.txt", "o2 here\n")
    real = Project.write

    def write(self, path, content):
        if ".cocalc-sync-" in path:  # the batch is on its way: someone edits the file in the project
            real(self, f"{side.remote}/shared.txt", "edited in the project meanwhile\n")
        return real(self, path, content)

    monkeypatch.setattr(Project, "write", write)
    r = side.sync()
    monkeypatch.setattr(Project, "write", real)
    assert r.uploaded == ["other.txt"] and "shared.txt" in r.skipped
    assert "not overwritten" in r.errors["shared.txt"]
    assert side.rget("shared.txt") == b"edited in the project meanwhile\n"
    again = side.sync()  # both sides changed it: a conflict, both versions kept
    assert again.conflicts == ["shared.txt"] and (side.local / "shared.txt").read_text() == "v2 here\n"


def test_a_large_file_edited_in_the_project_during_the_sync_is_not_overwritten(side: Side, monkeypatch):
    from cocalc_magic.client.sync import transfer

    side.put("big.bin", os.urandom(300_000))
    side.sync()
    side.put("big.bin", os.urandom(300_000))
    real = transfer.still_holds

    def edited_first(p, path, sha):
        side.p.write(path, "edited in the project meanwhile\n")
        return real(p, path, sha)

    monkeypatch.setattr(transfer, "still_holds", edited_first)
    r = side.sync()
    assert not r.uploaded and "not overwritten" in r.errors["big.bin"]
    assert side.rget("big.bin") == b"edited in the project meanwhile\n"


def test_a_permission_change_alone_travels_and_is_reported(side: Side):
    side.put("run.sh", "#!/bin/sh\n")
    side.sync()
    os.chmod(side.local / "run.sh", 0o755)
    assert side.sync(dry_run=True).uploaded == ["run.sh"]
    r = side.sync()
    assert r.uploaded == ["run.sh"] and "permissions only" in r.notes["run.sh"]
    assert side.rmode("run.sh") == 0o755
    side.rexec("chmod 700 {d}/run.sh")
    r = side.sync()
    assert r.downloaded == ["run.sh"] and stat.S_IMODE(os.stat(side.local / "run.sh").st_mode) == 0o700
    assert not side.sync().changed
