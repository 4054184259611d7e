"""Every %cocalc subcommand and both cell magics against a local CoCalc, in both API generations:
happy paths, error paths, text and HTML outputs, capture of results, completion from real titles.

The client (``CoCalc``) is used directly only to set up and to check what is on the server."""

from __future__ import annotations

import os
import re
import signal
import stat
import threading
import time
import uuid

import pytest

from cocalc_magic import CoCalc
from magic_helpers import completions, run

pytestmark = pytest.mark.parametrize("cocalc_server", ["v1", "conat", "ai"], indirect=True)

ONE_LINE_ERROR = re.compile(r"^[^\n]+\n?$")


@pytest.fixture
def cc(srv):
    return CoCalc(host=srv.url, api_key=srv.api_key, api=srv.api)


def uniq(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def proj(cc, srv):
    """A fresh project (running) for one test."""
    return usable(srv, cc.create_project(uniq("magics")), start=True)


def usable(srv, p, start=False):
    """On cocalc.ai a project a key creates is not in its allowed list: the user adds it in
    Account → API keys, as ``edit_key`` does here."""
    if srv.api == "ai":
        srv.edit_key(add_projects=[p.project_id])
    if start:
        p.start()
    return p


def assert_no_secret(r, srv):
    text = r.stdout + r.stderr + repr(r.outputs)
    assert srv.api_key not in text
    assert srv.api_key[3:] not in text


def assert_one_line_error(r, cls: str | None = None):
    assert not r.ok, r
    assert "Traceback" not in r.stdout + r.stderr
    line = r.stdout + r.stderr
    assert ONE_LINE_ERROR.match(line), line
    if cls:
        assert line.startswith(cls + ": "), line
    return line


# ------------------------------------------------------------------ account
def test_ping(ip, srv):
    r = run(ip, "%cocalc ping")
    assert r.ok, r
    assert re.fullmatch(
        rf"pong from {re.escape(srv.url)}: API {srv.api}, server time \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d[^,]*, "
        r"latency \d+\.\d ms\n", r.stdout), r.stdout
    assert r.result is None and r.outputs == []


def test_ping_captured(ip, srv):
    r = run(ip, "p = %cocalc ping")
    assert r.ok and r.stdout == ""
    pong = ip.user_ns["p"]
    assert pong.api == srv.api and pong.latency_s > 0


def test_whoami_text_and_html(ip, srv):
    r = run(ip, "%cocalc whoami")
    assert r.ok, r
    (out,) = r.outputs
    text, html = out["text/plain"], out["text/html"]
    assert text.startswith("CoCalc settings\n")
    assert re.search(rf"^  host +{re.escape(srv.url)}    \(environment \(COCALC_HOST\)\)$", text, re.M)
    assert "(environment (COCALC_API_KEY))" in text and srv.api_key[-4:] in text
    if srv.api == "ai":  # no account id for a key there; the key doctor's lines instead
        assert re.search(r"key +a cocalc.ai account key", text) and re.search(r"project:exec +yes: ", text)
        assert re.search(r"server +cocalc.ai", text) and "project:list" in html
    else:
        assert re.search(r"key +an account API key", text) and re.search(rf"account +{srv.account_id}", text)
        assert srv.account_id in html
    assert re.search(rf"api +{srv.api}", text)
    assert "<table" in html
    assert_no_secret(r, srv)


def test_whoami_without_key_says_how_to_log_in(ip, srv, monkeypatch):
    monkeypatch.delenv("COCALC_API_KEY")
    r = run(ip, "%cocalc whoami")
    assert r.ok
    assert re.search(r"^  api_key +\(none: run %cocalc login\)$", r.outputs[0]["text/plain"], re.M)


def test_no_key(ip, srv, monkeypatch):
    monkeypatch.delenv("COCALC_API_KEY")
    r = run(ip, "%cocalc projects")
    line = assert_one_line_error(r)
    assert line.strip() == (f"No CoCalc API key for {srv.url}: run %cocalc login (it asks for the key and saves it), "
                            "or set COCALC_API_KEY.")


def test_wrong_key(ip, srv, monkeypatch):
    monkeypatch.setenv("COCALC_API_KEY", "sk-WrongWrongWrong0000")
    r = run(ip, "%cocalc projects")
    assert_one_line_error(r, "AuthenticationError")
    assert "WrongWrongWrong" not in r.stdout + r.stderr


def test_whoami_with_wrong_key_shows_the_failed_check(ip, srv, monkeypatch):
    monkeypatch.setenv("COCALC_API_KEY", "sk-WrongWrongWrong0000")
    r = run(ip, "%cocalc whoami")
    assert r.ok, r
    text = r.outputs[0]["text/plain"]
    assert re.search(r"^  key check +failed: AuthenticationError: ", text, re.M)
    assert "WrongWrongWrong" not in text + r.outputs[0]["text/html"]


def test_show_tracebacks(ip, srv, monkeypatch):
    monkeypatch.setenv("COCALC_API_KEY", "sk-WrongWrongWrong0000")
    run(ip, "%config CoCalcMagics.show_tracebacks = True")
    r = run(ip, "%cocalc projects")
    assert not r.ok and type(r.error).__name__ == "AuthenticationError"
    assert "Traceback" in r.stdout + r.stderr or "---------" in r.stdout


def test_config_host_wins_over_environment(ip, srv, magics):
    run(ip, "%config CoCalcMagics.host = 'http://127.0.0.1:9'")
    run(ip, "%config CoCalcMagics.timeout = 2.0")
    assert_one_line_error(run(ip, "%cocalc projects"), "CoCalcConnectionError")  # nothing listens on port 9
    r = run(ip, "%cocalc whoami")
    assert r.ok and "failed: CoCalcConnectionError: " in r.outputs[0]["text/plain"]
    s = magics.settings()
    assert (s.host, s.timeout, s.sources["host"]) == ("http://127.0.0.1:9", 2.0, "%config")
    run(ip, f"%config CoCalcMagics.host = '{srv.url}'")
    assert run(ip, "%cocalc ping").ok


# ------------------------------------------------------------------ login / logout
def test_login_with_key_saves_0600(ip, srv, monkeypatch):
    from cocalc_magic import settings

    monkeypatch.delenv("COCALC_API_KEY")
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or srv.api_key)
    r = run(ip, "%cocalc login")
    assert r.ok, r
    assert prompts == [f"CoCalc API key for {srv.url} (input hidden): "]
    path = settings.credentials_path()
    who = "a cocalc.ai account key" if srv.api == "ai" else f"account {srv.account_id}"
    assert r.stdout.startswith(f"Signed in to {srv.url} as {who}"), r.stdout
    assert f"saved to {path} (mode 0600)." in r.stdout
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert srv.api_key in open(path).read()
    assert_no_secret(r, srv)
    r = run(ip, "%cocalc whoami")
    assert "(credentials file" in r.outputs[0]["text/plain"]
    assert run(ip, "%cocalc ping").ok
    r = run(ip, "%cocalc logout")
    assert r.stdout == f"Removed the saved credentials ({path}).\n"
    assert not os.path.exists(path)
    assert run(ip, "%cocalc logout").stdout == f"No saved credentials ({path}).\n"
    assert_one_line_error(run(ip, "%cocalc projects"))


