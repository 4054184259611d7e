"""What a new user of the magics meets in the first hour, as a shell or Jupyter user expects it:
bash's errors with the cell's line numbers, a quoted command line run as a command line, a
captured result shown once, no folders made unasked, an empty project list that says what to do,
listing headers that read as words, and no files left in the temp directory."""

from __future__ import annotations

import os
import re
import tempfile
import uuid

import pytest

from magic_helpers import run

pytestmark = pytest.mark.parametrize("cocalc_server", ["v1", "conat"], indirect=True)


@pytest.fixture
def proj(srv):
    from cocalc_magic import CoCalc

    p = CoCalc(host=srv.url, api_key=srv.api_key).create_project(f"first-hour-{uuid.uuid4().hex[:8]}", start=True)
    p.write("f.txt", "hi\n")
    return p


def test_cell_errors_carry_the_cells_line_numbers(ip, srv, proj):
    r = run(ip, f"%%cocalc_exec -p {proj.project_id}\necho a\nno-such-command-xyz\nfalse\n")
    assert r.stdout == "a\n"
    assert r.stderr == "bash: line 2: no-such-command-xyz: command not found\nexit code 1\n"


def test_a_quoted_command_line_runs_as_a_command_line(ip, srv, proj):
    r = run(ip, f'%cocalc exec -p {proj.project_id} "echo $HOME; pwd"')
    home, cwd = r.stdout.splitlines()
    assert r.ok and r.stderr == "" and home == cwd and home.endswith(proj.project_id), r
    r = run(ip, f"%cocalc exec -p {proj.project_id} 'echo one; echo two'")
    assert r.stdout == "one\ntwo\n"
    r = run(ip, f'%cocalc exec -p {proj.project_id} echo "a  b" c')  # several words: as typed
    assert r.stdout == "a  b c\n"


def test_a_captured_exec_shows_its_output_once(ip, srv, proj):
    r = run(ip, f"r = %cocalc exec -p {proj.project_id} ls")
    assert r.ok and r.stdout == "f.txt\n" and r.outputs == [] and not r.shown, r
    assert ip.user_ns["r"].stdout == "f.txt\n"
    r = run(ip, f"%cocalc exec -p {proj.project_id} ls")
    assert r.stdout == "f.txt\n" and not r.shown, r  # shown as printed, not again as Out[n]


def test_pull_into_a_missing_folder_makes_no_folder(ip, srv, proj, tmp_path):
    target = tmp_path / "new" / "dir" / "x.txt"
    r = run(ip, f"%cocalc pull -p {proj.project_id} f.txt {target}")
    assert not r.ok and not (tmp_path / "new").exists()
    assert (r.stdout + r.stderr).strip() == (f"No folder {target.parent} on this machine: create it first "
                                             f"(!mkdir -p {target.parent}), or pull into a folder that exists.")
    target.parent.mkdir(parents=True)
    assert run(ip, f"%cocalc pull -p {proj.project_id} f.txt {target}").ok and target.read_text() == "hi\n"


def test_an_empty_project_list_says_how_to_make_one(ip, srv):
    r = run(ip, f"%cocalc projects no-such-title-{uuid.uuid4().hex[:6]}")
    text = repr(r.result)  # an empty list is falsy: what the notebook shows is its repr
    assert "No projects matching" in r.result._repr_html_()
    assert r.ok and text.startswith("No projects matching 'no-such-title-") and "ProjectList" not in text
    assert text.endswith("Create one with %cocalc create TITLE, or cc.create_project(title) in Python.")


def test_listing_headers_read_as_words(ip, srv, proj):
    proj.write("data/a.txt", "1\n")
    home = run(ip, f"%cocalc ls -p {proj.project_id}").shown["text/plain"].splitlines()[0]
    sub = run(ip, f"%cocalc ls -p {proj.project_id} data").shown["text/plain"].splitlines()[0]
    assert home == f"2 entries in ~ of {proj.title}" and sub == f"1 entry in ~/data of {proj.title}"
    assert ":~" not in home + sub


def test_exec_leaves_nothing_in_the_temp_dir(ip, srv, proj):
    """No pid file: Ctrl-C finds the command by its process name (a command killed by its timeout
    never ran a cleanup, and left one behind in /tmp before)."""
    before = set(os.listdir(tempfile.gettempdir()))
    run(ip, f"%cocalc exec -p {proj.project_id} --timeout 1 sleep 5")
    run(ip, f"%cocalc exec -p {proj.project_id} true")
    assert not {n for n in set(os.listdir(tempfile.gettempdir())) - before if re.match(r"\.?cocalc-magic", n)}
