"""What to do about an error, worded for where it is shown: one table, one entry per hint.

An error names its hint by id (``NotFound(..., hint="no_file")``); the Python client shows the
``python`` wording (``str(err)``), the magics the ``magic`` one, ``%cocalc login`` the ``login``
one. A caller without its own wording gets the Python text. Pure data: no imports.
"""

from __future__ import annotations

CALLERS = ("python", "magic", "login")

HINTS: dict[str, dict[str, str]] = {
    # -- the key
    "key": {
        "python": "Check the API key (CoCalc(api_key=...) or COCALC_API_KEY); listing projects needs an "
                  "account key, not a project key",
        "magic": "Check the key: %cocalc login saves a new one, or set COCALC_API_KEY; %cocalc whoami shows "
                 "which key is used",
        "login": "Check that the key is one of this server's (Account → Settings → API keys there)",
    },
    "key_malformed": {
        "python": "CoCalc keys start with sk- or sk_ (Account → Settings → API keys); pass the whole key",
        "magic": "CoCalc keys start with sk- or sk_ (Account → Settings → API keys): %cocalc login saves the "
                 "whole key",
        "login": "CoCalc keys start with sk- or sk_ (Account → Settings → API keys); paste the whole key",
    },
    "no_key": {
        "python": "Set COCALC_API_KEY or pass CoCalc(api_key=...)",
        "magic": "Run %cocalc login (it asks for the key and saves it), or set COCALC_API_KEY",
    },
    "sign_in": {
        "python": "Check the email address and password",
    },
    # -- access
    "permission": {
        "python": "Use the key of an account that collaborates on the project, or ask its owner to add you",
    },
    "account_key": {
        "python": "Use an account API key, not a project key",
    },
    "token_password": {
        "python": "Give that account's password (password=...), or use an admin's key",
        "magic": "Add --ask-password (it asks for that account's password), or use an admin's key",
    },
    # -- names, paths
    "not_found": {
        "python": "Check the name, path or id; cc.projects() lists your projects and p.listing() a folder",
        "magic": "Check the name, path or id; %cocalc projects lists your projects and %cocalc ls a folder",
    },
    "no_file": {
        "python": "Check the path (relative to the project's home); p.listing() shows what is there",
        "magic": "Check the path (relative to the project's home); %cocalc ls shows what is there",
    },
    "is_file": {
        "python": "p.read(path) reads it",
        "magic": "%cocalc read PATH shows it",
    },
    "outside_home": {
        "python": "Use a path inside the project's home (a relative path starts there)",
    },
    "empty_path": {
        "python": "Give a path relative to the project's home",
    },
    "project_ref": {
        "python": "cc.projects() lists your projects",
        "magic": "%cocalc projects lists your projects",
    },
    "project_ambiguous": {
        "python": "Use the project id, e.g. cc.project('<project_id>') with one of the ids above",
        "magic": "Use the project id, e.g. -p <project_id> with one of the ids above",
    },
    "project_title": {
        "python": "Check the title, use the project id (cc.projects(all=True) lists them), or "
                  "cc.project(title, create=True) to create it",
        "magic": "Check the title, or use the project id (%cocalc projects --all lists them); %cocalc create "
                 "TITLE makes one",
    },
    "default_project": {
        "python": "Pass CoCalc(project=...), set COCALC_PROJECT_ID, or call cc.project(...) yourself",
        "magic": "Pass -p PROJECT, run %cocalc use PROJECT, or set COCALC_PROJECT_ID",
    },
    # -- the request
    "invalid": {
        "python": "Fix the arguments of the call",
        "magic": "Fix the arguments (%cocalc SUBCOMMAND --help shows them)",
    },
    "not_text": {
        "python": "Use p.write_bytes(path, data) for binary content",
    },
    "empty_command": {
        "python": "Give a command, e.g. p.exec('ls -la')",
        "magic": "Give a command, e.g. %cocalc exec ls -la",
    },
    "large_read": {
        "python": "Read it in pieces through exec (e.g. p.exec('head', '-c', '1000000', path)) or copy it elsewhere",
        "magic": "Read it in pieces (%cocalc exec head -c 1000000 PATH), or %cocalc pull it",
    },
    "large_write": {
        "python": "Send less per call (cc.max_write_bytes is the largest write)",
        "magic": "Send less per call, or fetch it from inside the project (%cocalc exec curl -O URL)",
    },
    "arg_too_long": {
        "python": "Write the long text to a file with p.write() and pass the file's name instead",
        "magic": "Write the long text to a file (%%cocalc_write PATH) and pass the file's name instead",
    },
    "no_command": {
        "python": "Check the command's name and that it is installed in the project (and that the folder "
                  "given as path= exists: CoCalc reports a missing folder the same way)",
        "magic": "Check the command's name and that it is installed in the project (and that the folder "
                 "it runs in exists: CoCalc reports a missing folder the same way)",
    },
    "exec_failed": {
        "python": "Its exit code and stderr are above; p.exec(..., err_on_exit=False) returns them as a result",
        "magic": "Its exit code and stderr are above",
    },
    "no_kernel": {
        "python": "Use one of the kernels the message lists",
    },
    "fresh_auth": {
        "python": "Sign in again in CoCalc's web interface with your second factor, then retry there",
    },
    "exists": {
        "python": "Use another name or address, or use the existing one",
    },
    "no_host": {
        "python": "Start the project first (p.start()); if it persists, use p.exec(), which goes through the "
                  "project bridge",
        "magic": "Start the project first (%cocalc start); if it persists, use %cocalc exec, which goes through "
                 "the project bridge",
    },
    "not_running": {
        "python": "Start it first: p.start() (p.exec, p.read, p.write and the magics start it themselves)",
        "magic": "Start it first: %cocalc start (the other magics start it themselves)",
    },
    "web_ui": {
        "python": "Do it in CoCalc's web interface instead",
    },
    "key_cookie": {
        "python": "Send the key in the Authorization header (as this client does), not as a cookie",
    },
    # -- time, load, the server
    "rate": {
        "python": "Wait a little and try again",
    },
    "timeout": {
        "python": "Try again, pass a larger timeout=, or run long commands with p.exec(..., background=True)",
        "magic": "Try again, or give it more time with --timeout S",
    },
    "exec_timeout": {
        "python": "Pass a larger timeout=, or use p.exec(..., background=True) for long commands",
        "magic": "Give it more time with --timeout S (e.g. %cocalc exec --timeout 300 ...)",
    },
    "slow_answer": {
        "python": "The server may be overloaded or the call slow: try again, or pass a larger timeout=",
        "magic": "The server may be overloaded or the call slow: try again, or set %config CoCalcMagics.timeout",
    },
    "start_timeout": {
        "python": "Check it in CoCalc, or call p.start(timeout=...) with more time",
        "magic": "Check it in CoCalc, or run %cocalc start again to wait longer",
    },
    "job_wait": {
        "python": "Call .wait() again, .poll() later, or .cancel() it",
    },
    "job_gone": {
        "python": "Start it again if you still need its result",
    },
    "server": {
        "python": "Try again in a moment; if it persists, the server's administrator has to look at it",
    },
    "proxy_down": {
        "python": "The server behind the proxy is down or restarting; try again in a moment",
    },
    "protocol": {
        "python": "Check that the host is the CoCalc server itself (not a proxy, login or error page) and try again",
    },
    "not_cocalc": {
        "python": "Check the host: it should be the address of a CoCalc server, e.g. https://cocalc.ai",
    },
    "wrong_generation": {
        "python": "Check the host, and cc.api (this server may speak another API generation)",
        "magic": "Check the host, and %config CoCalcMagics.api (this server may speak another API generation)",
    },
    "redirect": {
        "python": "Use the address it redirects to as the host (often https:// instead of http://)",
    },
    "connection": {
        "python": "Check the host (cc.host) and your network, and that the server is running",
        "magic": "Check the host (%cocalc whoami shows it) and your network, and that the server is running",
    },
    "command_failed": {
        "python": "Look at .result.stderr; pass err_on_exit=False to get the result instead of an error",
    },
    "sync_again": {
        "python": "What finished is recorded: run p.sync(...) again to finish",
        "magic": "What finished is recorded: run the same %cocalc sync again to finish",
    },
    # -- organizations (client/org.py)
    "org_admin": {
        "python": "Use the API key of a site admin or of an admin of this organization (a site admin makes "
                  "one with cc.org(name).add_admin(user))",
    },
    "site_admin": {
        "python": "Only a site admin's API key can do this (an org admin's cannot)",
    },
    "no_org": {
        "python": "Check the name; a site admin lists them with cc.orgs() and creates one with cc.create_org(name)",
    },
    "no_account": {
        "python": "Give the account's id or its email address",
    },
    "not_in_org": {
        "python": "Sign-in links are only for members: create the account with org.create_user or add it "
                  "with org.add_user",
    },
    "other_org": {
        "python": "Move it first with org.add_user(user) (site admins)",
    },
    "org_taken": {
        "python": "Use cc.org(name) to work with the existing one, or cc.create_org(name, exist_ok=True)",
    },
    "email_taken": {
        "python": "Use org.get_or_create_user(email) to reuse it, or another address",
    },
    "org_name_long": {
        "python": "Use at most 39 characters",
    },
    "no_orgs": {
        "python": "Organizations need a CoCalc of 2025-08 or newer; here make accounts with cc.create_account "
                  "and sign-in tokens with cc.auth_token",
    },
    "generic": {
        "python": "See the message above; cc.settings shows which server and key are in use",
        "magic": "See the message above; %cocalc whoami shows which server and key are in use",
    },
    # -- a cell in a project's Jupyter kernel (client/jupyter, %%cocalc_run)
    "run_kernel": {
        "python": "Pick one of those kernels: p.run(..., kernel=NAME); p.kernels() lists them",
        "magic": "Pick one of them with --kernel NAME; %cocalc kernels lists them",
    },
    "run_timeout": {
        "python": "Give it more time with p.run(..., timeout=S), or run long work as a script with p.exec",
        "magic": "Give it more time with --timeout S, or run long work as a script: %cocalc exec python3 script.py",
    },
    "run_timeout_fixed": {
        "python": "Pass a timeout within that limit, or run long work as a script with p.exec",
        "magic": "Use a --timeout within that limit, or run long work as a script: %cocalc exec python3 script.py",
    },
    "run_no_answer": {
        "python": "Check what the cell does (a long history to replay? a slow start?), then run it again only "
                  "if repeating it is harmless",
        "magic": "Check what the cell does (a long session to replay? then --fresh or %cocalc session reset), "
                 "then run it again only if repeating it is harmless",
    },
    "run_vars_big": {
        "python": "Bring back less (e.g. df.head(1000)), or save it to a file in the project and p.read it",
        "magic": "Bring back less (e.g. -o on df.head(1000)), or save it to a file in the project and "
                 "%cocalc pull it",
    },
    "run_print_less": {
        "python": "Print less in that cell, or bring the variables back from a cell of their own",
        "magic": "Print less in that cell, or bring the variables back with -o from a cell of their own",
    },
}


def text(hint_id: str, caller: str = "python") -> str:
    """The wording of ``hint_id`` for ``caller`` ("python", "magic", "login"); Python's if it has none.

    The login wording falls back to the magic one before Python's (it is shown in a magic).
    """
    entry = HINTS[hint_id]
    if caller in entry:
        return entry[caller]
    if caller == "login" and "magic" in entry:
        return entry["magic"]
    return entry["python"]