def test_login_with_wrong_key_saves_nothing(ip, srv, monkeypatch):
    from cocalc_magic import settings

    monkeypatch.setattr("getpass.getpass", lambda prompt="": "sk-NotAKeyNotAKey1111")
    r = run(ip, "%cocalc login")
    assert_one_line_error(r, "AuthenticationError")
    assert "NotAKeyNotAKey" not in r.stdout + r.stderr
    assert not os.path.exists(settings.credentials_path())


def test_login_with_empty_input(ip, srv, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "")
    assert assert_one_line_error(run(ip, "%cocalc login")).strip().endswith("No key entered; nothing changed.")


def test_login_where_no_input_can_be_asked(ip, srv, monkeypatch):
    from IPython.core.error import StdinNotImplementedError

    def no_stdin(prompt=""):
        raise StdinNotImplementedError("getpass was called, but this frontend does not support input requests.")

    monkeypatch.setattr("getpass.getpass", no_stdin)
    line = assert_one_line_error(run(ip, "%cocalc login"))
    assert line.startswith("This frontend cannot ask for input: set COCALC_API_KEY")


def test_login_with_email_creates_a_key(ip, srv, monkeypatch):
    from cocalc_magic import settings

    monkeypatch.delenv("COCALC_API_KEY")
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or srv.password)
    if srv.api == "ai":  # keys are made in the web UI only: asked for, not made
        monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or srv.api_key)
        r = run(ip, f"%cocalc login --email {srv.email} --host {srv.url}")
        assert r.ok, r
        assert prompts == [f"CoCalc API key for {srv.url} (input hidden): "]
        first, second = r.stdout.splitlines()[:2]
        assert "makes API keys only in its web UI after a two-factor sign-in" in first
        assert "(Account → API keys)" in first and second.startswith(f"Signed in to {srv.url} as a cocalc.ai")
        assert srv.api_key in open(settings.credentials_path()).read()
        return
    r = run(ip, f"%cocalc login --email {srv.email} --host {srv.url}")
    assert r.ok, r
    assert prompts == [f"CoCalc password for {srv.email} at {srv.url} (not stored): "]
    saved = open(settings.credentials_path()).read()
    assert srv.password not in saved and srv.password not in r.stdout + r.stderr
    assert r.stdout.startswith(f"Signed in to {srv.url} as account {srv.account_id}")
    assert run(ip, "%cocalc ping").ok


