"""Parsing for ``%cocalc`` and the cell magics: one argparse parser per subcommand, whose errors are
IPython ``UsageError``s carrying the subcommand's usage, and whose ``--help`` prints and returns.

Pure: no client, no network. Imported on the first magic call, not when the extension loads.
"""

from __future__ import annotations

import argparse
import io
import shlex
from typing import Callable

from IPython.core.error import UsageError

from .display import SECRET_RE, mask

# name -> one line for `%cocalc help`, in the order shown there.
SUBCOMMANDS: dict[str, str] = {
    "help": "list the subcommands (each also takes --help)",
    "ping": "round trip to the server: server time, API generation, latency",
    "whoami": "host, masked key, where each setting came from, key scope",
    "login": "ask for an API key (or --email: a password) and save it for this machine",
    "logout": "forget the saved credentials",
    "projects": "your projects, newest first (--all: not only the recent ones; TEXT filters)",
    "use": "make PROJECT the default project for what follows (--create: create it if missing)",
    "create": "create a project (--start starts it)",
    "start": "start a project and wait until it runs",
    "stop": "stop a project",
    "restart": "restart a project",
    "state": "a project's state (opened, starting, running, ...)",
    "ls": "list a directory of a project",
    "read": "show a project's text file (--into VAR, --next-cell)",
    "exec": "run a shell command in a project; stdout and stderr as they are",
    "copy": "copy a file or directory to another project (--to PROJECT)",
    "push": "upload a local file to a project",
    "pull": "download a project's file to this machine",
    "sync": "keep a local folder and a project folder the same, both ways (--dry-run, --delete)",
    "kernels": "the Jupyter kernels a project offers (for %%cocalc_run --kernel)",
    "session": "the %%cocalc_run sessions: list them, or reset one (--session NAME) or --all",
    "token": "an auth token for embedding (returned, shown masked)",
    "open": "show one file of a project in a kiosk view",
    "panel": "the project panel (projects, files, embedded notebook)",
}

PROJECT_SUBCOMMANDS = {"use", "start", "stop", "restart", "state"}  # take a positional PROJECT
# Options that would put a secret into a notebook; refused with a pointer to `%cocalc login`.
_SECRET_OPTIONS = ("--key", "--api-key", "--api_key", "--apikey", "--password", "--passwd", "--token", "--secret")


class HelpShown(Exception):
    """Raised after ``--help`` printed its text: the magic then just returns."""


class MagicParser(argparse.ArgumentParser):
    """argparse whose errors are UsageErrors (with the usage line) and whose exit is a return."""

    def error(self, message: str):
        message = SECRET_RE.sub(lambda m: mask(m.group(0)), message)
        raise UsageError(f"{message}\n{self.format_usage().strip()}")

    def exit(self, status: int = 0, message: str | None = None):
        if message:
            self.error(message.strip())
        raise HelpShown()

    def print_help(self, file=None):
        # Always to the current sys.stdout (captured by IPython), never an argparse default stream.
        import sys

        (file or sys.stdout).write(self.format_help())


def _parser(prog: str, description: str) -> MagicParser:
    return MagicParser(prog=prog, description=description, add_help=True,
                       formatter_class=argparse.RawDescriptionHelpFormatter)


def _project_opt(p: argparse.ArgumentParser) -> None:
    p.add_argument("-p", "--project", metavar="PROJECT",
                   help="project id, title or unique title prefix (default: the default project)")


RUN_DESCRIPTION = """Run the cell's body in a Jupyter kernel of a project; every output comes back here
(plots, HTML, tables, text; stdout and stderr; an exception fails the cell).

CoCalc's execute API keeps no state: each cell runs in a fresh kernel. So that variables carry over,
the earlier cells of the session that succeeded are RE-RUN before each cell: their side effects
repeat (files written, prints, random numbers) and their time adds up. --fresh runs a cell on its
own; --session NAME keeps separate sessions; %cocalc session reset forgets one. For long work run a
script instead: %cocalc exec python3 script.py. -o VAR brings variables back: JSON data exactly,
pandas DataFrame and Series whole; nothing else (nothing is unpickled)."""


