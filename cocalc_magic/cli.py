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
    )
    try:
        srv.start()
    except (ValueError, OSError) as exc:
        print(f"cocalc-magic serve: {exc}", file=sys.stderr)
        return 2
    print(f"# local CoCalc ({srv.api} API) serving {srv.data_dir}; Ctrl-C stops it", flush=True)
    print(f"COCALC_HOST={srv.url}")
    print(f"COCALC_API_KEY={srv.api_key}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    srv.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cocalc-magic", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="run a local CoCalc-compatible server")
    serve.add_argument("--api", choices=["v1", "current"], default="current", help="API generation to serve")
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
        "--dangerously-bind-non-loopback", action="store_true",
        help="allow --host other than loopback: anyone reaching it with a key can run commands",
    )
    serve.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