def test_login_with_wrong_password(ip, srv, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "not-the-password")
    r = run(ip, f"%cocalc login --email {srv.email}")
    if srv.api == "ai":  # the note that keys come from the web UI, then the pasted text refused as a key
        assert r.stdout.startswith(f"{srv.url} is cocalc.ai's code") and not r.ok
        r.stdout = r.stdout.split("\n", 1)[1]
    assert_one_line_error(r, "AuthenticationError" if srv.api == "ai" else None)
    assert "not-the-password" not in r.stdout + r.stderr


# ------------------------------------------------------------------ projects
def test_projects_table_newest_first_and_capture(ip, srv, cc):
    tag = uniq("list")
    a = cc.create_project(f"{tag} first")
    time.sleep(0.01)
    b = cc.create_project(f"{tag} second")
    r = run(ip, f"%cocalc projects {tag}")
    assert r.ok, r
    out = r.shown
    assert out["text/plain"].index(f"{tag} second") < out["text/plain"].index(f"{tag} first")
    assert f"{tag} first" in out["text/html"] and "<table" in out["text/html"]
    r = run(ip, f"ps = %cocalc projects {tag}")
    assert r.ok and r.outputs == [] and r.stdout == ""
    assert [p.project_id for p in ip.user_ns["ps"]] == [b.project_id, a.project_id]
    assert [p.title for p in ip.user_ns["ps"]] == [f"{tag} second", f"{tag} first"]


def test_projects_all(ip, srv, cc):
    tag = uniq("all")
    cc.create_project(f"{tag} x")
    r = run(ip, f"ps = %cocalc projects --all {tag}")
    assert r.ok and [p.title for p in ip.user_ns["ps"]] == [f"{tag} x"]


def test_projects_seed_completion(ip, srv, cc):
    tag = uniq("comp")
    cc.create_project(f"{tag}-proj")
    run(ip, "%cocalc projects")
    assert completions(ip, f"%cocalc use {tag}") == [f"{tag}-proj"]
    assert completions(ip, f"%cocalc exec -p {tag[:6]}") == [f"{tag}-proj"]