def build_parser(name: str) -> MagicParser:
    """The parser of ``%cocalc NAME`` (or of a cell magic: ``%%cocalc_write``, ``%%cocalc_exec``)."""
    if name == "%%cocalc_write":
        p = _parser("%%cocalc_write", "Write the cell's body to PATH in a project (like %%writefile; "
                    "the body is never variable-expanded).")
        _project_opt(p)
        p.add_argument("-a", "--append", action="store_true", help="append to the file instead of replacing it")
        p.add_argument("path", metavar="PATH", help="file path relative to the project's home")
        return p
    if name == "%%cocalc_exec":
        p = _parser("%%cocalc_exec", "Run the cell's body as a bash script in a project and show its output.")
        _project_opt(p)
        p.add_argument("--timeout", type=float, metavar="S", help="seconds before the project stops the script")
        return p

    if name == "%%cocalc_run":
        p = _parser("%%cocalc_run", RUN_DESCRIPTION)
        _project_opt(p)
        p.add_argument("--kernel", metavar="NAME", help="the project's kernel (default: python3; %%cocalc kernels)")
        p.add_argument("--path", metavar="DIR", help="working directory in the project (default: its home)")
        g = p.add_mutually_exclusive_group()
        g.add_argument("--session", metavar="NAME", help="keep the state of this named session, apart from others")
        g.add_argument("--fresh", action="store_true", help="no earlier cells: run this cell on its own")
        p.add_argument("-o", "--output", action="append", metavar="VAR", nargs="+",
                       help="bring these variables back here (JSON data; pandas DataFrame/Series whole)")
        p.add_argument("--timeout", type=float, metavar="S", help="seconds the cell may run (CoCalc's default: 30)")
        return p

    summary = SUBCOMMANDS[name]
    p = _parser(f"%cocalc {name}", summary[0].upper() + summary[1:] + ".")
    if name == "login":
        p.description += ("\nThe key is asked for with a hidden prompt; it is never a magic argument. "
                          "With --email, the password is asked for instead and a new key named after "
                          "this machine is created; the password is not stored.")
        p.add_argument("--host", metavar="URL", help="server URL (default: the current host setting)")
        p.add_argument("--email", metavar="ADDRESS", help="sign in with email and password to create a key")
    elif name == "projects":
        p.add_argument("--all", action="store_true", help="all projects, not only the recently used ones")
        p.add_argument("text", nargs="*", metavar="TEXT", help="show only projects whose title contains TEXT")
    elif name == "use":
        p.add_argument("ref", nargs="+", metavar="PROJECT", help="project id, title or unique title prefix")
        p.add_argument("--create", action="store_true",
                       help="get or create: the project with exactly this title, created if there is none")
    elif name == "create":
        p.add_argument("title", nargs="+", metavar="TITLE", help="title of the new project")
        p.add_argument("--description", default="", help="description of the new project")
        p.add_argument("--start", action="store_true", help="start the project after creating it")
    elif name in ("start", "stop", "restart", "state"):
        _project_opt(p)
        p.add_argument("ref", nargs="*", metavar="PROJECT", help="project (instead of -p)")
    elif name == "ls":
        _project_opt(p)
        p.add_argument("path", nargs="?", default="", metavar="PATH", help="directory (default: home)")
    elif name == "read":
        _project_opt(p)
        p.add_argument("path", metavar="PATH")
        p.add_argument("--into", metavar="VAR", help="store the text in variable VAR instead of showing it")
        p.add_argument("--next-cell", action="store_true", help="put the text into a new cell below (like %%load)")
    elif name == "exec":
        p.usage = "%(prog)s [-h] [-p PROJECT] [--timeout S] COMMAND ..."
        p.description += ("\nEverything from COMMAND on is a bash command line, run in the project's home. "
                          "As with !commands, IPython first fills in {expr} and $name from your variables.")
        _project_opt(p)
        p.add_argument("--timeout", type=float, metavar="S", help="seconds before the project stops the command")
    elif name == "copy":
        _project_opt(p)
        p.add_argument("src", metavar="SRC", help="path in the source project (-p, else the default)")
        p.add_argument("dest", nargs="?", metavar="DEST", help="path in the target project (default: SRC)")
        p.add_argument("--to", required=True, metavar="PROJECT", help="target project")
    elif name == "push":
        _project_opt(p)
        p.add_argument("local", metavar="LOCAL", help="file on this machine")
        p.add_argument("remote", nargs="?", metavar="REMOTE", help="path in the project (default: LOCAL's name)")
    elif name == "pull":
        _project_opt(p)
        p.add_argument("remote", metavar="REMOTE", help="path in the project")
        p.add_argument("local", nargs="?", metavar="LOCAL", help="file on this machine (default: REMOTE's name)")
    elif name == "sync":
        p.description += ("\nA file changed on one side is copied to the other; changed on both sides, neither is "
                          "overwritten and each side gets the other's version beside it "
                          "(NAME.conflict-<side>-<date>.EXT). Deletions travel only with --delete. "
                          "Skipped always: .git/, __pycache__/, .ipynb_checkpoints/.")
        _project_opt(p)
        p.add_argument("local", metavar="LOCAL", help="file or folder on this machine")
        p.add_argument("remote", nargs="?", metavar="REMOTE",
                       help="path in the project (default: the same relative path under its home)")
        p.add_argument("--dry-run", action="store_true", help="change nothing; show what would happen")
        p.add_argument("--delete", action="store_true",
                       help="also delete on the other side what was deleted on one side since the last sync")
        p.add_argument("--exclude", nargs="+", action="extend", metavar="GLOB",
                       help="skip matching files or folders (name globs like '*.log', 'build/'; give LOCAL first)")
    elif name == "kernels":
        _project_opt(p)
    elif name == "session":
        _project_opt(p)
        p.add_argument("action", nargs="?", choices=("list", "reset"), default="list")
        p.add_argument("--session", metavar="NAME", help="the named session (default: the default one)")
        p.add_argument("--kernel", metavar="NAME", help="its kernel (default: python3)")
        p.add_argument("--path", metavar="DIR", help="its working directory")
        p.add_argument("--all", action="store_true", help="reset every session")
    elif name == "token":
        p.add_argument("account", nargs="?", metavar="ACCOUNT", help="account id (default: yours)")
        p.add_argument("--ask-password", action="store_true",
                       help="ask for the account's password (needed by non-admins on some servers)")
    elif name == "open":
        _project_opt(p)
        p.add_argument("path", metavar="PATH", help="file to show, e.g. a notebook")
    return p


