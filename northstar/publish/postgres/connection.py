"""Where the Postgres publish target is, and how to say so without its password.

Three sources, first match wins:

1. `--pg-target NAME` / $NORTHSTAR_PG_TARGET: an output of the project's profiles.yml of
   `type: postgres`, rendered by dbt's own renderer (env_var() works as in `dbt build`);
2. $NORTHSTAR_PG_DSN: a libpq connection string or URL;
3. the libpq variables ($PGHOST, $PGPORT, $PGUSER, $PGDATABASE, $PGPASSWORD, $PGSERVICE,
   ...), which libpq reads itself.

A password is never taken on the command line (it would sit in `ps` and shell history).
Every message that could carry one goes through `redact()`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from northstar.errors import NorthstarError, NotFoundError
from northstar.paths import Paths

DSN_ENV = "NORTHSTAR_PG_DSN"
TARGET_ENV = "NORTHSTAR_PG_TARGET"
SCHEMA_ENV = "NORTHSTAR_PG_SCHEMA"
READER_ROLE_ENV = "NORTHSTAR_PG_READER_ROLE"
DEFAULT_SCHEMA = "northstar_published"
DEFAULT_READER_ROLE = "northstar_reader"
# Any of these tells libpq where to go; without one it would try a local socket as the
# login user, which is never what a scheduler that forgot to configure the target meant.
LIBPQ_ENV = ("PGHOST", "PGHOSTADDR", "PGSERVICE", "PGDATABASE", "PGPORT")
# The profile fields dbt-postgres passes to libpq, under libpq's names.
PROFILE_FIELDS = {
    "host": "host",
    "port": "port",
    "user": "user",
    "password": "password",
    "pass": "password",
    "dbname": "dbname",
    "database": "dbname",
    "sslmode": "sslmode",
    "sslcert": "sslcert",
    "sslkey": "sslkey",
    "sslrootcert": "sslrootcert",
    "connect_timeout": "connect_timeout",
    "keepalives_idle": "keepalives_idle",
}
NAME_PATTERN = re.compile(r"^[a-z_][a-z0-9_]*$")
# 63 bytes (Postgres) minus `_v_` and a generated run id (20261005T120301Z-3fa2c1).
MAX_SCHEMA = 63 - 3 - 23
MAX_ROLE = 63
_URL_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@")
_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def check_name(value: str, what: str, longest: int) -> str:
    """A schema or role name northstar creates: plain lowercase, so it needs no quoting
    in a BI tool, and short enough for Postgres (which would silently truncate it)."""
    if not NAME_PATTERN.fullmatch(value) or len(value) > longest:
        raise NorthstarError(
            f"{what} {value[:60]!r} is not a plain Postgres name "
            f"(lowercase letters, digits, _; at most {longest} characters)"
        )
    return value


@dataclass(frozen=True)
class PgTarget:
    """A connection to make: libpq keywords (possibly with a password) and where they came
    from. `repr` never shows the keywords."""

    params: dict[str, str] = field(repr=False)
    source: str
    schema: str = DEFAULT_SCHEMA
    reader_role: str = DEFAULT_READER_ROLE

    def secrets(self) -> list[str]:
        found = [self.params.get("password", ""), os.environ.get("PGPASSWORD", "")]
        return [secret for secret in found if secret]

    def redact(self, text: str) -> str:
        return redact(text, self.secrets())

    def shown(self) -> str:
        """user@host:port/dbname, as far as known without connecting: for messages."""
        env = os.environ
        user = self.params.get("user") or env.get("PGUSER", "")
        host = self.params.get("host") or env.get("PGHOST", "")
        port = self.params.get("port") or env.get("PGPORT", "")
        dbname = self.params.get("dbname") or env.get("PGDATABASE", "")
        where = f"{user + '@' if user else ''}{host or 'localhost'}{':' + port if port else ''}"
        return f"{where}/{dbname or user or '?'} (from {self.source})"

    def connect(self, **options: Any) -> Any:
        """A psycopg connection; a failure is a PostgresTargetError without the password."""
        import psycopg

        from northstar.errors import PostgresTargetError

        try:
            return psycopg.connect(**self.params, **options)
        except psycopg.Error as err:
            raise PostgresTargetError(
                f"cannot connect to Postgres {self.shown()}: {self.redact(one_line(err))}"
            ) from None


def one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


def redact(text: str, secrets: list[str]) -> str:
    """`text` with every known secret, and anything shaped like a password in a DSN or a
    keyword string, replaced by ***."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _URL_PASSWORD.sub(r"\1***@", text)
    return _KEYWORD_PASSWORD.sub(r"\1***", text)


