"""Every error text in the three recordings lands in its class, in one line, and says "try again"
only when retrying may help (a timeout, a throttle, a service that is starting).

The table is checked against the recordings themselves when they are beside the checkout
(``../shared/reference/real-*-transcripts.md``): a text found there and missing here fails.
"""

from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path

import pytest

from cocalc_magic import errors as E

# (text verbatim from a recording's answer, class, whether it may pass by itself)
V1_TEXTS = [  # real-v1-transcripts.md (an older self-hosted CoCalc)
    ('Error: stripe customer not defined', E.NotFound, False),
    ('You must provide authentication via an API key.', E.AuthenticationError, False),
    ('error: value "21315208307" is out of range for type integer', E.AuthenticationError, False),
    ('No account found. Is your API key wrong?', E.AuthenticationError, False),
    ("unknown endpoint 'no_such_thing'", E.NotFound, False),
    ("endpoint 'delete_account' is not part of the HTTP API", E.NotFound, False),
    ("endpoint 'forgot_password' is not part of the HTTP API", E.NotFound, False),
    ("endpoint 'reset_forgot_password' is not part of the HTTP API", E.NotFound, False),
    ("endpoint 'unlink_passport' is not part of the HTTP API", E.NotFound, False),
    ("unknown endpoint 'revoke_auth_token'", E.NotFound, False),
    ("unknown endpoint 'public_get_directory_listing'", E.NotFound, False),
    ("unknown endpoint 'public_get_text_file'", E.NotFound, False),
    ('invalid parameters \'Error: ValueError: must not define \'event\' when calling message creation function (opts={"event":"ping"}, obj={"event":"ping"})\'', E.InvalidRequest, False),
    ("invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'bogus' '", E.InvalidRequest, False),
    ("invalid parameters 'Error: misc.defaults -- TypeError: property 'project_id' must be specified: '", E.InvalidRequest, False),
    ('invalid old password', E.AuthenticationError, False),
    ('email_already_taken', E.InvalidRequest, False),
    ('invalid_password', E.AuthenticationError, False),
    ('incorrect password', E.AuthenticationError, False),
    ("Error: ENOENT: no such file or directory, stat '<projects-dir>/{project_id}/nope/none.txt'", E.NotFound, False),
    ('Read access denied -- invalid project_id -- not-a-uuid', E.InvalidRequest, False),
    ("Error executing command 'sleep 5' with args '' -- killed command 'bash /tmp/cocalc-<str>/a.sh', undefined, undefined", E.ServerTimeout, False),
    ("Error executing command 'sleep' with args '30' -- killed command 'sleep 30', undefined, undefined", E.ServerTimeout, False),
    ("Error executing command 'false' with args '' -- command 'false' (args=) exited with nonzero code 1 -- stderr='', undefined, undefined", E.CommandFailed, False),
    ('User {account_id3} does not have write access to project {project_id}', E.PermissionDenied, False),
    ("FATAL: get queries not allowed for table 'nosuchtable'", E.InvalidRequest, False),
    ("path 'Assignments/A1/h1.txt' of project with id '{project_id}' is not public", E.PermissionDenied, False),
    ("Error: ENOENT: no such file or directory, stat '<projects-dir>/{project_id2}/A/doc.txt'", E.NotFound, False),
    ('deprecated', E.NotSupported, False),
    ("invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument 'url' '", E.InvalidRequest, False),
]

