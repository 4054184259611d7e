"""The magics' own logic, without a server: registration, help, parsing, usage errors, secrets
refused as arguments, completion, %config, unloading, what loading imports, result capture."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from cocalc_magic.magics import args as A
from cocalc_magic.magics.display import Listing, MaskedToken, Report, mask, result_fate, scrub
from magic_helpers import completions, run

ROOT = Path(__file__).resolve().parents[2]


def test_registered(ip):
    m = ip.magics_manager.magics
    assert "cocalc" in m["line"]
    assert {"cocalc_write", "cocalc_exec"} <= set(m["cell"])


@pytest.mark.parametrize("cell", ["%cocalc help", "%cocalc", "%cocalc --help"])
def test_help_lists_every_subcommand(ip, cell):
    r = run(ip, cell)
    assert r.ok, r
    assert r.stdout.startswith("Usage: %cocalc SUBCOMMAND [options]")
    for name, summary in A.SUBCOMMANDS.items():
        assert f"  {name}" in r.stdout and summary in r.stdout
    assert "%%cocalc_write [-p PROJECT] [-a] PATH" in r.stdout
    assert "%%cocalc_exec [-p PROJECT] [--timeout S]" in r.stdout


@pytest.mark.parametrize("name", [n for n in A.SUBCOMMANDS if n != "help"])
def test_every_subcommand_has_help(ip, name):
    r = run(ip, f"%cocalc {name} --help")
    assert r.ok, r
    assert r.stdout.startswith(f"usage: %cocalc {name} ")
    assert "-h, --help" in r.stdout
    assert r.result is None


@pytest.mark.parametrize("magic", ["cocalc_write", "cocalc_exec"])
def test_cell_magics_have_help(ip, magic):
    r = run(ip, f"%%{magic} --help\nbody\n")
    assert r.ok, r
    assert r.stdout.startswith(f"usage: %%{magic} ")
    assert re.search(r"-p( PROJECT)?, --project PROJECT", r.stdout)  # Python 3.13 drops the first PROJECT


def test_unknown_subcommand_suggests(ip):
    r = run(ip, "%cocalc pign")
    assert not r.ok and isinstance(r.error, UsageError)
    assert "UsageError: unknown subcommand 'pign'. Did you mean 'ping'? %cocalc help lists them." in r.stderr
    r = run(ip, "%cocalc frobnicate")
    assert "unknown subcommand 'frobnicate'. %cocalc help lists them." in r.stderr


@pytest.mark.parametrize("cell, message, usage", [
    ("%cocalc read", "the following arguments are required: PATH", "usage: %cocalc read"),
    ("%cocalc copy a.txt", "the following arguments are required: --to", "usage: %cocalc copy"),
    ("%cocalc exec -p myproject", "missing COMMAND", "usage: %cocalc exec [-h] [-p PROJECT] [--timeout S] COMMAND ..."),
    ("%cocalc exec --timeout soon ls", "argument --timeout: invalid float value: 'soon'", "usage: %cocalc exec"),
    ("%cocalc ping extra", "unrecognized arguments: extra", "usage: %cocalc ping [-h]"),
    ("%cocalc ls 'unbalanced", "cannot parse", ""),
    ("%%cocalc_write\nbody", "the following arguments are required: PATH", "usage: %%cocalc_write"),
])
def test_usage_errors_show_the_usage(ip, cell, message, usage):
    r = run(ip, cell)
    assert not r.ok and isinstance(r.error, UsageError), r
    assert message in r.stderr
    assert usage in r.stderr
    assert "Traceback" not in r.stdout + r.stderr


@pytest.mark.parametrize("cell", [
    "%cocalc login --api-key sk-AbCdEfGh12345678",
    "%cocalc login --key=sk-AbCdEfGh12345678",
    "%cocalc whoami --password hunter2hunter2",
    "%cocalc token --token sk_AbCdEfGh12345678",
])
def test_secrets_are_never_arguments(ip, cell):
    r = run(ip, cell)
    assert not r.ok and isinstance(r.error, UsageError)
    assert "secrets are never magic arguments" in r.stderr and "%cocalc login" in r.stderr
    assert "AbCdEfGh12345678" not in r.stdout + r.stderr
    assert "hunter2hunter2" not in r.stdout + r.stderr


def test_a_key_typed_as_an_argument_is_masked_in_the_error(ip):
    r = run(ip, "%cocalc login sk-AbCdEfGh12345678")
    assert not r.ok
    assert "unrecognized arguments: sk-…5678" in r.stderr
    assert "AbCdEfGh1234" not in r.stdout + r.stderr


@pytest.mark.parametrize("rest, opts, command", [
    ("ls -la", [], "ls -la"),
    ("-p 'My Project' --timeout 5 echo 'a  b' | wc -c", ["-p", "My Project", "--timeout", "5"], "echo 'a  b' | wc -c"),
    ("--project=abc grep -h x *.txt", ["--project=abc"], "grep -h x *.txt"),
    ("-- -weird-command --flag", [], "-weird-command --flag"),
    ("-p x", ["-p", "x"], ""),
])
def test_exec_keeps_the_command_as_typed(rest, opts, command):
    assert A.split_exec(rest) == (opts, command)


def test_completion_of_subcommands_and_options(ip):
    assert completions(ip, "%cocalc pi") == ["ping"]
    assert set(completions(ip, "%cocalc s")) == {"session", "start", "stop", "state", "sync"}
    assert "--timeout" in completions(ip, "%cocalc exec --t")
    assert completions(ip, "%cocalc read --n") == ["--next-cell"]
    assert "--append" in completions(ip, "%%cocalc_write --a")


def test_completion_of_project_titles_from_the_cache(ip, magics, monkeypatch):
    refreshed = []
    monkeypatch.setattr(magics, "_refresh_titles", lambda: refreshed.append(threading.current_thread()))
    magics._remember_titles(["Alpha", "Alpine lab", "Beta"], complete=True)
    assert completions(ip, "%cocalc use Al") == ["Alpha"]
    assert completions(ip, "%cocalc exec -p Be") == ["Beta"]
    assert completions(ip, "%cocalc ls --project Alp") == ["Alpha"]
    assert completions(ip, "%cocalc copy x --to B") == ["Beta"]
    assert completions(ip, "%cocalc state Be") == ["Beta"]
    assert completions(ip, "%%cocalc_write -p Al") == ["Alpha"]
    assert refreshed == []  # the cache is fresh: no fetch at all


def test_a_stale_cache_is_refreshed_in_the_background_once(ip, magics, monkeypatch):
    gate = threading.Event()
    calls = []

    def slow_refresh():
        calls.append(threading.current_thread())
        gate.wait(10)  # a server that does not answer: completion must not wait for it
        magics._remember_titles(["Gamma"], complete=True)
        magics._refreshing = False

    monkeypatch.setattr(magics, "_refresh_titles", slow_refresh)
    assert "Gamma" not in completions(ip, "%cocalc use G")  # nothing cached yet; answered at once
    assert "Gamma" not in completions(ip, "%cocalc use G")  # still refreshing: no second fetch
    assert len(calls) == 1 and calls[0] is not threading.main_thread()
    gate.set()
    calls[0].join(5)
    assert completions(ip, "%cocalc use G") == ["Gamma"]
    assert len(calls) == 1


def test_config_traits(ip, magics, caplog):
    r = run(ip, "%config CoCalcMagics")
    assert r.ok
    for name in ("api", "host", "project", "show_tracebacks", "timeout"):
        assert f"CoCalcMagics.{name}=" in r.stdout
    run(ip, "%config CoCalcMagics.host = 'http://127.0.0.1:9'")
    run(ip, "%config CoCalcMagics.timeout = 2.5")
    run(ip, "%config CoCalcMagics.api = 'V1'")
    run(ip, "%config CoCalcMagics.show_tracebacks = True")
    assert (magics.host, magics.timeout, magics.api, magics.show_tracebacks) == ("http://127.0.0.1:9", 2.5, "v1", True)
    r = run(ip, "%config CoCalcMagics.api = 'v3'")
    assert magics.api == "v1"  # refused; %config logs the reason
    assert "expected any of ['auto', 'v1', 'conat', 'ai', 'current'] (case-insensitive), not the str 'v3'" in caplog.text


def test_config_from_the_profile(clean_env):
    from traitlets.config import Config

    from magic_helpers import dispose_shell, make_shell

    cfg = Config()
    cfg.CoCalcMagics.host = "http://127.0.0.1:9"
    cfg.CoCalcMagics.project = "Alpha"
    shell = make_shell(cfg)
    try:
        m = shell.magics_manager.registry["CoCalcMagics"]
        assert (m.host, m.project) == ("http://127.0.0.1:9", "Alpha")
    finally:
        dispose_shell(shell)


def test_unload_and_reload(ip):
    ip.extension_manager.unload_extension("cocalc_magic")
    assert "cocalc" not in ip.magics_manager.magics["line"]
    assert "cocalc_exec" not in ip.magics_manager.magics["cell"]
    assert "CoCalcMagics" not in {type(c).__name__ for c in ip.configurables}
    assert "%cocalc" not in ip.strdispatchers["complete_command"].strs
    ip.extension_manager.load_extension("cocalc_magic")
    assert run(ip, "%cocalc help").ok
    assert completions(ip, "%cocalc pi") == ["ping"]


def test_loading_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "before = set(sys.modules)\n"
        "ip.run_line_magic('load_ext', 'cocalc_magic')\n"
        "assert 'cocalc' in ip.magics_manager.magics['line']\n"
        "new = sorted(set(sys.modules) - before)\n"
        "print('\\n'.join(new))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "COCALC_MAGIC_NO_AUTOLOAD": "1"})
    assert out.returncode == 0, out.stderr
    new = {m for m in out.stdout.split() if not m.startswith("IPython.")}  # %load_ext's own module
    assert new <= {"cocalc_magic", "cocalc_magic.version", "cocalc_magic.magics", "cocalc_magic.magics.core",
                   "cocalc_magic.magics.args", "cocalc_magic.magics.display", "cocalc_magic.magics.transfer",
                   "cocalc_magic.magics.settings_cache", "cocalc_magic.magics.run",
                   "shlex", "dis", "opcode", "html", "html.entities"}, new
    for heavy in ("requests", "cocalc_magic.client", "cocalc_magic.settings", "anywidget", "ipywidgets", "tornado",
                  "cocalc_magic.server"):
        assert heavy not in new


def test_result_fate_sees_assignment_and_display(ip):
    seen = []
    ip.register_magic_function(lambda line: seen.append(result_fate()) or seen[-1], "line", "fate")
    r = run(ip, "x = %fate")
    assert r.ok and ip.user_ns["x"] == "kept"
    r = run(ip, "%fate")
    assert seen[-1] == "display"
    r = run(ip, "%fate\ny = 1")
    assert seen[-1] == "discard"
    r = run(ip, "print(get_ipython().run_line_magic('fate', ''))")
    assert seen[-1] == "kept" and r.stdout == "kept\n"


def test_read_into_must_be_a_name(ip):
    r = run(ip, "%cocalc read notes.txt --into 1x")
    assert not r.ok and "--into '1x': not a Python variable name." in r.stdout


def test_masking_and_scrubbing():
    assert mask("sk-AbCdEfGh12345678").endswith("5678") and "AbCd" not in mask("sk-AbCdEfGh12345678")
    text = scrub("key sk_abcdefghijkl9999 and token tok123456789", "tok123456789")
    assert "abcdefgh" not in text and "tok123456789" not in text and "9999" in text
    assert scrub("no project matches 'sk-learn-demo'") == "no project matches 'sk-learn-demo'"


def test_masked_token_is_usable_but_never_shown():
    t = MaskedToken("Zq8secretTOKENvalue42")
    assert str(t) == "Zq8secretTOKENvalue42" and t + "" == "Zq8secretTOKENvalue42"
    assert "secretTOKEN" not in repr(t) and repr(t).endswith("ue42>")
    assert "secretTOKEN" not in t._repr_html_()


def test_listing_and_report_display():
    from dataclasses import dataclass
    from datetime import datetime

    @dataclass
    class FE:
        name: str
        size: int
        mtime: datetime
        isdir: bool

    ls = Listing([FE("data", 4096, datetime(2026, 1, 2, 3, 4), True), FE("a.txt", 12, datetime(2026, 1, 2, 3, 5), False)],
                 "Alpha", "")
    assert repr(ls).splitlines() == ["2 entries in ~ of Alpha", "  data/        2026-01-02 03:04",
                                     "  a.txt  12 B  2026-01-02 03:05"]
    assert "<code>data/</code>" in ls._repr_html_() and "<td style='text-align:right'>12 B</td>" in ls._repr_html_()
    assert repr(Listing([], "Alpha", "sub")) == "no entries in ~/sub of Alpha"
    rep = Report("CoCalc settings", [("host", "http://h"), ("api_key", "sk-…1234")])
    assert repr(rep) == "CoCalc settings\n  host     http://h\n  api_key  sk-…1234"
    assert "<th style='text-align:left'>api_key</th>" in rep._repr_html_()


def test_bad_setting_is_one_line(ip):
    run(ip, "%config CoCalcMagics.timeout = -1.0")
    r = run(ip, "%cocalc ping")
    assert not r.ok and r.stdout == "Bad setting: timeout must be positive, not -1.0.\n", r