def _from_dsn(dsn: str) -> dict[str, str]:
    from psycopg.conninfo import conninfo_to_dict

    try:
        parsed = conninfo_to_dict(dsn)
    except Exception as err:  # psycopg.ProgrammingError; its text may quote the DSN
        raise NorthstarError(
            f"${DSN_ENV} is not a libpq connection string or URL: {redact(one_line(err), [dsn])}"
        ) from None
    return {key: str(value) for key, value in parsed.items() if value is not None}


def _from_profile(paths: Paths, target: str) -> dict[str, str]:
    """The rendered output `target` of the project's profile, as libpq keywords."""
    import contextvars

    return contextvars.copy_context().run(_render_profile_output, paths, target)


def _render_profile_output(paths: Paths, target: str) -> dict[str, str]:
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context
    from dbt_common.exceptions import DbtBaseException

    from northstar.dbt_profile import _profile_name, _read_profiles

    file = paths.profiles_dir / "profiles.yml"
    if not file.is_file():
        raise NotFoundError(f"no profiles.yml in {paths.profiles_dir} for --pg-target {target!r}")
    set_invocation_context(paths.dbt_env())
    profiles = _read_profiles(file)
    name = _profile_name(paths)
    profile = profiles.get(name) if isinstance(profiles, dict) else None
    outputs = profile.get("outputs") if isinstance(profile, dict) else None
    output = outputs.get(target) if isinstance(outputs, dict) else None
    if not isinstance(output, dict):
        known = ", ".join(outputs) if isinstance(outputs, dict) else "none"
        raise NotFoundError(f"{file}: profile {name!r} has no target {target!r}; targets: {known}")
    renderer = ProfileRenderer({})
    params: dict[str, str] = {}
    for key, raw in output.items():
        if key != "type" and key not in PROFILE_FIELDS:
            continue
        try:
            value = renderer.render_value(raw)
        except DbtBaseException as err:
            # dbt's message may quote the rendered value: name the field only.
            raise NorthstarError(
                f"{file}: {name}.outputs.{target}.{key} cannot be rendered by dbt "
                f"({type(err).__name__})"
            ) from None
        if key == "type":
            if value != "postgres":
                raise NorthstarError(
                    f"{file}: target {target!r} is type {value!r}, not postgres: "
                    "--pg-target names a Postgres output"
                )
            continue
        if value is not None and str(value) != "":
            params[PROFILE_FIELDS[key]] = str(value)
    return params


def resolve_target(paths: Paths | None = None, pg_target: str | None = None) -> PgTarget:
    """Where to publish: a dbt profile target, else $NORTHSTAR_PG_DSN, else PG* variables."""
    schema = os.environ.get(SCHEMA_ENV, "").strip() or DEFAULT_SCHEMA
    schema = check_name(schema, f"${SCHEMA_ENV}", MAX_SCHEMA)
    role = os.environ.get(READER_ROLE_ENV, "").strip() or DEFAULT_READER_ROLE
    role = check_name(role, f"${READER_ROLE_ENV}", MAX_ROLE)
    target = pg_target if pg_target is not None else os.environ.get(TARGET_ENV, "").strip()
    if target:
        params = _from_profile(paths or Paths.discover(), target)
        return PgTarget(params, f"dbt profile target {target!r}", schema, role)
    dsn = os.environ.get(DSN_ENV, "").strip()
    if dsn:
        return PgTarget(_from_dsn(dsn), f"${DSN_ENV}", schema, role)
    if any(os.environ.get(name) for name in LIBPQ_ENV):
        return PgTarget({}, "PG* environment variables", schema, role)
    raise NorthstarError(
        "no Postgres connection configured: set $NORTHSTAR_PG_DSN "
        "(postgresql://user@host:port/db, password in $PGPASSWORD or ~/.pgpass), "
        "the PG* variables ($PGHOST, ...), or name a profiles.yml output with --pg-target"
    )
