"""`northstar serve`: the read-only JSON API over the current snapshot, through Starlette's
TestClient (no socket): the same answers and refusals as the CLI, caching keyed on the
snapshot id, and a publish picked up by the next request without a restart."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import duckdb
import httpx
import pytest
from click.testing import CliRunner
from snapshot_helpers import make_warehouse, publish_ok, setup_env
from test_cli_fuzz import HOSTILE

from northstar.cli import cli
from northstar.errors import NotFoundError
from northstar.serve import create_app
from northstar.serve.cache import Flights, ResponseCache

with warnings.catch_warnings():
    # Starlette 1.10 asks for httpx2 (not pinned); the pinned httpx works as it is.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One published snapshot for the read-only tests of this module (they never write)."""
    root = tmp_path_factory.mktemp("serve")
    with pytest.MonkeyPatch.context() as patch:
        paths = setup_env(root, patch)
        make_warehouse(paths)
        result = publish_ok(paths)
    return root, paths, result.run_id


@pytest.fixture(scope="module")
def client(shared):
    with TestClient(create_app(shared[1].snapshots_dir)) as client:
        yield client


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["status"] == status
    return body["error"]


def test_every_endpoint_answers_from_the_current_snapshot(client, shared):
    run_id = shared[2]
    assert client.get("/healthz").json() == {"status": "ok", "snapshot": run_id}
    assert client.get("/api/snapshot").json()["run_id"] == run_id
    for path in ["/api/metrics", "/api/metrics/churn_rate", "/api/latest"]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.json()["snapshot"] == run_id
        assert response.headers["x-northstar-snapshot"] == run_id
    latest = client.get("/api/latest").json()["metrics"]
    assert {row["metric_name"]: row["status"] for row in latest}["churn_rate"] == "breach"
    head = client.head("/api/latest")
    assert head.status_code == 200 and head.content == b""


def test_the_digest_is_the_html_the_cli_writes(client, shared, monkeypatch, tmp_path):
    setup_env(shared[0], monkeypatch)
    written = CliRunner().invoke(cli, ["digest", "--out", str(tmp_path)])
    assert written.exit_code == 0, written.output
    [html] = tmp_path.glob("*.html")
    served = client.get("/api/digest")
    assert served.headers["content-type"] == "text/html; charset=utf-8"
    assert served.content == html.read_bytes()


def test_the_snapshot_endpoint_keeps_server_paths_to_itself(client, shared):
    body = client.get("/api/snapshot").text
    assert str(shared[0]) not in body
    assert "files" not in json.loads(body)


def test_series_and_metrics_are_the_cli_json(client, shared, monkeypatch):
    setup_env(shared[0], monkeypatch)
    url = "/api/series/messages_sent?grain=week&segment=plan=pro&from=2026-09-07&to=2026-09-21"
    served = client.get(url).json()
    printed = CliRunner().invoke(
        cli,
        [
            *("query", "messages_sent", "--segment", "plan=pro", "--format", "json"),
            *("--from", "2026-09-07", "--to", "2026-09-21"),
        ],
    )
    assert printed.exit_code == 0, printed.output
    assert served.pop("snapshot") == shared[2]
    assert served == json.loads(printed.stdout)
    assert [row["period_start"] for row in served["rows"]] == [
        "2026-09-07",
        "2026-09-14",
        "2026-09-21",
    ]
    assert {row["segment_value"] for row in served["rows"]} == {"pro"}

    listed = CliRunner().invoke(cli, ["metrics", "--format", "json"])
    assert json.loads(listed.stdout) == client.get("/api/metrics").json()


