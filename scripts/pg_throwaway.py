"""A throwaway PostgreSQL server for checks and tests: initdb into a temporary directory,
listen on a free loopback port, stop and delete on exit (also when the caller fails).

    with throwaway_postgres() as pg:
        psycopg.connect(pg.dsn)          # postgresql://postgres@127.0.0.1:PORT/postgres

    python scripts/pg_throwaway.py        # start one, print its DSN, stop on Ctrl-C or SIGTERM

Needs the PostgreSQL server binaries (`initdb`, `pg_ctl`) on PATH or under
/usr/lib/postgresql/*/bin. initdb refuses to run as root, so as root the cluster is
created and run as the `nobody` user (through `runuser`); the data directory is owned by it.
Authentication is `trust` on loopback only: the server is reachable from this machine alone
and lives as long as the check.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing or the server would not start."""


@dataclasses.dataclass(frozen=True)
class Throwaway:
    host: str
    port: int
    user: str
    dbname: str
    data_dir: Path

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"

    def env(self) -> dict[str, str]:
        """libpq environment variables (what dbt profiles and psql read)."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGDATABASE": self.dbname,
        }


def find_binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return candidate
    raise PostgresUnavailable(
        f"{name} not found: install the PostgreSQL server (apt-get install postgresql)"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "nobody", "--", *command]


def _run(command: list[str], log: Path) -> None:
    with log.open("ab") as out:
        done = subprocess.run(_as_server_user(command), stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        server = log.with_name("server.log")
        if server.exists():
            tail += server.read_text(errors="replace")[-2000:]
        name = Path(command[0]).name
        raise PostgresUnavailable(f"{name} failed (exit {done.returncode}):\n{tail}")


@contextlib.contextmanager
def throwaway_postgres(*, user: str = "postgres", dbname: str = "postgres") -> Iterator[Throwaway]:
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="northstar-pg-"))
    data_dir, log, server_log = root / "data", root / "setup.log", root / "server.log"
    server_log.touch()
    if os.geteuid() == 0:
        for path in (root, server_log):
            shutil.chown(path, user="nobody")
        root.chmod(0o700)
    started = False
    try:
        _run([initdb, "-D", str(data_dir), "-A", "trust", "-U", user, "-E", "UTF8", "-N"], log)
        port = _free_port()
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        start = [pg_ctl, "-D", str(data_dir), "-o", options, "-l", str(server_log), "-w"]
        _run([*start, "start"], log)
        started = True
        yield Throwaway("127.0.0.1", port, user, dbname, data_dir)
    finally:
        if started:
            subprocess.run(
                _as_server_user([pg_ctl, "-D", str(data_dir), "-m", "immediate", "-w", "stop"]),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    # A background job ignores Ctrl-C; a SIGTERM must stop the server too, through the
    # context manager's cleanup.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with throwaway_postgres() as pg:
        print(pg.dsn, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