def test_use_sets_the_default_project(ip, srv, proj, magics):
    r = run(ip, f"%cocalc use {proj.title}")
    assert r.stdout == f"Default project: {proj.title} ({proj.project_id})\n"
    assert run(ip, "%cocalc exec echo here").stdout == "here\n"
    r = run(ip, "%cocalc whoami")
    assert re.search(rf"^  project +{proj.project_id}    \(%cocalc use\)$", r.outputs[0]["text/plain"], re.M)
    run(ip, "%config CoCalcMagics.project = 'something-else'")  # a later %config wins
    assert magics.settings().project == "something-else"


def test_no_default_project(ip, srv):
    line = assert_one_line_error(run(ip, "%cocalc ls"))
    assert line.startswith("No project given and no default project: pass -p PROJECT, run %cocalc use PROJECT")


def test_unknown_project(ip, srv):
    assert_one_line_error(run(ip, "%cocalc ls -p no-such-project-xyz"), "NotFound")
    assert_one_line_error(run(ip, "%cocalc use no-such-project-xyz"), "NotFound")


def test_use_create_gets_or_creates(ip, srv, cc):
    title = uniq("Use create")
    r = run(ip, f'%cocalc use "{title}" --create')
    p = cc.project(title)
    assert r.ok and r.stdout == f"Created project {title} ({p.project_id}); it is the default project from now on\n"
    r = run(ip, f'%cocalc use "{title}" --create')
    assert r.ok and r.stdout == f"Default project: {title} ({p.project_id})\n"
    assert len(cc.projects(all=True, search=title)) == 1


def test_ambiguous_project(ip, srv, cc):
    tag = uniq("amb")
    cc.create_project(f"{tag} one")
    cc.create_project(f"{tag} two")
    line = assert_one_line_error(run(ip, f"%cocalc state -p {tag}"))
    assert f"{tag} one" in line and f"{tag} two" in line


def test_create_and_lifecycle(ip, srv, cc):
    title = uniq("created")
    r = run(ip, f"%cocalc create {title} --start")
    if srv.api == "ai":  # created, but not in the key's allowed list: the line says so and how to fix it
        line = assert_one_line_error(r, "PermissionDenied")
        assert title in line and "allowed projects" in line and "Account → API keys" in line
        p = usable(srv, cc.project(title), start=True)
    else:
        assert r.ok, r
        p = cc.project(title)
        assert r.stdout == f"Created project {title} ({p.project_id}) and started it.\n"
    assert p.state() == "running"
    r = run(ip, f"%cocalc stop {title}")
    assert r.ok and r.stdout.startswith(f"Project {title}: ")
    assert p.state() != "running"
    r = run(ip, f"%cocalc state -p {title}")
    assert r.stdout == f"Project {title}: {p.state()}\n"
    r = run(ip, f"%cocalc start {title}")
    assert r.stdout == f"Project {title}: running\n"
    r = run(ip, f"%cocalc restart -p {title}")
    assert r.ok and r.stdout == f"Project {title}: running\n"
    r = run(ip, f"s = %cocalc state {p.project_id}")
    assert r.stdout == "" and ip.user_ns["s"] == "running"
    r = run(ip, f"q = %cocalc create {title}-b")
    assert ip.user_ns["q"].title == f"{title}-b"


# ------------------------------------------------------------------ files
def test_cocalc_write_like_writefile(ip, srv, proj):
    body = "x = {nope}\necho $HOME $nope\n"
    r = run(ip, f"%%cocalc_write -p {proj.project_id} notes/a.txt\n{body}")
    assert r.ok and r.stdout == "Writing notes/a.txt\n", r
    assert proj.read("notes/a.txt") == body  # never variable-expanded
    r = run(ip, f"%%cocalc_write -p {proj.project_id} notes/a.txt\nnew\n")
    assert r.stdout == "Overwriting notes/a.txt\n" and proj.read("notes/a.txt") == "new\n"
    r = run(ip, f"%%cocalc_write -p {proj.project_id} -a notes/a.txt\nmore\n")
    assert r.stdout == "Appending to notes/a.txt\n" and proj.read("notes/a.txt") == "new\nmore\n"
    r = run(ip, f"%%cocalc_write -p {proj.project_id} --append fresh.txt\nfirst\n")
    assert r.stdout == "Writing fresh.txt\n" and proj.read("fresh.txt") == "first\n"