CONAT_TEXTS = [  # real-hub-transcripts.md (a self-hosted CoCalc of 2026-07)
    ("TypeError: Cannot read properties of undefined (reading 'split')", E.InvalidRequest, False),
    ("timeout - callHub: subject='…', name='…', code='408' ", E.ServerTimeout, True),
    ('must be signed in and MUST provide an api key (cookies are not allowed)', E.AuthenticationError, False),
    ("Unknown authorization type 'Token'", E.AuthenticationError, False),
    ("timeout - callHub: subject='hub.account.{account_id}.api', name='projects.copyPathBetweenProjects', code='408' ", E.ServerTimeout, True),
    ('error: malformed array literal: "n"', E.InvalidRequest, False),
    ('error: invalid input syntax for type uuid: "not-a-uuid"', E.InvalidRequest, False),
    ('TypeError: account_ids is not iterable', E.InvalidRequest, False),
    ('error: malformed array literal: "{account_id}"', E.InvalidRequest, False),
    ('Error: Must be an admin to do admin search.', E.PermissionDenied, False),
    ('Error: incorrect password', E.AuthenticationError, False),
    ('Error: banned -- please wait at least #{BAN_TIME_MS/1000}s before trying again', E.RateLimited, True),
    ('Error: no api key with id 999999', E.NotFound, False),
    ('Error: user must be collaborator on project to manage project_id api keys', E.PermissionDenied, False),
    ("Error: invalid account_id or project_id -- all must be valid uuid's", E.InvalidRequest, False),
    ('Error: must be collaborator on project to start it', E.PermissionDenied, False),
    ('TypeError: Spread syntax requires ...iterable[Symbol.iterator] to be a function', E.InvalidRequest, False),
    ('Error: must be collaborator on project to stop it', E.PermissionDenied, False),
    ('Error: must be collaborator on project to touch it', E.PermissionDenied, False),
    ('Error: must be collaborator on project to get state', E.PermissionDenied, False),
    ("TypeError: Cannot create property 'account_id' on string '{project_id5}'", E.InvalidRequest, False),
    ('Error: must be collaborator on project to get status', E.PermissionDenied, False),
    ('Error: user must be collaborator on source project', E.PermissionDenied, False),
    ('Error: user must be collaborator on target project', E.PermissionDenied, False),
    ("Error: ENOENT: no such file or directory, stat '<home>/does/not/exist.txt'", E.NotFound, False),
    ('Error: path must be specified', E.InvalidRequest, False),
    ("TypeError: Cannot read properties of undefined (reading 'project_id')", E.InvalidRequest, False),
    ('Error: cannot add self to "{project_id2}" -- must be an admin', E.PermissionDenied, False),
    ('OwnershipError: Cannot remove an owner. Demote to collaborator first.', E.PermissionDenied, False),
    ('Error: user must be a collaborator', E.PermissionDenied, False),
    ('Error: project_id must be a valid UUID', E.InvalidRequest, False),
    ('Error: must be an owner to delete a project', E.PermissionDenied, False),
    ("FATAL: unknown project_id '00000000-0000-4000-8000-000000000000'", E.NotFound, False),
    ('FATAL: user must be an admin', E.PermissionDenied, False),
    ("FATAL: get queries not allowed for table 'no_such_table'", E.InvalidRequest, False),
    ('FATAL: user get query not allowed for projects.no_such_field', E.InvalidRequest, False),
    ("TypeError: Cannot read properties of undefined (reading 'undefined')", E.InvalidRequest, False),
    ('postgresql error: invalid input syntax for type uuid: "not-a-uuid"', E.InvalidRequest, False),
    ('FATAL: must specify exactly one key in the query', E.InvalidRequest, False),
    ('Error: Error: **Unable to Spawn Jupyter Kernel:**\n\nError: No spec available for kernel "python3".  Available specs: [] \n\nTry this in a terminal to help debug this (or contact support): `jupyter console --kernel=python3`\n\nOnce you fix the problem, explicitly restart this kernel to test here.', E.NotFound, False),
    ("Error: unknown function 'system.doesNotExist'", E.NotFound, False),
    ("Error: unknown function 'nosuchgroup.fn'", E.NotFound, False),
    ('project specific api key must match requested project', E.PermissionDenied, False),
    ("invalid account_id or project_id -- all must be valid uuid's", E.InvalidRequest, False),
    ('user must be a collaborator on the project', E.PermissionDenied, False),
    ('must specify project_id or use project-specific api key', E.InvalidRequest, False),
    ('must sign in as project or account', E.AuthenticationError, False),
    ("command 'echo $HOME; whoami; pwd; ls -la hello; exit 3' exited with nonzero code 3 -- stderr=''", E.CommandFailed, False),
    ("killed command 'bash <tmpdir>/a.sh'", E.ServerTimeout, False),
    ('command \'\'definitely-not-a-command\' (args=)\' exited with nonzero code 1 -- stderr=\'{"errno":-2,"code":"ENOENT","syscall":"spawn definitely-not-a-command","path":"definitely-not-a-command","spawnargs":[]}\'', E.NotFound, False),
    ("command ''false' (args=)' exited with nonzero code 1 -- stderr=''", E.CommandFailed, False),
    ("command 'echo partial; echo boom >&2; exit 2' exited with nonzero code 2 -- stderr='boom\n'", E.CommandFailed, False),
    ("killed command 'sleep 5'", E.ServerTimeout, False),
    ("timeout - callHub: subject='project.{project_id}.0.api.-', name='system.exec', code='408' ", E.ServerTimeout, True),
    ('command \'\'echo "argc=$#"\' x y\' exited with nonzero code 127 -- stderr=\'<tmpdir>/a.sh: line 2: echo "argc=$#": command not found\n\'', E.CommandFailed, False),
    ('command \'\'pwd\' (args=)\' exited with nonzero code 1 -- stderr=\'{"errno":-2,"code":"ENOENT","syscall":"spawn pwd","path":"pwd","spawnargs":[]}\'', E.NotFound, False),
    ("Error: Async operation '00000000-0000-4000-8000-000000000000' does not exist.", E.NotFound, False),
    ("TypeError: Cannot read properties of undefined (reading 'length')", E.InvalidRequest, False),
    ('TypeError [ERR_INVALID_ARG_TYPE]: The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received undefined', E.InvalidRequest, False),
    ("Error: ENOENT: no such file or directory, open 'does/not/exist.txt'", E.NotFound, False),
    ('Error: EISDIR: illegal operation on a directory, read', E.InvalidRequest, False),
    ("TypeError: Cannot destructure property 'path' of 'undefined' as it is undefined.", E.InvalidRequest, False),
    ("Error: ENOENT: no such file or directory, opendir '<home>/no/such/dir'", E.NotFound, False),
    ("Error: ENOTDIR: not a directory, opendir '<home>/tx/empty.txt'", E.InvalidRequest, False),
    ("TypeError: Cannot read properties of undefined (reading 'map')", E.InvalidRequest, False),
    ("Error: ENOENT: no such file or directory, lstat '<home>/tx/scratch/nope.txt'", E.NotFound, False),
    ("Error: ENOENT: no such file or directory, realpath '<home>/tx/no-such-file'", E.NotFound, False),
    ("Error: ENOENT: no such file or directory, realpath '<home>/[object Object]'", E.NotFound, False),
    ('Must be signed in.', E.AuthenticationError, False),
    ('The `account_id` field may only be specified by account administrators.', E.PermissionDenied, False),
    ('user must be signed in', E.AuthenticationError, False),
    ('must be a collaborator to start project', E.PermissionDenied, False),
    ('project_id must be a valid uuid', E.InvalidRequest, False),
    ('must be a collaborator to stop project', E.PermissionDenied, False),
    ('must be signed in', E.AuthenticationError, False),
    ("must specify a 'path'", E.InvalidRequest, False),
    ('must include content of file', E.InvalidRequest, False),
    ('callProject -- authenticated user must be a collaborator on the project', E.PermissionDenied, False),
    ("Error executing command 'exit 7' with args 'undefined' -- command 'exit 7' exited with nonzero code 7 -- stderr=''", E.CommandFailed, False),
    ("Error executing command 'undefined' with args 'undefined' -- TypeError: Cannot read properties of undefined (reading 'split')", E.InvalidRequest, False),
    ("Error executing command 'sleep 5' with args 'undefined' -- killed command 'bash <tmpdir>/a.sh'", E.ServerTimeout, False),
    ("FATAL: anonymous get queries not allowed for table 'accounts'", E.InvalidRequest, False),
    ("Cannot read properties of undefined (reading 'undefined')", E.InvalidRequest, False),
    ('project_id must be a uuid', E.InvalidRequest, False),
    ('cannot add self to "{project_id2}" -- must be an admin', E.PermissionDenied, False),
    ('Cannot remove an owner. Demote to collaborator first.', E.PermissionDenied, False),
    ('user {account_id2} does not have write access to project {project_id2}', E.PermissionDenied, False),
    ('account_id is not a valid account', E.InvalidRequest, False),
    ('user must be collaborator on project to manage project_id api keys', E.PermissionDenied, False),
    ('invalid input syntax for type uuid: "not-a-uuid"', E.InvalidRequest, False),
    ('account_ids is not iterable', E.InvalidRequest, False),
    ("Problem signing into account -- password for '{email2}' is incorrect.", E.AuthenticationError, False),
    ("Problem signing into account -- no account with email address '{unknown_email}'.", E.AuthenticationError, False),
    ("Problem signing into account -- Cannot read properties of undefined (reading 'length').", E.InvalidRequest, False),
]

