"""HTTP details of `northstar serve`: JSON bodies, caching headers keyed on the snapshot,
and errors as JSON with the status their class means."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import duckdb
from starlette.requests import Request
from starlette.responses import Response

from northstar.errors import InvalidInputError, NorthstarError, NotFoundError
from northstar.query.formats import plain
from northstar.serve.source import NoSnapshotError

# The snapshot can change at any moment (a publish), so a cache may keep a response but
# must ask again before using it; the ETag makes that question cheap (304, no query run).
CACHE_CONTROL = "no-cache"
NO_STORE = "no-store"
SNAPSHOT_HEADER = "X-Northstar-Snapshot"
JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"


def etag(run_id: str, request: Request) -> str:
    """The snapshot id, plus a short hash of the path and query: a response changes only
    when the snapshot does, and two URLs never share a tag."""
    target = request.url.path + "?" + request.url.query
    digest = hashlib.sha256(target.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f'"{run_id}.{digest}"'


def matches(request: Request, tag: str) -> bool:
    """If-None-Match holds `tag` (or `*`); weak tags (W/"...") compare equal, as RFC 9110
    says for If-None-Match."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    for candidate in header.split(","):
        candidate = candidate.strip()
        candidate = candidate[2:] if candidate.startswith("W/") else candidate
        if candidate in ("*", tag):
            return True
    return False


def cache_headers(run_id: str, tag: str) -> dict[str, str]:
    return {"ETag": tag, "Cache-Control": CACHE_CONTROL, SNAPSHOT_HEADER: run_id}


def not_modified(run_id: str, tag: str) -> Response:
    return Response(status_code=304, headers=cache_headers(run_id, tag))


def json_body(payload: Any) -> bytes:
    # allow_nan=False: a NaN that slipped through `plain` fails loudly, never sent as NaN.
    return json.dumps(payload, default=plain, allow_nan=False, separators=(",", ":")).encode()


def encode(payload: Any) -> bytes:
    """An endpoint's answer as bytes: HTML as it is, anything else as JSON."""
    return payload.encode() if isinstance(payload, str) else json_body(payload)


def ok(body: bytes, run_id: str, tag: str, media_type: str = JSON_TYPE) -> Response:
    return Response(body, media_type=media_type, headers=cache_headers(run_id, tag))


def error(status: int, message: str) -> Response:
    return Response(
        json_body({"error": message, "status": status}),
        status_code=status,
        media_type=JSON_TYPE,
        headers={"Cache-Control": NO_STORE},
    )


def status_of(err: Exception) -> int:
    """The HTTP status of an error a reader raised, as the CLI's exit code does:
    a malformed value 400, an unknown name or period 404, nothing published yet 503."""
    if isinstance(err, NoSnapshotError):
        return 503
    if isinstance(err, InvalidInputError):
        return 400
    if isinstance(err, NotFoundError):
        return 404
    return 500


def message_of(err: NorthstarError | duckdb.Error) -> str:
    if isinstance(err, duckdb.Error):
        return f"DuckDB could not read the data: {err}"
    return str(err.args[0]) if err.args else str(err)


def error_response(err: NorthstarError | duckdb.Error) -> Response:
    return error(status_of(err), message_of(err))
