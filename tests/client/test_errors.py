"""Every error text of the facts sheet and the recordings lands in the right class, one line."""

from __future__ import annotations

import pickle
import re

import pytest

from cocalc_magic import errors as E

TEXTS = [
    # (text, HTTP status, class) — texts verbatim from real-hub/real-v1 transcripts and the facts sheet
    ("You must provide authentication via an API key.", 400, E.AuthenticationError),
    ("No account found. Is your API key wrong?", 400, E.AuthenticationError),
    ('error: value "21315208307" is out of range for type integer', 400, E.AuthenticationError),
    ("User is BANNED.  If this is a mistake, please contact help@cocalc.com", 400, E.AuthenticationError),
    ("Unknown authorization type 'Token'", 200, E.AuthenticationError),
    ("must be signed in and MUST provide an api key (cookies are not allowed)", 200, E.AuthenticationError),
    ("must sign in as project or account", 200, E.AuthenticationError),
    ("Problem signing into account -- no account with email address 'x@y.z'.", 200, E.AuthenticationError),
    ("unknown endpoint 'no_such_thing'", 400, E.NotFound),
    ("endpoint 'delete_account' is not part of the HTTP API", 400, E.NotFound),
    ("unknown message event type 'ping'", 400, E.NotFound),
    ("Error: unknown function 'system.doesNotExist'", 200, E.NotFound),
    ("Error: ENOENT: no such file or directory, open 'does/not/exist.txt'", 200, E.NotFound),
    ("FATAL: unknown project_id '00000000-0000-4000-8000-000000000000'", 200, E.NotFound),
    ("Error: Async operation '00000000-0000-4000-8000-000000000000' does not exist.", 200, E.NotFound),
    ("Error: no api key with id 999999", 200, E.NotFound),
    ("invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'bogus' '", 400,
     E.InvalidRequest),
    ("invalid parameters 'Error: misc.defaults -- TypeError: property 'project_id' must be specified: '", 400,
     E.InvalidRequest),
    ("Read access denied -- invalid project_id -- not-a-uuid", 200, E.InvalidRequest),
    ("Error: invalid account_id or project_id -- all must be valid uuid's", 200, E.InvalidRequest),
    ("Error: project_id must be a valid UUID", 200, E.InvalidRequest),
    ('postgresql error: invalid input syntax for type uuid: "not-a-uuid"', 200, E.InvalidRequest),
    ("TypeError: Cannot read properties of undefined (reading 'split')", 200, E.InvalidRequest),
    ("FATAL: get queries not allowed for table 'nosuchtable'", 200, E.InvalidRequest),
    ("FATAL: must specify exactly one key in the query", 200, E.InvalidRequest),
    ("must specify project_id or use project-specific api key", 200, E.InvalidRequest),
    ("Error: EISDIR: illegal operation on a directory, read", 200, E.InvalidRequest),
    ("Error: ENOTDIR: not a directory, opendir '/home/x/tx/empty.txt'", 200, E.InvalidRequest),
    ('error: malformed array literal: "n"', 200, E.InvalidRequest),
    ("Attempt to open large file of size 11MB; the maximum allowed size is 10MB. Use vim, emacs, or pico from a "
     "terminal instead.", 200, E.InvalidRequest),
    ("Body exceeded 1mb limit", 413, E.InvalidRequest),
    ("User 1 does not have write access to project 2", 200, E.PermissionDenied),
    ("Error: must be collaborator on project to start it", 200, E.PermissionDenied),
    ("user must be a collaborator on the project", 200, E.PermissionDenied),
    ("project specific api key must match requested project", 200, E.PermissionDenied),
    ("FATAL: user must be an admin", 200, E.PermissionDenied),
    ("Error: Must be an admin to do admin search.", 200, E.PermissionDenied),
    ("Error: must be an owner to delete a project", 200, E.PermissionDenied),
    ('Error: cannot add self to "p" -- must be an admin', 200, E.PermissionDenied),
    ("OwnershipError: Cannot remove an owner. Demote to collaborator first.", 200, E.PermissionDenied),
    ("path 'a.txt' of project with id 'p' is not public", 200, E.PermissionDenied),
    ("Error: incorrect password", 200, E.AuthenticationError),
    ("Error: banned -- please wait at least #{BAN_TIME_MS/1000}s before trying again", 200, E.RateLimited),
    ("too many requests to accounts/get-names; try again in 1 second(s) (rule: at most 3 request(s) per 1 second)",
     200, E.RateLimited),
    ("timeout - callHub: subject='hub.account.a.api', name='projects.copyPathBetweenProjects', code='408' ", 200,
     E.ServerTimeout),
    ("Error: request -- no subscribers matching 'project.p.0.api.-' - callHub: subject='project.p.0.api.-', "
     "name='system.ping', code='503' ", 200, E.ServerError),
    ("killed command 'bash /tmp/x/a.sh'", 200, E.ServerTimeout),
    ("Timeout communicating with project.", 200, E.ServerTimeout),
    ("Error: stripe customer not defined", 200, E.NotFound),
]


@pytest.mark.parametrize("text,status,cls", TEXTS, ids=[t[0][:40] for t in TEXTS])
def test_classify(text, status, cls):
    err = E.classify(text, status=status, endpoint="/api/x")
    assert type(err) is cls
    line = str(err)
    assert "\n" not in line and line.endswith(err.hint) and not re.search(r"HTTP \d{3}|/api/x", line)
    assert err.server_message == " ".join(text.split())
    assert err.status == status and err.endpoint == "/api/x"


def test_retryable_only_for_transient_texts():
    assert E.classify("timeout - callHub: subject='s', name='n', code='408' ").retryable
    assert E.classify("no subscribers matching 's'").retryable
    assert not E.classify("Error: incorrect password").retryable
    assert E.classify("x", status=503).retryable and not E.classify("x", status=500).retryable


def test_errors_pickle_and_long_texts_stay_short():
    err = E.classify("Error: ENOENT: " + "x" * 5000, status=200, endpoint="/e")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is E.NotFound and str(again) == str(err)
    assert len(str(err)) < 1200
    assert all(issubclass(c, E.CoCalcError) for c in E.ALL_ERRORS)