AI_TEXTS = [  # real-ai-transcripts.md (cocalc.ai)
    ("API keys are not allowed to call hub RPC 'undefined'", E.NotSupported, False),
    ("API key lacks required capability 'account:read'", E.PermissionDenied, False),
    ("API key lacks required capability 'project:create'", E.PermissionDenied, False),
    ("API key lacks required capability 'project:read' for project b0a58315-a148-4c30-9c88-8fac18570b19", E.PermissionDenied, False),
    ('API key project capability check requires project_id', E.InvalidRequest, False),
    ("project 428a1552-5b26-411f-818a-1802977eab86 has no assigned host - callHub: subject='hub.account.d281ee54-6b5e-46ee-b576-644506b288e0.api', name='projects.exec', code='unknown'", E.ServerError, False),
    ("API key lacks required capability 'project:exec' for project 428a1552-5b26-411f-818a-1802977eab86", E.PermissionDenied, False),
    ("calling remote function 'address': unable to determine project port - callHub: subject='hub.account.d281ee54-6b5e-46ee-b576-644506b288e0.api', name='projects.getProjectAddress', code='unknown'", E.ServerError, True),
    ("API keys are not allowed to call hub RPC 'db.userQuery'", E.NotSupported, False),
    ("API keys are not allowed to call hub RPC 'system.test'", E.NotSupported, False),
    ("API keys are not allowed to call hub RPC 'projects.start'", E.NotSupported, False),
    ("API keys are not allowed to call hub RPC 'projects.stop'", E.NotSupported, False),
    ("API keys are not allowed to call hub RPC 'system.getCustomize'", E.NotSupported, False),
    ("API keys are not allowed to call hub RPC 'system.manageApiKeys'", E.NotSupported, False),
    ("API keys are not allowed to call hub RPC 'system.generateUserAuthToken'", E.NotSupported, False),
    ("API keys are not allowed to call hub RPC 'system.createImpersonationGrant'", E.NotSupported, False),
    ("API keys are not allowed to call hub RPC 'projects.getProjects'", E.NotSupported, False),
    ("API keys are not allowed to call hub RPC 'foo.bar'", E.NotSupported, False),
    ("API keys are not allowed to call hub RPC 'null'", E.NotSupported, False),
    ("API key lacks required capability 'project:list'", E.PermissionDenied, False),
    ("API key lacks required capability 'project:exec' for project b0a58315-a148-4c30-9c88-8fac18570b19", E.PermissionDenied, False),
    ('project 428a1552-5b26-411f-818a-1802977eab86 has no assigned host', E.ServerError, False),
    ('API keys cannot manage account API keys', E.NotSupported, False),
    ('legacy HTTP API key mutations are disabled', E.NotSupported, False),
    ('API keys are not allowed to use user-query', E.NotSupported, False),
    ('API keys are not allowed to use browser bootstrap', E.NotSupported, False),
    ("command 'echo out; echo bad >&2; exit 7' exited with nonzero code 7 -- stderr='bad\n'", E.CommandFailed, False),
    ("command 'exit 7' exited with nonzero code 7 -- stderr=''", E.CommandFailed, False),
    ('command \'\'no-such-command-xyz\' (args=)\' exited with nonzero code 1 -- stderr=\'{"errno":-2,"code":"ENOENT","syscall":"spawn no-such-command-xyz","path":"no-such-command-xyz","spawnargs":[]}\'', E.NotFound, False),
    ("killed command 'bash /tmp/cocalc-LYWrZr/a.sh'", E.ServerTimeout, False),
    ("killed command 'bash /tmp/cocalc-SJLiFs/a.sh'", E.ServerTimeout, False),
    ("timeout - callHub: subject='project.428a1552-5b26-411f-818a-1802977eab86.api.-', name='system.exec', code='408' ", E.ServerTimeout, True),
    ("Error: ENOENT: no such file or directory, open 'api-test/nope.txt'", E.NotFound, False),
    ("Error: ENOENT: no such file or directory, opendir '<home>/does-not-exist'", E.NotFound, False),
    ('Error: **Unable to Spawn Jupyter Kernel:**\n\nError: No spec available for kernel "no-such-kernel".  Available specs: ["python3"] \n\nTry this in a terminal to help debug this (or contact support): `jupyter console --kernel=no-such-kernel`\n\nOnce you fix the problem, explicitly restart this kernel to test here.', E.NotFound, False),
    ('TypeError: Cannot convert undefined or null to object', E.InvalidRequest, False),
    ('Error: unknown function \'system.noSuchFunction\' -- available functions are ["exec","configuration","sshPublicKey","updateSshKeys","ping","version","listing","moveFiles","renameFile","writeTextFileToProject","readTextFileFromProject","managedVmSshPublicKey","updateManagedVmSshConfig","syncManagedVmSshConfig","realpath","readRootfsBuildLog","readRootfsBuildEvents","listRootfsBuilds","signal"]', E.NotFound, False),
    ('must specify project_id', E.InvalidRequest, False),
    ('must sign in with an account API key', E.AuthenticationError, False),
    ("API key lacks required capability 'project:exec' for project 00000000-0000-4000-8000-000000000000", E.PermissionDenied, False),
    ("API key lacks required capability 'project:exec' for project not-a-uuid", E.PermissionDenied, False),
    ("timeout - Error: operation has timed out subject:project.428a1552-5b26-411f-818a-1802977eab86.api.- - callHub: subject='project.428a1552-5b26-411f-818a-1802977eab86.api.-', name='system.ping', code='408' ", E.ServerTimeout, False),
    ("timeout - Error: operation has timed out subject:project.428a1552-5b26-411f-818a-1802977eab86.api.- - callHub: subject='project.428a1552-5b26-411f-818a-1802977eab86.api.-', name='system.exec', code='408' ", E.ServerTimeout, False),
    ("API keys with project, file, Codex, or exec capabilities must include at least one allowed project id - callHub: subject='hub.account.d281ee54-6b5e-46ee-b576-644506b288e0.api', name='system.manageApiKeys', code='unknown'", E.InvalidRequest, False),
    ("invalid API key capability 'project:admin' - callHub: subject='hub.account.d281ee54-6b5e-46ee-b576-644506b288e0.api', name='system.manageApiKeys', code='unknown'", E.InvalidRequest, False),
    ("fresh auth is required - callHub: subject='hub.account.d281ee54-6b5e-46ee-b576-644506b288e0.api', name='system.manageApiKeys', code='fresh_auth_required'", E.AuthenticationError, False),
    ('invalid second factor method', E.InvalidRequest, False),
    ('timeout - Error: Error: permission denied publishing to \'hub.account.d281ee54-6b5e-46ee-b576-644506b288e0.api\' from {"account_id":"d281ee54-6b5e-46ee-b576-644506b288e0","api_key_id":34,"key_id":"PYPPa-jKixV1oP8m","auth_method":"api_key","capabilities":["account:read","project:create","project:list","project:read","project:write","file:read","file:write","project:exec","codex:run"],"allowed_project_ids":["428a1552-5b26-411f-818a-1802977eab86"]} subject:hub.account.d281ee54-6b5e-46ee-b576-644506b288e0.api - callHub: subject=\'hub.account.d281ee54-6b5e-46ee-b576-644506b288e0.api\', name=\'system.ping\', code=\'408\'', E.PermissionDenied, False),
    ("an account with email 'kiosk-user@example.com' already exists - callHub: subject='hub.account.d281ee54-6b5e-46ee-b576-644506b288e0.api', name='system.adminCreateUser', code='unknown'", E.InvalidRequest, False),
]

