"""``cocalc-magic``: run the local server (``serve``), the demo (``demo``), or check a host (``ping``)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading


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
    try:
        srv.start()
    except (ValueError, OSError) as exc:
        print(f"cocalc-magic serve: {exc}", file=sys.stderr)
        return 2
    print(f"# local CoCalc ({srv.api} API) serving {srv.data_dir}; Ctrl-C stops it", flush=True)
    print(f"COCALC_HOST={srv.url}")
    print(f"COCALC_API_KEY={srv.api_key}", flush=True)
    if srv.project_id:  # ai: the project the key is allowed on
        print(f"COCALC_PROJECT_ID={srv.project_id}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    srv.stop()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from . import demo

    if args.check:
        return demo.run_check(api=args.api)
    return demo.run_demo(api=args.api, port=args.port)


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
    parser = argparse.ArgumentParser(prog="cocalc-magic", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="run a local CoCalc-compatible server")
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

    demo = sub.add_parser("demo", help="local server + JupyterLab with the tour notebooks")
    demo.add_argument("--check", action="store_true", help="run the tour headless and print a summary")
    demo.add_argument("--api", choices=["v1", "conat", "current"], default="conat",
                      help="API generation to serve: conat (a self-hosted CoCalc), v1 (an older one); current = conat")
    demo.add_argument("--port", type=int, default=None, help="JupyterLab's port (default: a free one)")
    demo.set_defaults(func=_demo)

    ping = sub.add_parser("ping", help="check that a CoCalc server answers (COCALC_HOST, COCALC_API_KEY)")
    ping.add_argument("--host", default=None, help="server URL (default: from the settings)")
    ping.add_argument("--api", choices=["auto", "v1", "conat", "ai", "current"], default="auto")
    ping.set_defaults(func=_ping)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
