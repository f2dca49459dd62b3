"""The `northstar serve` ASGI app (Starlette): read-only GET routes over the current
snapshot. docs/serve.md lists every endpoint, its parameters and its answers.

A request for an answer already made (a 304, or one kept in the answer cache) is served
on the event loop; anything that queries DuckDB runs in Starlette's thread pool, through
the request's own cursor, so a query never blocks the loop; and concurrent requests for
the same answer wait for one query instead of each running it (serve/cache.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import duckdb
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from northstar.errors import NorthstarError
from northstar.query.catalog import shown
from northstar.serve import endpoints
from northstar.serve.cache import Flights, ResponseCache
from northstar.serve.http import (
    HTML_TYPE,
    JSON_TYPE,
    NO_STORE,
    SNAPSHOT_HEADER,
    encode,
    error,
    error_response,
    etag,
    json_body,
    matches,
    message_of,
    not_modified,
    ok,
)
from northstar.serve.params import read_params
from northstar.serve.source import SnapshotSource

Produce = Callable[..., Any]

# path -> (what answers, its query parameters, its media type)
ROUTES: dict[str, tuple[Produce, tuple[str, ...], str]] = {
    "/api/snapshot": (endpoints.snapshot, (), JSON_TYPE),
    "/api/metrics": (endpoints.metrics, (), JSON_TYPE),
    "/api/metrics/{name}": (endpoints.metric, (), JSON_TYPE),
    "/api/series/{metric}": (
        endpoints.series,
        ("grain", "segment", "from", "to", "complete_only"),
        JSON_TYPE,
    ),
    "/api/latest": (endpoints.latest, ("grain",), JSON_TYPE),
    "/api/decomposition": (endpoints.decomposition, ("metric", "grain", "period"), JSON_TYPE),
    "/api/digest": (endpoints.digest, ("grain", "period", "owner"), HTML_TYPE),
}


def snapshot_endpoint(produce: Produce, allowed: tuple[str, ...], media_type: str) -> Callable:
    def answer(request: Request, params: dict[str, str]) -> tuple[str, bytes]:
        with request.app.state.source.reading() as reading:
            return reading.run_id, encode(produce(reading, dict(request.path_params), params))

    async def handle(request: Request) -> Response:
        source: SnapshotSource = request.app.state.source
        cache: ResponseCache = request.app.state.cache
        try:
            params = read_params(request, allowed)
            # A revalidation or an answer already made costs one readlink, on the event
            # loop: no thread, no connection, no query.
            current = source.current_run_id()
            tag = None
            if current is not None:
                tag = etag(current, request)
                if matches(request, tag):
                    return not_modified(current, tag)
                body = cache.get(tag)
                if body is not None:
                    return ok(body, current, tag, media_type)
            run_id, body = await request.app.state.flights.run(tag, answer, request, params)
            tag = etag(run_id, request)
            cache.put(run_id, tag, body)
            return ok(body, run_id, tag, media_type)
        except (NorthstarError, duckdb.Error) as err:
            return error_response(err)

    handle.__name__ = produce.__name__
    return handle


def healthz(request: Request) -> Response:
    """200 when the current snapshot opens and its catalog reads; 503 (JSON) when not."""
    source: SnapshotSource = request.app.state.source
    try:
        with source.reading() as reading:
            reading.con.execute("select count(*) from dim_metrics").fetchone()
            body = json_body({"status": "ok", "snapshot": reading.run_id})
            headers = {"Cache-Control": NO_STORE, SNAPSHOT_HEADER: reading.run_id}
    except (NorthstarError, duckdb.Error) as err:
        return error(503, message_of(err))
    return Response(body, media_type=JSON_TYPE, headers=headers)


def index(request: Request) -> Response:
    body = json_body({"endpoints": ["/healthz", *ROUTES], "docs": "docs/serve.md"})
    return Response(body, media_type=JSON_TYPE, headers={"Cache-Control": NO_STORE})


async def http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer in JSON too, like every other error."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error(404, f"no endpoint {shown(request.url.path)}; GET /api lists them")
    if exc.status_code == 405:
        return error(405, f"{request.method} is not allowed: the API is read-only (GET)")
    return error(exc.status_code, str(exc.detail))


CACHE_BYTES = 64 * 1024 * 1024


def create_app(snapshots_dir: Path | None = None, cache_bytes: int = CACHE_BYTES) -> Starlette:
    """The app over `snapshots_dir` (default: the project's, $NORTHSTAR_SNAPSHOTS_DIR),
    keeping up to `cache_bytes` of answers in memory (0: none)."""
    if snapshots_dir is None:
        from northstar.paths import Paths

        snapshots_dir = Paths.discover().snapshots_dir
    source = SnapshotSource(snapshots_dir)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        source.close()

    routes = [Route("/healthz", healthz), Route("/api", index)]
    routes += [
        Route(path, snapshot_endpoint(produce, allowed, media_type))
        for path, (produce, allowed, media_type) in ROUTES.items()
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    # No redirect from /api/metrics/ to /api/metrics: a path is an endpoint or a 404,
    # and a name never turns into another endpoint by way of a redirect.
    app.router.redirect_slashes = False
    app.state.source = source
    app.state.cache = ResponseCache(cache_bytes)
    app.state.flights = Flights()
    return app
