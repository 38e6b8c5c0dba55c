"""`pmi dashboard`: build the executive dashboard from the warehouse, print its path, optionally serve it locally."""

from __future__ import annotations

import argparse
import http.server
import signal
import threading
from pathlib import Path
from urllib.parse import unquote

from ml.cli.steps import step
from ml.io.errors import BadInputError
from ml.operations.output_safety import check_output_path
from ml.settings import pmi_paths

PAGE_SUFFIXES = (".html", ".htm")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "dashboard",
        help="Build the executive dashboard (one offline HTML page).",
        description="Rebuild the executive dashboard from the warehouse of the data directory "
        "and print the path of the page. With --serve, serve it on 127.0.0.1 "
        "until Ctrl-C.",
    )
    p.add_argument("--home", help="Data directory (default: $PMI_HOME or ./data).")
    p.add_argument(
        "--out",
        help="Write the page here (an .html file) instead of <home>/dashboard/index.html; never "
        "over the warehouse, MLflow or other state of the data directory.",
    )
    p.add_argument(
        "--serve",
        action="store_true",
        help="Serve the page (and nothing else) on http://127.0.0.1:PORT/ to this machine's browser.",
    )
    p.add_argument("--port", type=int, default=8050, help="Port for --serve (default 8050; 0 = any free port).")
    p.set_defaults(handler=run)


def stop_on_terminate(signum: int, frame: object) -> None:
    """SIGTERM (a process manager, a test harness) before the server listens stops the command like Ctrl-C does."""
    raise KeyboardInterrupt


def shut_down_on_terminate(server: http.server.HTTPServer) -> None:
    """Once the server listens, SIGTERM asks ``serve_forever`` to return (from a thread: ``shutdown`` waits for the
    loop it stops). An exception raised at an arbitrary point of the serving loop could land inside a lock or a
    thread start and leave the process unable to exit."""
    signal.signal(signal.SIGTERM, lambda signum, frame: threading.Thread(target=server.shutdown, daemon=True).start())


LOCAL_HOSTS = ("127.0.0.1", "localhost")


def host_allowed(header: str | None, port: int) -> bool:
    """A browser on this machine names 127.0.0.1 or localhost (with our port, if any): a page from another site that
    rebinds its own name to 127.0.0.1 (DNS rebinding) still sends its own name, and is refused."""
    if not header:
        return False
    host, _, given_port = header.strip().lower().partition(":")
    return host in LOCAL_HOSTS and given_port in ("", str(port))


def page_handler(page: Path) -> type[http.server.BaseHTTPRequestHandler]:
    """A handler serving ``page`` at / and /<its name>, nothing else: no directory listing, no sibling files."""
    served = ("/", "/" + page.name)

    class PageHandler(http.server.BaseHTTPRequestHandler):
        def _respond(self, body: bool) -> None:
            if not host_allowed(self.headers.get("Host"), self.server.server_address[1]):
                self.send_error(403, "Host not allowed: open http://127.0.0.1:PORT/")
                return
            if unquote(self.path.split("?", 1)[0]) not in served:
                self.send_error(404)
                return
            content = page.read_bytes()  # re-read: a rebuilt page is served as it is now
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if body:
                self.wfile.write(content)

        def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
            self._respond(body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._respond(body=False)

    return PageHandler


def serve(page: Path, port: int) -> None:
    """Serve the dashboard page alone on localhost only (it holds business data) until interrupted or terminated.

    The SIGTERM handler is installed explicitly: a server started from a background shell can inherit SIGTERM as
    ignored and would then outlive whoever started it.
    """
    signal.signal(signal.SIGTERM, stop_on_terminate)
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), page_handler(page)) as server:
        shut_down_on_terminate(server)
        print(f"Serving http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:  # Ctrl-C
            pass
        print("stopped", flush=True)


def run(args: argparse.Namespace) -> int:
    from ml.reporting.dashboard import build_dashboard

    paths = pmi_paths(args.home)
    if not paths.warehouse.exists():
        raise BadInputError(f"{paths.warehouse}: no warehouse yet; run `pmi run` (or `make run`) first")
    if not 0 <= args.port <= 65535:
        raise BadInputError(f"--port {args.port}: must be between 0 and 65535")
    out = (
        check_output_path(args.out, "--out", suffixes=PAGE_SUFFIXES, inputs=[paths.warehouse], state=[paths])
        if args.out
        else None
    )
    with step(f"Building the executive dashboard from {paths.warehouse}"):
        page = build_dashboard(paths, out)
    print(page.path, flush=True)
    if args.serve:
        serve(page.path, args.port)
    return 0