TABLE = V1_TEXTS + CONAT_TEXTS + AI_TEXTS

# "error" fields of the recordings that are not answers: a request's own field, and placeholders.
NOT_ANSWERS = {"cannot load library xyz", "<message>", "…"}


@pytest.mark.parametrize("text,cls,may_pass", TABLE, ids=[f"{i:03d}-{t[0][:30]}" for i, t in enumerate(TABLE)])
def test_recorded_text(text, cls, may_pass):
    err = E.classify(text, status=200, endpoint="/api/x")
    line = str(err)
    assert type(err) is cls, line
    assert "\n" not in line and err.status == 200 and err.endpoint == "/api/x"
    assert ("try again" in line.lower()) is may_pass, line
    if not may_pass:
        assert not err.retryable


def _recorded_texts(path: Path) -> set[str]:
    found = set()
    for m in re.finditer(r'"error"\s*:\s*("(?:[^"\\]|\\.)*")', path.read_text(encoding="utf-8")):
        found.add(json.loads(m.group(1)))
    return found - NOT_ANSWERS


REFERENCE = Path(os.environ.get("COCALC_REFERENCE_DIR") or Path(__file__).resolve().parents[3] / "shared" / "reference")


@pytest.mark.parametrize("name", ["real-v1-transcripts.md", "real-hub-transcripts.md", "real-ai-transcripts.md"])
def test_table_covers_the_recordings(name):
    path = REFERENCE / name
    if not path.exists():
        pytest.skip(f"{path} is not beside this checkout")
    missing = _recorded_texts(path) - {t[0] for t in TABLE}
    assert not missing, f"error texts of {name} with no expected class here: {sorted(missing)}"


