"""`northstar serve`: the read-only HTTP JSON API over the current snapshot."""

from __future__ import annotations

import click

from northstar.commands._common import handle_errors, progress
from northstar.commands.params import NonEmpty

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@click.command()
@click.option(
    "--host",
    type=NonEmpty(),
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback exposes the API (it has no "
    "authentication) to the network: said on stderr at start.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
    help="uvicorn's log level (info logs one line per request).",
)
@click.option(
    "--cache-mb",
    type=click.IntRange(min=0),
    default=64,
    show_default=True,
    help="Memory for answers already made, for the current snapshot (0: keep none; "
    "concurrent requests for one answer still share one query).",
)
@handle_errors
def serve(host: str, port: int, log_level: str, cache_mb: int) -> None:
    """Serve the current snapshot as a read-only JSON API (and the digest as HTML).

    A publish or a rollback is picked up by the next request, without a restart. Every
    endpoint, parameter and status: docs/serve.md. Stop with Ctrl-C.
    """
    from northstar.paths import Paths
    from northstar.serve import create_app, server

    paths = Paths.discover()
    sock = server.bind(host, port)
    try:
        app = create_app(paths.snapshots_dir, cache_bytes=cache_mb * 1024 * 1024)
        current = app.state.source.current_run_id()
        if current is None:
            progress(
                f"warning: no snapshot in {paths.snapshots_dir} yet: every endpoint answers "
                "503 until one is published"
            )
        else:
            progress(f"serving snapshot {current} from {paths.snapshots_dir}")
        if host not in LOOPBACK:
            progress(f"warning: listening on {host}: the API has no authentication")
        bound_host, bound_port = sock.getsockname()[:2]
        where = f"[{bound_host}]" if ":" in bound_host else bound_host
        progress(f"listening on http://{where}:{bound_port} (GET /api lists the endpoints)")
        server.run(app, sock, log_level)
    finally:
        sock.close()