def test_etag_and_cache_headers_give_304_without_a_query(client, shared):
    first = client.get("/api/series/messages_sent")
    tag = first.headers["etag"]
    assert tag.startswith(f'"{shared[2]}.')
    assert first.headers["cache-control"] == "no-cache"
    again = client.get("/api/series/messages_sent", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    weak_in_a_list = client.get(
        "/api/series/messages_sent", headers={"If-None-Match": f'"other", W/{tag}'}
    )
    assert weak_in_a_list.status_code == 304
    # Another query is another resource: its own tag, never a 304 for the first's.
    other = client.get("/api/series/messages_sent?grain=week", headers={"If-None-Match": tag})
    assert other.status_code == 200 and other.headers["etag"] != tag
    # Errors are never cached.
    assert client.get("/api/metrics/nope").headers["cache-control"] == "no-store"


def test_refusals_are_json_naming_the_problem(client):
    assert "unknown metric 'nope'" in error_of(client.get("/api/series/nope"), 404)
    assert "unknown grain 'year'" in error_of(
        client.get("/api/series/messages_sent?grain=year"), 404
    )
    assert "unknown segment 'country'" in error_of(
        client.get("/api/series/messages_sent?segment=country"), 404
    )
    assert "from: '2026-02-30' is not a date" in error_of(
        client.get("/api/series/messages_sent?from=2026-02-30"), 400
    )
    assert "from 2026-09-21 is after to 2026-09-07" in error_of(
        client.get("/api/series/messages_sent?from=2026-09-21&to=2026-09-07"), 400
    )
    assert "unknown parameter 'segmnet'" in error_of(
        client.get("/api/series/messages_sent?segmnet=plan"), 400
    )
    assert "'grain' given more than once" in error_of(
        client.get("/api/latest?grain=week&grain=day"), 400
    )
    assert "complete_only: 'yes please'" in error_of(
        client.get("/api/series/messages_sent?complete_only=yes please"), 400
    )
    assert "unknown owner" in error_of(client.get("/api/digest?owner=nobody"), 404)
    assert "not one of week, month" in error_of(client.get("/api/digest?grain=day"), 400)
    assert "read-only" in error_of(client.post("/api/metrics"), 405)
    assert "GET /api lists them" in error_of(client.get("/api/nothing"), 404)


def test_decomposition_when_it_exists_and_a_clear_404_when_not(client):
    # The contract snapshot has no fct_north_star_decomposition (the North Star's)...
    message = error_of(client.get("/api/decomposition"), 404)
    assert "has no fct_north_star_decomposition" in message
    # ... while another metric's split comes from fct_metric_values.
    split = client.get("/api/decomposition?metric=activation_rate&period=2026-09-14").json()
    assert split["metric"] == "activation_rate"
    assert split["source"] == "fct_metric_values"
    assert split["decompositions"]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_names_are_refused_as_by_query(client, value):
    """Every hostile value of the CLI fuzz, as a path segment and as each name parameter:
    a 4xx JSON answer (never a 500, never a redirect, never a file read), and the
    snapshot unharmed. The 100 kB value is cut to 8 kB: no client sends a longer URL
    (httpx refuses past 64 kB, and uvicorn's h11 refuses a request head over 16 kB)."""
    value = value[:8000]
    segment = quote(value, safe="")
    for path, params in [
        (f"/api/metrics/{segment}", None),
        (f"/api/series/{segment}", None),
        ("/api/series/messages_sent", {"grain": value}),
        ("/api/series/messages_sent", {"segment": value}),
        ("/api/series/messages_sent", {"segment": f"plan={value}", "from": value}),
        ("/api/decomposition", {"metric": value}),
        ("/api/digest", {"owner": value, "period": value}),
    ]:
        response = client.get(path, params=params, follow_redirects=False)
        assert 400 <= response.status_code < 500, (path, params, response.text[:300])
        assert response.json()["status"] == response.status_code
        assert "root:" not in response.text
    assert client.get("/api/metrics/churn_rate").status_code == 200


def test_the_snapshot_is_opened_read_only(shared):
    app = create_app(shared[1].snapshots_dir)
    with app.state.source.reading() as reading, pytest.raises(duckdb.Error, match="read-only"):
        reading.con.execute("create table written (i integer)")
    app.state.source.close()
    assert app.state.source.open_connections == 0


def test_no_snapshot_yet_is_503_until_one_is_published(tmp_path, monkeypatch):
    paths = setup_env(tmp_path, monkeypatch)
    with TestClient(create_app(paths.snapshots_dir)) as client:
        assert "no snapshot published yet" in error_of(client.get("/healthz"), 503)
        assert "no snapshot published yet" in error_of(client.get("/api/metrics"), 503)
        make_warehouse(paths)
        run_id = publish_ok(paths).run_id
        assert client.get("/healthz").json()["snapshot"] == run_id
        # `current` pointing at a snapshot that is not there: 503 naming the way out.
        link = paths.snapshots_dir / "current"
        link.unlink()
        link.symlink_to("20990101T000000Z-000000")
        message = error_of(client.get("/api/latest"), 503)
        assert "missing or incomplete: run `northstar rollback`" in message


def test_a_publish_is_served_by_the_next_request_without_a_restart(tmp_path, monkeypatch):
    paths = setup_env(tmp_path, monkeypatch)
    make_warehouse(paths)
    first = publish_ok(paths).run_id
    app = create_app(paths.snapshots_dir)
    source = app.state.source
    with TestClient(app) as client:
        old = client.get("/api/metrics")
        assert old.json()["snapshot"] == first
        client.get("/api/latest")
        assert source.opened_count == 1  # one connection per snapshot, not per request
        old_connection = source._opened.con
        # A request that started before the publish keeps reading its snapshot.
        with source.reading() as in_flight:
            second = publish_ok(paths).run_id
            fresh = client.get("/api/metrics", headers={"If-None-Match": old.headers["etag"]})
            assert fresh.status_code == 200  # the old tag no longer matches
            assert fresh.json()["snapshot"] == second
            assert fresh.headers["etag"].startswith(f'"{second}.')
            assert in_flight.run_id == first
            assert in_flight.con.execute("select count(*) from dim_metrics").fetchone()[0] > 0
            assert source.open_connections == 2 and source.opened_count == 2
        # ... and the old snapshot's connection is closed once that request is done.
        assert source.open_connections == 1
        with pytest.raises(duckdb.ConnectionException, match="closed"):
            old_connection.execute("select 1")

        # Concurrent clients across a rollback: every answer whole, from one of the two.
        seen: list[str] = []

        def hammer() -> None:
            for _ in range(5):
                response = client.get("/api/latest")
                assert response.status_code == 200
                seen.append(response.json()["snapshot"])

        threads = [threading.Thread(target=hammer) for _ in range(6)]
        for thread in threads:
            thread.start()
        result = CliRunner().invoke(cli, ["rollback"])
        assert result.exit_code == 0, result.output
        for thread in threads:
            thread.join()
        assert len(seen) == 30 and set(seen) <= {first, second}
        assert client.get("/healthz").json()["snapshot"] == first
        assert source.open_connections == 1
    assert source.open_connections == 0  # closed at shutdown


def test_serve_binds_loopback_by_default_and_says_why_it_cannot_listen(monkeypatch, shared):
    setup_env(shared[0], monkeypatch)
    bound = []

    def no_server(app, sock, log_level):
        bound.append(sock.getsockname())

    monkeypatch.setattr("northstar.serve.server.run", no_server)
    result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 0, result.output
    host, port = bound[0]
    assert host == "127.0.0.1" and port > 0
    assert f"serving snapshot {shared[2]}" in result.stderr
    assert f"listening on http://127.0.0.1:{port}" in result.stderr

    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "0"])
    assert "warning: listening on 0.0.0.0: the API has no authentication" in result.stderr

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"error: cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    result = CliRunner().invoke(cli, ["serve", "--host", "no-such-host.invalid"])
    assert result.exit_code == 2
    assert "error: --host: cannot listen on 'no-such-host.invalid'" in result.stderr
    assert CliRunner().invoke(cli, ["serve", "--port", "70000"]).exit_code == 2