def test_cocalc_write_to_unknown_project(ip, srv):
    assert_one_line_error(run(ip, "%%cocalc_write -p no-such-project-xyz a.txt\nx\n"), "NotFound")


def test_ls(ip, srv, proj):
    proj.write("dir/one.txt", "1")
    proj.write("two.txt", "22")
    r = run(ip, f"%cocalc ls -p {proj.project_id}")
    assert r.ok, r
    out = r.shown
    text = out["text/plain"]
    assert text.splitlines()[0].endswith(f" in ~ of {proj.title}")
    assert re.search(r"^  dir/ ", text, re.M) and re.search(r"^  two\.txt +2 B ", text, re.M)
    assert "<code>two.txt</code>" in out["text/html"]
    run(ip, f"files = %cocalc ls -p {proj.project_id} dir")
    assert [e.name for e in ip.user_ns["files"]] == ["one.txt"]


def test_ls_missing_dir(ip, srv, proj):
    assert_one_line_error(run(ip, f"%cocalc ls -p {proj.project_id} no/such/dir"))


def test_read(ip, srv, proj):
    proj.write("r.txt", "line 1\nline 2")
    r = run(ip, f"%cocalc read -p {proj.project_id} r.txt")
    assert r.ok and r.stdout == "line 1\nline 2\n" and r.outputs == []
    r = run(ip, f"t = %cocalc read -p {proj.project_id} r.txt")
    assert r.stdout == "" and ip.user_ns["t"] == "line 1\nline 2"
    r = run(ip, f"%cocalc read -p {proj.project_id} r.txt --into content")
    assert r.stdout == "Read 13 characters from r.txt into content.\n" and ip.user_ns["content"] == "line 1\nline 2"
    r = run(ip, f"%cocalc read -p {proj.project_id} r.txt --next-cell")
    assert r.ok and r.stdout == "" and ip.rl_next_input == "line 1\nline 2"


def test_read_missing_file(ip, srv, proj):
    line = assert_one_line_error(run(ip, f"%cocalc read -p {proj.project_id} nope.txt"), "NotFound")
    assert "nope.txt" in line


# ------------------------------------------------------------------ exec
def test_exec_streams_as_they_are(ip, srv, proj):
    r = run(ip, f"%cocalc exec -p {proj.project_id} echo out; echo err >&2; printf 'no newline'")
    assert r.ok, r
    assert r.stdout == "out\nno newline" and r.stderr == "err\n"
    r = run(ip, f"%cocalc exec -p {proj.project_id} echo $((1 + 2)) ${{HOME:+home}}")  # bash's own $ syntax
    assert r.stdout == "3 home\n"
    assert r.outputs == [] and r.result is None


def test_exec_nonzero_exit(ip, srv, proj):
    r = run(ip, f"%cocalc exec -p {proj.project_id} echo partial; exit 3")
    assert r.ok and r.stdout == "partial\n" and r.stderr == "exit code 3\n"


def test_exec_captured(ip, srv, proj):
    r = run(ip, f"res = %cocalc exec -p {proj.project_id} echo captured | tr a-z A-Z")
    assert r.ok and r.stdout == "CAPTURED\n"
    res = ip.user_ns["res"]
    assert (res.stdout, res.stderr, res.exit_code) == ("CAPTURED\n", "", 0)
    r = run(ip, "res")
    assert "exit code 0" in r.shown["text/html"] and "CAPTURED" in r.shown["text/plain"]


def test_exec_timeout(ip, srv, proj):
    r = run(ip, f"%cocalc exec -p {proj.project_id} --timeout 1 sleep 5")
    line = assert_one_line_error(r)
    assert "time" in line.lower()


def test_exec_unknown_project(ip, srv):
    assert_one_line_error(run(ip, "%cocalc exec -p no-such-project-xyz ls"), "NotFound")


