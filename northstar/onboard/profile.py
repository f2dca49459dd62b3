"""What an event export holds, read from a sample: columns, and which of them can play
each contract role (event id, time, event name, entity, properties, segments).

DuckDB reads the sample (its CSV sniffer finds the delimiter, header and types); every
guess comes with the evidence for it, so `northstar init` can show why it proposes what it
proposes. Nothing here decides the spec: northstar/onboard/proposal.py does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from northstar.errors import InvalidInputError, NotFoundError

FORMATS = ("csv", "parquet", "json", "ndjson")
BY_EXTENSION = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
SAMPLE_ROWS = 200_000
# Names a column is recognised by, most specific first (matched after lower-casing and
# dropping everything but letters and digits).
EVENT_ID_NAMES = ("eventid", "messageid", "insertid", "eventuuid", "uuid", "id")
# All-digit times: YYYYMMDD, epoch seconds, milliseconds, microseconds (GA4).
TIME_DIGITS = (8, 10, 13, 16)
TIME_NAMES = (
    "occurredat",
    "eventtime",
    "eventtimestamp",
    "timestamp",
    "time",
    "ts",
    "createdat",
    "eventdate",
    "orderdate",
    "date",
    "datetime",
)
EVENT_NAME_NAMES = ("eventname", "event", "eventtype", "action", "type", "name")
ACCOUNT_HINTS = ("account", "team", "org", "company", "workspace", "group", "tenant")
USER_HINTS = (
    "user",
    "customer",
    "client",
    "member",
    "visitor",
    "person",
    "anonymous",
    "distinct",  # Mixpanel's distinct_id
)
PROPERTIES_NAMES = ("properties", "eventproperties")
RECEIVED_NAMES = ("receivedat", "loadedat", "ingestedat")
ATTRIBUTE_NAMES = {
    "platform": ("platform", "os", "contextos", "contextosname", "deviceos", "devicetype"),
    "country": ("country", "countrycode", "geocountry", "mpcountrycode"),
}


def normalize_event_name(name: str) -> str:
    """As staging normalizes event names (docs/raw-event-contract.md, Parsing)."""
    return re.sub(r"[ \-]+", "_", name.strip().lower())


def ident(name: str) -> str:
    """A column name as a quoted SQL identifier. The profiling queries are built from the
    export's own column names (quoted here) and a path (quoted as a literal); the user's
    values are never spliced into SQL."""
    return '"' + name.replace('"', '""') + '"'


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class Column:
    name: str  # a nested field is `parent.field`
    type: str
    non_null: int
    distinct: int
    digits: int | None  # the length of its values when every one is all digits, else None
    examples: tuple[str, ...]
    sql: str  # how SQL reads it: the quoted name, or the parent's field ("p"."f")

    @property
    def is_nested(self) -> bool:
        return "." in self.name

    @property
    def key(self) -> str:
        """The name a role is recognised by: a nested field's own name."""
        return _key(self.name.rsplit(".", 1)[-1])

    @property
    def is_struct(self) -> bool:
        return self.type.startswith(("STRUCT", "MAP", "JSON"))

    @property
    def is_numeric(self) -> bool:
        return self.type.split("(")[0] in {
            "TINYINT",
            "SMALLINT",
            "INTEGER",
            "BIGINT",
            "HUGEINT",
            "FLOAT",
            "DOUBLE",
            "DECIMAL",
            "UBIGINT",
            "UINTEGER",
        }

    @property
    def is_temporal(self) -> bool:
        return self.type.startswith(("TIMESTAMP", "DATE"))


@dataclass
class Profile:
    source: str  # the path or table as given
    format: str | None  # None for a warehouse table
    rows: int
    columns: list[Column]
    roles: dict[str, Any] = field(default_factory=dict)
    event_counts: list[tuple[str, int]] = field(default_factory=list)
    first_day: str | None = None
    last_day: str | None = None
    last_moment: str | None = None

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def sql(self, name: str) -> str:
        return self.column(name).sql