def test_answers_are_kept_per_snapshot_and_bounded(shared):
    app = create_app(shared[1].snapshots_dir)
    cache = app.state.cache
    with TestClient(app) as client:
        first = client.get("/api/series/messages_sent?segment=plan")
        again = client.get("/api/series/messages_sent?segment=plan")
        assert (cache.misses, cache.hits, len(cache)) == (1, 1, 1)
        assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
        client.get("/api/series/nope")  # an error is never kept
        assert len(cache) == 1

    bounded = ResponseCache(max_bytes=10)
    for tag in "abc":
        bounded.put("run-1", tag, b"1234")
    assert bounded.size == 8 and bounded.get("a") is None and bounded.get("c") == b"1234"
    bounded.put("run-2", "d", b"12")  # another snapshot: the first one's answers go
    assert (len(bounded), bounded.size) == (1, 2)
    nothing = ResponseCache(max_bytes=0)
    nothing.put("run-1", "a", b"x")
    assert nothing.get("a") is None

    with TestClient(create_app(shared[1].snapshots_dir, cache_bytes=0)) as client:
        client.get("/api/latest")
        client.get("/api/latest")
        assert len(client.app.state.cache) == 0


def test_concurrent_misses_of_one_answer_share_one_query():
    calls: list[int] = []
    release = threading.Event()

    def work(fail: bool) -> tuple[str, bytes]:
        calls.append(1)
        release.wait(5)
        if fail:
            raise NotFoundError("no such thing")
        return "run-1", b"body"

    async def ten_at_once(fail: bool) -> list:
        flights = Flights()
        tasks = [asyncio.create_task(flights.run("tag", work, fail)) for _ in range(10)]
        await asyncio.sleep(0.2)  # all ten are waiting before the first run ends
        release.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    assert asyncio.run(ten_at_once(False)) == [("run-1", b"body")] * 10
    assert len(calls) == 1
    calls.clear()
    release.clear()
    # A failed run shares nothing: every waiter runs it and gets its own error.
    results = asyncio.run(ten_at_once(True))
    assert all(isinstance(result, NotFoundError) for result in results)
    assert len(calls) == 10


def test_the_command_serves_over_a_real_socket_until_interrupted(shared, monkeypatch):
    """End to end once: `northstar serve --port 0` under uvicorn, one request, Ctrl-C."""
    setup_env(shared[0], monkeypatch)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "northstar"), "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        for line in server.stderr:
            if "listening on " in line:
                base = line.split("listening on ")[1].split()[0]
                break
        else:
            pytest.fail("the server never said where it listens")
        for _ in range(100):
            try:
                answer = httpx.get(f"{base}/api/latest", timeout=10)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert answer.status_code == 200 and answer.json()["snapshot"] == shared[2]
        assert base.startswith("http://127.0.0.1:")
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=20) == 0