_cache: dict[str, MagicParser] = {}


def parser_for(name: str) -> MagicParser:
    if name not in _cache:
        _cache[name] = build_parser(name)
    return _cache[name]


def split(line: str) -> list[str]:
    if not line:
        return []
    if not any(c in line for c in "'\"\\#"):  # nothing for shlex to do (it is slow)
        return line.split()
    try:
        return shlex.split(line)
    except ValueError as exc:  # unbalanced quotes
        raise UsageError(f"cannot parse {line!r}: {exc}") from None


def refuse_secrets(tokens: list[str]) -> None:
    for t in tokens:
        if t.split("=", 1)[0].lower() in _SECRET_OPTIONS:
            raise UsageError(
                f"{t.split('=', 1)[0]}: secrets are never magic arguments (they would be saved in the "
                "notebook). Run %cocalc login, which asks for the key with a hidden prompt, or set "
                "COCALC_API_KEY in the environment."
            )


def unknown_subcommand(name: str) -> UsageError:
    import difflib

    close = difflib.get_close_matches(name, SUBCOMMANDS, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return UsageError(f"unknown subcommand {name!r}.{hint} %cocalc help lists them.")


_no_args: dict[str, argparse.Namespace] = {}


def parse(name: str, tokens: list[str]) -> argparse.Namespace:
    if not tokens:  # the common `%cocalc ping`: parse once, hand out copies
        if name not in _no_args:
            _no_args[name] = parser_for(name).parse_args([])
        return argparse.Namespace(**vars(_no_args[name]))
    refuse_secrets(tokens)
    return parser_for(name).parse_args(tokens)


def unquote_whole(command: str) -> str:
    """A command line that is one quoted word (``"echo $HOME; pwd"``) runs as the text inside the
    quotes, as ``ssh host "echo $HOME; pwd"`` does; bash in the project then expands ``$HOME``."""
    text = command.strip()
    if len(text) < 2 or text[0] not in "'\"" or text[-1] != text[0]:
        return command
    try:
        words = shlex.split(text)
    except ValueError:
        return command
    return words[0] if len(words) == 1 else command


def split_exec(rest: str) -> tuple[list[str], str]:
    """Split ``[-p P] [--timeout S] [-h] COMMAND ...`` into option tokens and the raw command text.

    The command is kept exactly as typed (quotes, pipes, globs), since bash reads it in the project.
    """
    lexer = shlex.shlex(io.StringIO(rest), posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    takes_value = {"-p", "--project", "--timeout"}
    opts: list[str] = []
    while True:
        start = lexer.instream.tell()
        try:
            tok = lexer.get_token()
        except ValueError as exc:
            raise UsageError(f"cannot parse {rest!r}: {exc}") from None
        if tok is None or tok == lexer.eof:
            return opts, ""
        if tok == "--":
            return opts, rest[lexer.instream.tell():].strip()
        if not tok.startswith("-"):
            return opts, rest[start:].strip()
        opts.append(tok)
        if tok in takes_value:
            val = lexer.get_token()
            if val is not None and val != lexer.eof:
                opts.append(val)


def help_text() -> str:
    w = max(map(len, SUBCOMMANDS))
    lines = ["Usage: %cocalc SUBCOMMAND [options]    (%cocalc SUBCOMMAND --help for its options)", ""]
    lines += [f"  {n:<{w}}  {s}" for n, s in SUBCOMMANDS.items()]
    lines += [
        "",
        "Cell magics:",
        "  %%cocalc_write [-p PROJECT] [-a] PATH    write the cell's body to a file in a project",
        "  %%cocalc_exec [-p PROJECT] [--timeout S] run the cell's body as a bash script in a project",
        "  %%cocalc_run [-p PROJECT] [--kernel NAME] [--session NAME | --fresh] [-o VAR ...] [--timeout S]",
        "                                           run the cell in the project's Jupyter kernel",
        "",
        "Settings: %config CoCalcMagics (host, api, timeout, project, show_tracebacks); "
        "the key comes from %cocalc login or COCALC_API_KEY.",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------ completion
_VALUE_OPTIONS = {"-p", "--project", "--to"}


def options_of(name: str) -> list[str]:
    opts = {s for a in parser_for(name)._actions for s in a.option_strings}
    return sorted(o for o in opts if o.startswith("--") or o == "-p")


def complete(text_until_cursor: str, symbol: str, titles: Callable[[], list[str]]) -> list[str]:
    """Candidates for the word being typed after ``%cocalc`` (or a cell magic's line)."""
    words = text_until_cursor.split()
    if text_until_cursor.endswith((" ", "\t")):
        words.append("")
    if not words:
        return []
    magic, args = words[0].lstrip("%"), words[1:]
    current = args[-1] if args else ""
    prev = args[-2] if len(args) >= 2 else ""
    if magic in ("cocalc_write", "cocalc_exec", "cocalc_run"):
        if prev in _VALUE_OPTIONS:
            return _title_words(titles())
        return [o for o in options_of("%%" + magic) if o.startswith(current)] if current.startswith("-") else []
    if len(args) <= 1:
        return [s for s in SUBCOMMANDS if s.startswith(current)]
    sub = args[0]
    if sub not in SUBCOMMANDS:
        return []
    if prev in _VALUE_OPTIONS:
        return _title_words(titles())
    if current.startswith("-"):
        return [o for o in options_of(sub) if o.startswith(current)]
    if sub in PROJECT_SUBCOMMANDS and len(args) == 2:
        return _title_words(titles())
    return []


def _title_words(titles: list[str]) -> list[str]:
    # IPython completes the last word only: titles with spaces are offered quoted.
    return [t if t and not any(c.isspace() for c in t) else shlex.quote(t) for t in titles]