def detect_format(path: Path, given: str | None) -> str:
    if given is not None:
        if given not in FORMATS:
            raise InvalidInputError(f"--format must be one of {', '.join(FORMATS)}, got {given!r}")
        return given
    suffixes = [s for s in path.suffixes if s not in {".gz", ".zst"}]
    found = BY_EXTENSION.get(suffixes[-1].lower()) if suffixes else None
    if found is None:
        raise InvalidInputError(
            f"cannot tell the format of {path.name} from its extension: pass --format "
            f"({', '.join(FORMATS)})"
        )
    return found


def _relation(source: str, fmt: str | None) -> str:
    if fmt is None:  # a table: schema.table
        return ".".join(ident(part) for part in source.split("."))
    quoted = "'" + source.replace("'", "''") + "'"
    if fmt == "csv":
        return f"read_csv({quoted}, sample_size=-1)"
    if fmt == "parquet":
        return f"read_parquet({quoted})"
    if fmt == "ndjson":
        return f"read_json_auto({quoted}, format='newline_delimited')"
    return f"read_json_auto({quoted})"


def read_profile(source: str, fmt: str | None, con: duckdb.DuckDBPyConnection) -> Profile:
    """Profile the first SAMPLE_ROWS rows of `source` (a file in `fmt`, or a table)."""
    relation = _relation(source, fmt)
    try:
        sql = f"create temp table sample as select * from {relation} limit {SAMPLE_ROWS}"  # noqa: S608
        con.execute(sql)
    except duckdb.Error as err:
        what = f"{fmt} file" if fmt else "table"
        raise NotFoundError(
            f"cannot read {source} as a {what}: {str(err).splitlines()[0]}"
            + (" (pass --format if the extension is not the format)" if fmt else "")
        ) from err
    described = con.execute("describe sample").fetchall()
    rows = con.execute("select count(*) from sample").fetchone()[0]
    if not rows:
        raise InvalidInputError(f"{source} has no rows to profile")
    columns = []
    for name, kind, *_ in described:
        columns.append(_column(con, name, kind, ident(name)))
        if kind.startswith("STRUCT") and not kind.endswith("]"):
            # One level of nesting: Mixpanel keeps everything under `properties`, GA4 its
            # country under `geo`; each field can then play a role through SQL.
            fields = con.execute(f"describe select {ident(name)}.* from sample").fetchall()  # noqa: S608
            for field_name, field_kind, *_ in fields:
                accessor = f"{ident(name)}.{ident(field_name)}"
                columns.append(_column(con, f"{name}.{field_name}", field_kind, accessor))
    return Profile(source=source, format=fmt, rows=rows, columns=columns)


def _column(con: duckdb.DuckDBPyConnection, name: str, kind: str, quoted: str) -> Column:
    stats = f"""
        select
            count({quoted}),
            count(distinct {quoted}),
            min(length(cast({quoted} as varchar))),
            max(length(cast({quoted} as varchar))),
            bool_and(regexp_full_match(trim(cast({quoted} as varchar)), '[0-9]+'))
        from sample
    """  # noqa: S608 (a quoted identifier, see ident)
    non_null, distinct, min_len, max_len, all_digits = con.execute(stats).fetchone()
    sample = f"select distinct cast({quoted} as varchar) from sample where {quoted} is not null"  # noqa: S608
    examples = [str(row[0]) for row in con.execute(sample + " limit 3").fetchall()]
    digits = min_len if all_digits and min_len == max_len else None
    return Column(name, kind, non_null, distinct or 0, digits, tuple(examples), quoted)


