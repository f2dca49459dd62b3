"""Profile a file or a warehouse table and propose its vars: what `northstar init` runs."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from northstar.onboard.profile import (
    SAMPLE_ROWS,
    Profile,
    detect_format,
    guess_roles,
    ident,
    read_profile,
)
from northstar.onboard.proposal import Proposal, propose

# A whitespace-aligned text file: no usual delimiter on the header line, and two or more
# columns separated by runs of spaces.
ALIGNED = re.compile(r"^\s*\S+(\s{2,}|\t)\S+")


def profile_source(source: str, fmt: str | None) -> tuple[Profile, Proposal]:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")  # as staging: a time zone's dates are UTC dates
    try:
        path = Path(source)
        if path.is_file():
            fmt = detect_format(path, fmt)
            reader = {} if path.suffix.lower() == f".{fmt}" else {"format": fmt}
            if fmt == "csv" and _is_aligned(path):
                reader = {"format": "csv", "delimiter": "whitespace"}
                profile = _read_aligned(path, con)
            else:
                profile = read_profile(str(path), fmt, con)
            raw_path = str(path.resolve())
        else:
            from northstar.paths import Paths

            con.execute("attach ? as warehouse (read_only)", [str(Paths.discover().warehouse)])
            con.execute("use warehouse")
            profile = read_profile(source, None, con)
            con.execute("use memory")  # the sample is a temp table; the rest is scratch
            reader, raw_path = {}, ""
        guess_roles(profile)
        return profile, propose(profile, con, raw_path=raw_path, reader=reader)
    finally:
        con.close()


def _is_aligned(path: Path) -> bool:
    with path.open(errors="replace") as handle:
        header = handle.readline()
    return not any(d in header for d in (",", ";", "|")) and bool(ALIGNED.match(header))


def _read_aligned(path: Path, con: duckdb.DuckDBPyConnection) -> Profile:
    """DuckDB's CSV reader takes one delimiter character; aligned columns are split on runs
    of whitespace here, for the sample only (the build reads the file itself)."""
    import pandas as pd

    frame = pd.read_csv(path, sep=r"\s+", dtype=str, nrows=SAMPLE_ROWS, engine="python")
    con.register("aligned", frame)
    columns = []
    for name in frame.columns:
        quoted = ident(name)
        # Numbers become DOUBLE for the profile; fixed-length digit runs (YYYYMMDD, epoch)
        # stay text, so their length still tells what they are.
        # Ids with leading zeros stay text too (customer 00001 is not the number 1).
        numeric = (
            _numeric(frame[name])
            and _digits_length(frame[name]) not in (8, 10, 13)
            and not frame[name].dropna().astype(str).str.match(r"0\d").any()
        )
        columns.append(f"cast({quoted} as double) as {quoted}" if numeric else quoted)
    select = f"select {', '.join(columns)} from aligned"  # noqa: S608 (quoted identifiers)
    con.execute(f"create temp view aligned_typed as {select}")
    profile = read_profile("aligned_typed", None, con)
    profile.source, profile.format = str(path), "csv"
    return profile


def _numeric(values) -> bool:
    text = values.dropna().astype(str)
    return bool(len(text)) and bool(text.str.fullmatch(r"-?\d+(\.\d+)?").all())


def _digits_length(values) -> int | None:
    text = values.dropna().astype(str)
    lengths = text.str.len().unique()
    if len(text) and text.str.fullmatch(r"\d+").all() and len(lengths) == 1:
        return int(lengths[0])
    return None