def test_capability_refusal_carries_capability_and_project():
    pid = "428a1552-5b26-411f-818a-1802977eab86"
    err = E.classify(f"API key lacks required capability 'project:exec' for project {pid}", status=200)
    assert (err.capability, err.project_id) == ("project:exec", pid)
    assert "Account → API keys" in str(err) and pid in str(err)
    again = pickle.loads(pickle.dumps(err))
    assert (type(again), again.capability, again.project_id, str(again)) == (E.PermissionDenied, "project:exec", pid,
                                                                            str(err))
    err = E.classify("API key lacks required capability 'project:list'")
    assert (err.capability, err.project_id) == ("project:list", None)


def test_key_refusals_say_what_to_do_instead():
    err = E.classify("API keys are not allowed to call hub RPC 'system.generateUserAuthToken'")
    assert "cocalc.ai does not let API keys call 'system.generateUserAuthToken'" in str(err)
    assert "new tab" in str(err)
    err = E.classify("legacy HTTP API key mutations are disabled")
    assert type(err) is E.NotSupported and "Account → API keys" in str(err)


@pytest.mark.parametrize("text,cls,words", [
    # texts of the local server (conat, ai) and of CoCalc's source where the recordings are silent
    ("Error: EACCES: permission denied, open '/etc/passwd'", E.PermissionDenied, "permission denied for '/etc/passwd'"),
    ("Error: EACCES: permission denied, open '../../x.txt'", E.PermissionDenied, "inside the project's home"),
    ("Error: EPERM: operation not permitted, unlink '/x'", E.PermissionDenied, "permission denied for '/x'"),
    ("error Error: spawn E2BIG", E.InvalidRequest, "128 KiB"),  # execute-code.ts: `error ${error}`
    ("Error: path '/etc/passwd' is outside the project's home directory", E.PermissionDenied,  # the local server
     "inside the project's home"),
    ("Body exceeded 1mb limit", E.InvalidRequest, "cc.max_write_bytes"),
    ("killed command 'sleep 30'", E.ServerTimeout, "larger timeout="),
])
def test_permanent_texts_never_say_try_again(text, cls, words):
    err = E.classify(text, status=200, endpoint="/api/x")
    assert type(err) is cls and words in str(err)
    assert "try again" not in str(err).lower() and not err.retryable


def test_moved_lines():
    err = E.moved("https://cocalc.com", "https://cocalc.ai/api/conat/hub", status=302, endpoint="/api/conat/hub")
    assert str(err) == ("cocalc.com has moved to https://cocalc.ai, and its API keys were not carried over: create a "
                      "key at https://cocalc.ai (Account → API keys) and set COCALC_HOST=https://cocalc.ai")
    assert err.location == "https://cocalc.ai/api/conat/hub" and err.status == 302
    err = E.moved("http://127.0.0.1:5000", "http://127.0.0.1:6000/x?auth_token=secret", status=307, endpoint="/e")
    assert "has moved to http://127.0.0.1:6000" in str(err) and "secret" not in str(err) + str(err.location)
    assert pickle.loads(pickle.dumps(err)).location == err.location


def test_every_error_class_is_importable_from_the_package():
    import cocalc_magic

    for cls in E.ALL_ERRORS:
        assert getattr(cocalc_magic, cls.__name__) is cls