def guess_roles(profile: Profile) -> dict[str, Any]:
    """Which column (or nested field) plays each contract role; None where none does.

    Top-level columns win over nested fields of the same name. A struct named like a
    properties column (properties, event_properties) is the events' properties as it is."""
    by_key: dict[str, Column] = {}
    for column in sorted(profile.columns, key=lambda c: c.is_nested):
        by_key.setdefault(column.key, column)
    used: set[str] = set()
    roles: dict[str, Any] = {}

    properties = next(
        (c for c in profile.columns if c.key in PROPERTIES_NAMES and c.is_struct), None
    )
    if properties is not None:
        roles["properties_column"] = properties.name

    def first(names: tuple[str, ...], accept=lambda c: True) -> Column | None:
        for name in names:
            column = by_key.get(name)
            if column is not None and column.name not in used and accept(column):
                used.add(column.name)
                return column
        return None

    def scalar(column: Column) -> bool:
        return not column.is_struct and not column.type.endswith("]")

    event_id = first(EVENT_ID_NAMES, lambda c: scalar(c) and c.distinct >= 0.98 * c.non_null)
    roles["event_id"] = event_id.name if event_id else None

    def timelike(column: Column) -> bool:
        return column.is_temporal or column.digits in TIME_DIGITS or column.type == "VARCHAR"

    occurred = first(TIME_NAMES, timelike) or next(
        (c for c in profile.columns if c.is_temporal and c.name not in used), None
    )
    if occurred is None:
        raise InvalidInputError(
            f"no column of {profile.source} looks like the event time (a timestamp or date, "
            f"or one named like {', '.join(TIME_NAMES[:4])}): columns are "
            + ", ".join(c.name for c in profile.columns)
        )
    used.add(occurred.name)
    roles["occurred_at"] = {"column": occurred.name, "digits": occurred.digits}
    # A dated day beside a finer timestamp (GA4's event_date) plays no role of its own.
    used.update(c.name for c in profile.columns if c.key in TIME_NAMES and c.digits == 8)
    received = first(RECEIVED_NAMES)
    roles["received_at"] = received.name if received else None

    event_name = first(
        EVENT_NAME_NAMES, lambda c: scalar(c) and not c.is_numeric and c.distinct <= 500
    )
    roles["event_name"] = event_name.name if event_name else None

    candidates = [
        c
        for c in profile.columns
        if c.name not in used
        and scalar(c)
        and (c.key.endswith("id") or _has_hint(c, ACCOUNT_HINTS + USER_HINTS))
        and not c.is_temporal
        # an id repeats across events; in a handful of rows it may not yet
        and (c.distinct < c.non_null or profile.rows < 100)
    ]
    roles["entity_candidates"] = [(c.name, c.distinct) for c in candidates]
    account = next((c for c in candidates if _has_hint(c, ACCOUNT_HINTS)), None)
    user = next((c for c in candidates if _has_hint(c, USER_HINTS)), None)
    chosen = account or user or (candidates[0] if candidates else None)
    if chosen is None:
        raise InvalidInputError(
            f"no column of {profile.source} looks like the id of who did the event (an "
            "account, team or user id): columns are " + ", ".join(c.name for c in profile.columns)
        )
    used.add(chosen.name)
    roles["entity"] = "account" if chosen is account else "user"
    roles["entity_column"] = chosen.name
    other = user if chosen is account else account
    if other is not None and other.name not in used:
        used.add(other.name)
        roles["other_entity_column"] = other.name
    for attribute, names in ATTRIBUTE_NAMES.items():
        column = first(names, lambda c: scalar(c) and not c.is_numeric)
        roles[attribute] = column.name if column else None
    if properties is not None:
        # The struct is mapped whole; its own fields are the properties the spec declares.
        inside = [c for c in profile.columns if c.name.startswith(properties.name + ".")]
        roles["properties"] = {
            c.name.split(".", 1)[1]: "number" if c.is_numeric else "string"
            for c in inside
            if c.name not in used and (c.is_numeric or (c.type == "VARCHAR" and c.distinct <= 50))
        }
    else:
        roles["properties"] = {
            c.name: "number" if c.is_numeric else "string"
            for c in profile.columns
            if c.name not in used
            and not c.is_nested
            and c.key not in {"sessionid", *PROPERTIES_NAMES}
            and (c.is_numeric or (c.type == "VARCHAR" and c.distinct <= 50))
        }
    profile.roles = roles
    return roles


def _has_hint(column: Column, hints: tuple[str, ...]) -> bool:
    return any(hint in column.key for hint in hints)
