"""Each error a user meets, through the Python client and through the magics: the same one line of
what happened, with the advice of where it is shown (a magic's options in a magic, Python calls in
Python), no HTTP status, no server-side absolute path, and no advice to log in while logging in."""

from __future__ import annotations

import re
import uuid

import pytest

from cocalc_magic import CoCalc, errors
from magic_helpers import run

pytestmark = pytest.mark.parametrize("cocalc_server", ["v1", "conat"], indirect=True)

PYTHON_ONLY = re.compile(r"\bcc\.|\bp\.\w+\(|timeout=|CoCalc\(")
MAGIC_ONLY = re.compile(r"%cocalc|--timeout|--all|-p ")


@pytest.fixture
def proj(srv):
    p = CoCalc(host=srv.url, api_key=srv.api_key).create_project(f"wording-{uuid.uuid4().hex[:8]}", start=True)
    p.write("f.txt", "hi\n")
    return p


def python_line(fn) -> str:
    with pytest.raises(errors.CoCalcError) as info:
        fn()
    return f"{type(info.value).__name__}: {info.value}"


def magic_line(ip, cell: str) -> str:
    r = run(ip, cell)
    assert not r.ok, r
    out = r.stdout + r.stderr
    assert "Traceback" not in out and out.count("\n") <= 1, out
    return out.strip()


def assert_fits(line: str, caller: str, srv) -> None:
    assert not re.search(r"HTTP \d{3}", line), line
    assert str(srv.data_dir) not in line and "/projects/" not in line, line
    if caller == "magic":
        assert not PYTHON_ONLY.search(line), line
    else:
        assert not MAGIC_ONLY.search(line), line


def test_wrong_key(ip, srv, monkeypatch):
    wrong = "sk-WrongWrongWrong0000"
    monkeypatch.setenv("COCALC_API_KEY", wrong)
    py = python_line(lambda: CoCalc(host=srv.url, api_key=wrong).projects())
    mg = magic_line(ip, "%cocalc projects")
    for line, caller in ((py, "python"), (mg, "magic")):
        assert line.startswith("AuthenticationError: the API key was not accepted"), line
        assert "WrongWrong" not in line
        assert_fits(line, caller, srv)
    assert "COCALC_API_KEY" in py and "%cocalc login saves a new one" in mg


def test_malformed_key(ip, srv, monkeypatch):
    monkeypatch.setenv("COCALC_API_KEY", "paste-your-key-here")
    py = python_line(lambda: CoCalc(host=srv.url, api_key="paste-your-key-here").projects())
    mg = magic_line(ip, "%cocalc projects")
    for line, caller in ((py, "python"), (mg, "magic")):
        assert "the API key is malformed" in line and "start with sk-" in line, line
        assert_fits(line, caller, srv)


def test_wrong_key_during_login_gives_no_login_advice(ip, srv, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "sk-NotAKeyNotAKey1111")
    line = magic_line(ip, "%cocalc login")
    assert line.startswith("AuthenticationError: the API key was not accepted"), line
    assert "%cocalc login" not in line and "API keys there" in line


def test_ls_of_a_file(ip, srv, proj):
    py = python_line(lambda: proj.listing("f.txt"))
    mg = magic_line(ip, f"%cocalc ls -p {proj.project_id} f.txt")
    assert py == "InvalidRequest: 'f.txt' is a file, not a folder. p.read(path) reads it"
    assert mg == "InvalidRequest: 'f.txt' is a file, not a folder. %cocalc read PATH shows it"


@pytest.mark.parametrize("what", ["read", "ls"])
def test_missing_path_is_relative_with_the_callers_advice(ip, srv, proj, what):
    call = (lambda: proj.read("no/such.txt")) if what == "read" else (lambda: proj.listing("no/such"))
    py = python_line(call)
    mg = magic_line(ip, f"%cocalc {what} -p {proj.project_id} no/such{'.txt' if what == 'read' else ''}")
    for line, caller in ((py, "python"), (mg, "magic")):
        assert line.startswith("NotFound: no such file or directory: 'no/such"), line
        assert_fits(line, caller, srv)
    assert "p.listing() shows what is there" in py and "%cocalc ls shows what is there" in mg


def test_exec_timeout(ip, srv, proj):
    py = python_line(lambda: proj.exec("sleep 5", bash=True, timeout=1))
    mg = magic_line(ip, f"%cocalc exec -p {proj.project_id} --timeout 1 sleep 5")
    for line, caller in ((py, "python"), (mg, "magic")):
        assert line.startswith("ServerTimeout: the command ran past its timeout of 1s"), line
        assert_fits(line, caller, srv)
    assert "timeout=" in py and "--timeout S" in mg


def test_unknown_project_title(ip, srv):
    py = python_line(lambda: CoCalc().project("no such title"))
    mg = magic_line(ip, "%cocalc use no such title")
    for line, caller in ((py, "python"), (mg, "magic")):
        assert line.startswith("NotFound: no project titled 'no such title'"), line
        assert_fits(line, caller, srv)
    assert "create=True" in py and "%cocalc create TITLE" in mg