def test_cocalc_exec_cell(ip, srv, proj):
    script = "x=4\nfor i in 1 2; do echo line $i; done\necho $((x * 2)) >&2\n"
    r = run(ip, f"%%cocalc_exec -p {proj.project_id}\n{script}")
    assert r.ok, r
    assert r.stdout == "line 1\nline 2\n" and r.stderr == "8\n" and r.outputs == []
    r = run(ip, f"%%cocalc_exec -p {proj.project_id} --timeout 1\nsleep 5\n")
    assert_one_line_error(r)
    r = run(ip, f"%%cocalc_exec -p {proj.project_id}\nfalse\n")
    assert r.ok and r.stderr == "exit code 1\n"


def test_ctrl_c_stops_waiting(ip, srv, proj, tmp_path):
    """Ctrl-C (SIGINT) while a command runs: the magic stops waiting and says what became of it."""
    marker = str(tmp_path / "pid")
    stop = threading.Event()

    def interrupt_once_running() -> None:  # the user presses Ctrl-C while the command runs
        while not stop.is_set():
            if os.path.exists(marker) and open(marker).read().strip():
                time.sleep(0.2)
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
                return
            time.sleep(0.05)

    t = threading.Thread(target=interrupt_once_running, daemon=True)
    t.start()
    try:
        r = run(ip, f"%cocalc exec -p {proj.project_id} echo $$ > {marker}; sleep 20; echo done >> {marker}")
    finally:
        stop.set()
        t.join(5)
    line = assert_one_line_error(r)
    assert line.strip() == "Interrupted: stopped waiting for the command; stopped the command in the project."
    pid = int(open(marker).read().split()[0])
    for _ in range(50):  # the command's shell goes away
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the command (pid {pid}) still runs after Ctrl-C")
    time.sleep(0.5)
    assert open(marker).read().split() == [str(pid)]  # "done" never written: sleep was killed too
    assert run(ip, f"%cocalc exec -p {proj.project_id} echo after").stdout == "after\n"


# ------------------------------------------------------------------ copy, push, pull
def test_copy(ip, srv, cc, proj):
    target = usable(srv, cc.create_project(uniq("target")), start=True)
    proj.write("c.txt", "copied")
    r = run(ip, f"%cocalc copy -p {proj.project_id} c.txt sub/c2.txt --to {target.title}")
    assert r.ok and r.stdout == f"Copied c.txt from {proj.title} to {target.title}:sub/c2.txt\n", r
    assert target.read("sub/c2.txt") == "copied"
    assert_one_line_error(run(ip, f"%cocalc copy -p {proj.project_id} c.txt --to no-such-project-xyz"), "NotFound")


def test_push_and_pull_text_and_binary(ip, srv, proj, clean_env):
    work = clean_env / "work"
    (work / "t.txt").write_text("héllo\n", encoding="utf-8")
    blob = bytes(range(256)) * 4
    (work / "b.bin").write_bytes(blob)
    r = run(ip, f"%cocalc push -p {proj.project_id} t.txt remote/t.txt")
    assert r.stdout == f"Pushed t.txt (7 bytes, text) to {proj.title}:remote/t.txt\n", r
    r = run(ip, f"%cocalc push -p {proj.project_id} b.bin")
    assert r.stdout == f"Pushed b.bin (1024 bytes, binary) to {proj.title}:b.bin\n", r
    assert proj.read("remote/t.txt") == "héllo\n" and proj.read_bytes("b.bin") == blob
    r = run(ip, f"%cocalc pull -p {proj.project_id} remote/t.txt back.txt")
    assert r.stdout == f"Wrote back.txt (7 bytes, text) from {proj.title}:remote/t.txt\n", r
    assert (work / "back.txt").read_text(encoding="utf-8") == "héllo\n"
    r = run(ip, f"%cocalc pull -p {proj.project_id} remote/t.txt")
    assert r.stdout == f"Overwrote t.txt (7 bytes, text) from {proj.title}:remote/t.txt\n", r
    (work / "copy").mkdir()  # pull makes no folders
    r = run(ip, f"%cocalc pull -p {proj.project_id} b.bin copy/b2.bin")
    assert r.stdout == f"Wrote copy/b2.bin (1024 bytes, binary) from {proj.title}:b.bin\n", r
    assert (work / "copy" / "b2.bin").read_bytes() == blob
    r = run(ip, f"%cocalc pull -p {proj.project_id} b.bin copy/b2.bin")
    assert r.stdout.startswith("Overwrote copy/b2.bin")


