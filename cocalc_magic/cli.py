"""The ``cocalc-magic`` command: the local server (serve), the demo (demo), a check of a host (ping)."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading

DESCRIPTION = """\
The CoCalc API in Jupyter: the %cocalc magics load in every IPython and Jupyter kernel of this
environment (%cocalc help lists them). This command runs the local CoCalc-compatible server,
the demo, or a check that a CoCalc server answers."""
EPILOG = """\
examples:
  cocalc-magic demo                          JupyterLab with the tour notebooks against a local CoCalc
  cocalc-magic demo --check                  the tour headless: one line per step
  cocalc-magic serve --demo > cocalc.env &   a local CoCalc in the background; once it has printed,
  . ./cocalc.env                             sets COCALC_HOST and COCALC_API_KEY in this shell
  kill -INT %1                               stops it
  cocalc-magic ping                          check the server in COCALC_HOST with COCALC_API_KEY
"""


def _serve(args: argparse.Namespace) -> int:
    from .server import LocalServer

    srv = LocalServer(
        data_dir=args.data,
        host=args.host,
        port=args.port,
        api=args.api,
        demo=args.demo,
        allow_http_parents=args.allow_http_parents,
        iframe_comm_hosts=args.iframe_comm_hosts,
        allow_non_loopback=args.dangerously_bind_non_loopback,
        frame_ancestors=args.frame_ancestors,
        allowed_hosts=args.allow_host,
        allow_sign_up=args.allow_sign_up,
    )
    # A script's `cocalc-magic serve &` starts with SIGINT ignored (POSIX, for background jobs of a
    # non-interactive shell), and Python then never raises KeyboardInterrupt: install it ourselves.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        srv.start()
    except (ValueError, OSError) as exc:
        print(f"cocalc-magic serve: {exc}", file=sys.stderr)
        return 2
    for line in serve_lines(srv):
        print(line, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    srv.stop()
    return 0


def serve_lines(srv) -> list[str]:
    """What ``serve`` prints: a comment, then lines a shell runs as they are (``eval``, ``source``)."""
    lines = [f"# local CoCalc ({srv.api} API), data in {srv.data_dir}; Ctrl-C (or kill -INT) stops it",
             f"export COCALC_HOST={shlex.quote(srv.url)}",
             f"export COCALC_API_KEY={shlex.quote(srv.api_key)}"]
    if srv.project_id:  # ai: the project the key is allowed on
        lines.append(f"export COCALC_PROJECT_ID={shlex.quote(srv.project_id)}")
    return lines


def _demo(args: argparse.Namespace) -> int:
    from . import demo

    if args.check:
        return demo.run_check(api=args.api)
    return demo.run_demo(api=args.api, port=args.port, keep=None if args.discard else args.keep)


def _ping(args: argparse.Namespace) -> int:
    from .client import CoCalc
    from .errors import CoCalcError

    try:
        cc = CoCalc(host=args.host, api=args.api)
        pong = cc.ping()
    except CoCalcError as exc:
        print(f"cocalc-magic ping: {exc}", file=sys.stderr)
        return 1
    print(f"pong from {cc.host} ({pong.api} API) in {pong.latency_s * 1000:.0f} ms; server time {pong.now}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .version import __version__

    parser = argparse.ArgumentParser(prog="cocalc-magic", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"cocalc-magic {__version__}")
    sub = parser.add_subparsers(dest="cmd", metavar="COMMAND")
    serve = sub.add_parser(
        "serve", help="run a local CoCalc-compatible server; prints export COCALC_HOST=... lines for a shell",
        description="Run a local CoCalc-compatible server until Ctrl-C (or SIGINT/SIGTERM). It prints a comment "
                    "line, then export COCALC_HOST=..., export COCALC_API_KEY=... (its admin account's key) and, "
                    "with --api ai, export COCALC_PROJECT_ID=...: lines a shell can eval or source.")
    serve.add_argument("--api", choices=["v1", "conat", "current", "ai"], default="conat",
                       help="API generation to serve: conat (a self-hosted CoCalc), v1 (an older one), ai (cocalc.ai); "
                            "current = conat")
    serve.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (loopback unless told otherwise)")
    serve.add_argument("--data", default=None, help="data directory (default: a temporary one)")
    serve.add_argument("--demo", action="store_true", help="seed demo projects with a notebook each")
    serve.add_argument(
        "--allow-http-parents", action="store_true",
        help="let http://127.0.0.1 and http://localhost pages use the kiosk IFrame protocol (development)",
    )
    serve.add_argument("--iframe-comm-hosts", default=None, help="the iframe_comm_hosts site setting")
    serve.add_argument(
        "--frame-ancestors", default=None,
        help="CSP frame-ancestors of the app pages, e.g. \"'none'\" (default: framing allowed)",
    )
    serve.add_argument(
        "--dangerously-bind-non-loopback", action="store_true",
        help="allow --host other than loopback: anyone reaching it with a key can run commands",
    )
    serve.add_argument(
        "--allow-host", action="append", default=[], metavar="NAME",
        help="also answer requests for this host name (repeatable; '*' for any). Loopback names and "
             "--host are always answered; other Host headers get 403 (DNS rebinding)",
    )
    serve.add_argument(
        "--allow-sign-up", action="store_true",
        help="let anyone who reaches the port create an account (/api/v2/auth/sign-up without a key); "
             "off by default: the admin key creates accounts",
    )
    serve.set_defaults(func=_serve)

    demo = sub.add_parser(
        "demo", help="JupyterLab with the tour notebooks against a local CoCalc; prints the URL to open",
        description="Start a local CoCalc and JupyterLab on the tour notebooks; prints the JupyterLab URL to "
                    "open and where the notebooks are. Ctrl-C stops both. Needs the demo extra: "
                    "pip install 'cocalc-magic[demo]'.")
    demo.add_argument("--check", action="store_true",
                      help="run the tour headless instead; prints one line per step and a last line "
                           "'all N steps ran' (exit code 0) or 'FAILED: ...' (exit code 1)")
    demo.add_argument("--keep", metavar="DIR", default="cocalc-demo",
                      help="folder for the notebook copies you work in, kept after Ctrl-C and reused next "
                           "time (default: ./cocalc-demo)")
    demo.add_argument("--discard", action="store_true",
                      help="work on temporary copies instead, deleted on Ctrl-C")
    demo.add_argument("--api", choices=["v1", "conat", "current"], default="conat",
                      help="API generation to serve: conat (a self-hosted CoCalc), v1 (an older one); current = conat")
    demo.add_argument("--port", type=int, default=None, help="JupyterLab's port (default: a free one)")
    demo.set_defaults(func=_demo)

    ping = sub.add_parser(
        "ping", help="check that a CoCalc server answers; prints the round trip and its API generation",
        description="Check that the CoCalc server in COCALC_HOST (or the saved login) answers with the key in "
                    "COCALC_API_KEY; prints 'pong from HOST (API) in N ms; server time ...' (exit code 0) or "
                    "the error in one line (exit code 1).")
    ping.add_argument("--host", default=None, help="server URL (default: from the settings)")
    ping.add_argument("--api", choices=["auto", "v1", "conat", "ai", "current"], default="auto")
    ping.set_defaults(func=_ping)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.cmd is None:  # `cocalc-magic` alone
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
