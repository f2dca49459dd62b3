"""Running the app under uvicorn on a socket bound here first, so a host that does not
resolve or a port in use is one `error:` line with an exit code, not a uvicorn log."""

from __future__ import annotations

import socket

from northstar.errors import InvalidInputError, NorthstarError
from northstar.query.catalog import shown


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (IPv4 or IPv6, as the host resolves)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except (OSError, UnicodeError, ValueError) as err:
        raise InvalidInputError(f"--host: cannot listen on {shown(host)}: {err}") from None
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as err:
        reason = err.strerror or str(err)
        raise NorthstarError(f"cannot listen on {host}:{port}: {reason}") from None


def run(app: object, sock: socket.socket, log_level: str) -> None:
    import uvicorn

    config = uvicorn.Config(app, log_level=log_level, access_log=log_level in ("info", "debug"))
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down cleanly on Ctrl-C / SIGINT, then raises it again for the
        # caller: stopping the server is how it ends, not an error (exit 0, not Click's 1).
        pass
    finally:
        sock.close()
