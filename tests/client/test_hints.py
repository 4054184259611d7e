"""The hints table: every entry has a Python wording; magic wordings name no Python call and
Python wordings no magic; server-side home paths are written relative to the home."""

from __future__ import annotations

import re

from cocalc_magic import errors
from cocalc_magic.hints import HINTS, text

PYTHON_ONLY = re.compile(r"\bcc\.|\bp\.\w+\(|timeout=|CoCalc\(")
MAGIC_ONLY = re.compile(r"%cocalc|--timeout|--all|-p ")


def test_every_hint_has_a_python_wording_and_magic_wordings_name_no_python():
    for hint_id, entry in HINTS.items():
        assert entry["python"] and "\n" not in "".join(entry.values()), hint_id
        assert not MAGIC_ONLY.search(entry["python"]), hint_id
        for caller in ("magic", "login"):
            if caller in entry:
                assert not PYTHON_ONLY.search(entry[caller]), (hint_id, caller)
    assert "%cocalc login" not in text("key", "login") and "%cocalc login" in text("key", "magic")


def test_server_paths_in_texts_become_home_relative():
    text_ = "Error: ENOTDIR: not a directory, opendir '/srv/x/projects/0e5b2f3c-1111-4222-8333-944445555666/a/b'"
    assert errors.home_relative(text_) == "Error: ENOTDIR: not a directory, opendir 'a/b'"
    assert errors.home_relative("stat '/home/user/tx/nope.txt' and '/home/user'") == "stat 'tx/nope.txt' and '~'"
    assert errors.home_relative("/home/username/x") == "/home/username/x"


def test_error_line_is_worded_per_caller_and_keeps_the_status_off_it():
    err = errors.ServerTimeout("the command ran past its timeout of 1s", status=200, endpoint="/api/x",
                               hint="exec_timeout")
    assert str(err) == "the command ran past its timeout of 1s. " + text("exec_timeout")
    assert err.line("magic").endswith("Give it more time with --timeout S (e.g. %cocalc exec --timeout 300 ...)")
    assert err.status == 200 and err.endpoint == "/api/x" and "200" not in str(err)
    free = errors.NotFound("gone", hint="Look elsewhere")
    assert free.line("magic") == str(free) == "gone. Look elsewhere"
    assert errors.NotFound("gone", hint="").line("magic") == "gone"


def test_a_subclass_with_its_own_text_keeps_it():
    class Special(errors.PermissionDenied):
        hint = "Ask the site admin"

    assert Special("no").line("magic") == "no. Ask the site admin"