def test_push_errors(ip, srv, proj, cc, clean_env):
    line = assert_one_line_error(run(ip, f"%cocalc push -p {proj.project_id} missing.txt"))
    assert line.startswith("No local file missing.txt")
    big = clean_env / "work" / "big.txt"
    big.write_text("x" * (cc.max_write_bytes + 1))
    line = assert_one_line_error(run(ip, f"%cocalc push -p {proj.project_id} big.txt"))
    assert f"more than the {cc.max_write_bytes} bytes the server takes in one write" in line
    assert not proj.exists("big.txt")


def test_pull_missing(ip, srv, proj):
    assert_one_line_error(run(ip, f"%cocalc pull -p {proj.project_id} nope.txt"), "NotFound")


# ------------------------------------------------------------------ token, views
def test_token_returned_masked(ip, srv):
    if srv.api == "ai":
        line = assert_one_line_error(run(ip, "t = %cocalc token"), "NotSupported")
        assert "cocalc.ai does not let API keys make sign-in tokens" in line and "try again" not in line.lower()
        return
    r = run(ip, "t = %cocalc token")
    assert r.ok, r
    tok = ip.user_ns["t"]
    assert isinstance(tok, str) and len(str(tok)) > 8
    r = run(ip, "t")
    shown = repr(r.shown) + r.stdout
    assert str(tok) not in shown and str(tok)[-4:] in shown
    r = run(ip, "%cocalc token")
    assert r.ok and "auth token" in repr(r.shown) and str(tok) not in repr(r.shown) + r.stdout


def test_token_with_password_prompt(ip, srv, monkeypatch):
    if srv.api == "ai":
        pytest.skip("cocalc.ai has no sign-in tokens for keys (test_token_returned_masked checks its line)")
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or srv.password)
    r = run(ip, "t = %cocalc token --ask-password")
    assert r.ok and prompts == ["Password of the account (not stored): "], r
    assert srv.password not in r.stdout + r.stderr and str(ip.user_ns["t"]) not in r.stdout


def test_token_of_another_account_needs_admin(ip, srv, cc, monkeypatch):
    if srv.api == "ai":
        pytest.skip("cocalc.ai has no sign-in tokens for keys (test_token_returned_masked checks its line)")
    from cocalc_magic.client import sign_in_for_key

    email = f"{uniq('u')}@example.com"
    cc.create_account(email, "a-long-password-1", "Una", "User")
    key = str(sign_in_for_key(srv.url, email, "a-long-password-1", "test"))
    monkeypatch.setenv("COCALC_API_KEY", key)
    r = run(ip, f"%cocalc token {srv.account_id}")
    assert_one_line_error(r)
    assert key not in r.stdout + r.stderr


def test_wrong_generation_forced(ip, srv):
    other = "conat" if srv.api == "v1" else "v1"
    run(ip, f"%config CoCalcMagics.api = '{other}'")
    assert_one_line_error(run(ip, "%cocalc projects"))


def test_panel_and_open(ip, srv, proj):
    proj.write("nb.ipynb", '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    r = run(ip, "w = %cocalc panel")
    assert r.ok, r
    assert type(ip.user_ns["w"]).__name__ == "CoCalcPanel"
    r = run(ip, f"v = %cocalc open -p {proj.project_id} nb.ipynb")
    assert r.ok, r
    assert type(ip.user_ns["v"]).__name__ == "CoCalcPanel"
    state = repr(ip.user_ns["v"].get_state())
    assert srv.api_key not in state
