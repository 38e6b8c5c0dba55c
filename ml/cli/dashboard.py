"""`pmi dashboard`: build the executive dashboard from the warehouse, print its path, optionally serve it locally."""

from __future__ import annotations

import argparse
import functools
import http.server
import signal
from pathlib import Path

from ml.cli.errors import BadInputError
from ml.cli.steps import step
from ml.settings import pmi_paths


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("dashboard", help="Build the executive dashboard (one offline HTML page).",
                              description="Rebuild the executive dashboard from the warehouse of the data directory "
                                          "and print the path of the page. With --serve, serve it on 127.0.0.1 "
                                          "until Ctrl-C.")
    p.add_argument("--home", help="Data directory (default: $PMI_HOME or ./data).")
    p.add_argument("--out", help="Write the page here instead of <home>/dashboard/index.html.")
    p.add_argument("--serve", action="store_true", help="Serve the page's directory on http://127.0.0.1:PORT/.")
    p.add_argument("--port", type=int, default=8050, help="Port for --serve (default 8050; 0 = any free port).")
    p.set_defaults(handler=run)


def stop_on_terminate(signum: int, frame: object) -> None:
    """SIGTERM (a process manager, a test harness) stops the server like Ctrl-C does."""
    raise KeyboardInterrupt


def serve(directory: Path, port: int) -> None:
    """Serve ``directory`` on localhost only (the page holds business data) until interrupted or terminated.

    The SIGTERM handler is installed explicitly: a server started from a background shell can inherit SIGTERM as
    ignored and would then outlive whoever started it.
    """
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    signal.signal(signal.SIGTERM, stop_on_terminate)
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"Serving http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopped")


def run(args: argparse.Namespace) -> int:
    from ml.reporting.dashboard import build_dashboard

    paths = pmi_paths(args.home)
    if not paths.warehouse.exists():
        raise BadInputError(f"{paths.warehouse}: no warehouse yet; run `pmi run` (or `make run`) first")
    if not 0 <= args.port <= 65535:
        raise BadInputError(f"--port {args.port}: must be between 0 and 65535")
    with step(f"Building the executive dashboard from {paths.warehouse}"):
        page = build_dashboard(paths, Path(args.out).expanduser().resolve() if args.out else None)
    print(page.path, flush=True)
    if args.serve:
        serve(page.path.parent, args.port)
    return 0
