"""Load test of `northstar serve` on loopback: p50 / p99 latency and requests per second
at N concurrent clients, over the current snapshot.

    python scripts/bench_serve.py                      # 50 clients, 5,000 requests
    python scripts/bench_serve.py --clients 50 --requests 10000
    python scripts/bench_serve.py --publish            # `northstar publish` lands mid-run

It starts `northstar serve --port 0` in a subprocess (the snapshot from the usual
environment: NORTHSTAR_SNAPSHOTS_DIR, ...), waits for /healthz, then runs `--clients`
asyncio clients (httpx, one connection each) that share a bounded number of requests over
a dashboard-like mix of endpoints, and stops the server. Every answer must be a 200;
anything else is counted and fails the run (exit 1). With --publish, `northstar publish`
runs while the clients do, and the run reports which snapshot ids were served: the new one
must appear without the server being restarted.

Client and server share the machine, so the figures are a floor for the server alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
LISTENING = re.compile(r"listening on (http://\S+)")


def start_server(cache_mb: int, timeout: float) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [
            *(str(BIN / "northstar"), "serve", "--port", "0", "--log-level", "warning"),
            *("--cache-mb", str(cache_mb)),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    found: list[str] = []
    lines: list[str] = []

    def read() -> None:
        assert server.stderr is not None
        for line in server.stderr:
            lines.append(line)
            match = LISTENING.search(line)
            if match and not found:
                found.append(match.group(1))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found:
        if server.poll() is not None or time.monotonic() > deadline:
            stop(server)
            raise SystemExit("the server did not start:\n" + "".join(lines)[-3000:])
        time.sleep(0.05)
    base = found[0]
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop(server)
    raise SystemExit("the server never answered /healthz with 200:\n" + "".join(lines)[-3000:])


def stop(server: subprocess.Popen[str]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def cpu_seconds(pid: int) -> float | None:
    """A process's user + system CPU time so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mix(base: str) -> list[str]:
    """What a dashboard asks: the catalog, the latest statuses, the North Star's series
    (total and by its first segment), one metric's card and the snapshot."""
    catalog = httpx.get(f"{base}/api/metrics", timeout=30).json()["metrics"]
    nsm = next(m["metric_name"] for m in catalog if m["role"] == "north_star")
    series = httpx.get(f"{base}/api/series/{nsm}", params={"grain": "week"}, timeout=30).json()
    paths = [
        "/api/metrics",
        "/api/latest",
        f"/api/series/{nsm}?grain=week",
        f"/api/series/{nsm}?grain=day&from={series['rows'][0]['period_start']}",
        f"/api/metrics/{nsm}",
        "/api/snapshot",
    ]
    segmented = httpx.get(f"{base}/api/series/{nsm}", params={"segment": "plan"}, timeout=30)
    if segmented.status_code == 200:
        paths.append(f"/api/series/{nsm}?grain=week&segment=plan")
    return paths


async def load(base: str, paths: list[str], clients: int, requests: int, timeout: float):
    latencies: dict[str, list[float]] = {path: [] for path in paths}
    failures: Counter[str] = Counter()
    snapshots: Counter[str] = Counter()
    issued = 0

    async def client() -> None:
        nonlocal issued
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as http:
            while issued < requests:
                path = paths[issued % len(paths)]
                issued += 1
                started = time.perf_counter()
                try:
                    response = await http.get(path)
                except httpx.HTTPError as err:
                    failures[f"{path}: {type(err).__name__}"] += 1
                    continue
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    failures[f"{path}: HTTP {response.status_code}"] += 1
                    continue
                latencies[path].append(elapsed)
                snapshots[response.headers.get("x-northstar-snapshot", "?")] += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, failures, snapshots, time.perf_counter() - started


def timings(values: list[float]) -> str:
    if len(values) < 2:
        return "too few answers to measure"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {cuts[49] * 1000:7.1f} ms   p99 {cuts[98] * 1000:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=5000, help="total, over all clients")
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    parser.add_argument("--publish", action="store_true", help="run `northstar publish` mid-run")
    parser.add_argument(
        "--cache-mb",
        type=int,
        default=64,
        help="the server's --cache-mb (0: every request queries)",
    )
    args = parser.parse_args()
    if args.clients < 1 or args.requests < args.clients:
        parser.error("--clients must be >= 1 and --requests >= --clients")

    # The machine is the client's too, and maybe others': say how busy it was.
    load_before = os.getloadavg()[0]
    server, base = start_server(args.cache_mb, timeout=120)
    publisher: subprocess.Popen[str] | None = None
    try:
        paths = mix(base)
        before = httpx.get(f"{base}/healthz", timeout=30).json()["snapshot"]
        if args.publish:
            publisher = subprocess.Popen(
                [str(BIN / "northstar"), "publish"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
        latencies, failures, snapshots, wall = asyncio.run(
            load(base, paths, args.clients, args.requests, args.timeout)
        )
        client_cpu = time.process_time() - client_cpu
        server_after = cpu_seconds(server.pid)
        server_cpu = (
            None if server_cpu is None or server_after is None else server_after - server_cpu
        )
        published = None
        if publisher is not None:
            output, _ = publisher.communicate(timeout=1800)
            if publisher.returncode != 0:
                print(output[-3000:], file=sys.stderr)
                raise SystemExit(f"northstar publish failed (exit {publisher.returncode})")
            published = re.search(r"published snapshot ([A-Za-z0-9_-]+)", output)
        after = httpx.get(f"{base}/healthz", timeout=30).json()["snapshot"]
    finally:
        if publisher is not None and publisher.poll() is None:
            publisher.kill()
        stop(server)

    every = [value for values in latencies.values() for value in values]
    done = len(every)
    print(
        f"northstar serve (--cache-mb {args.cache_mb}), {args.clients} concurrent clients, "
        f"{done} requests in {wall:.1f} s; load average {load_before:.1f} at start, "
        f"{os.getloadavg()[0]:.1f} at the end, {os.cpu_count()} CPUs"
    )
    print(f"  {'all':60s} {timings(every)}   {done / wall:.0f} req/s")
    for path, values in latencies.items():
        print(f"  {path[:60]:60s} {timings(values)}   n={len(values)}")
    if server_cpu is not None:
        print(
            f"  CPU during the run: server {server_cpu:.1f} s "
            f"({server_cpu / max(done, 1) * 1000:.2f} ms a request), clients {client_cpu:.1f} s"
        )
    print(f"  snapshots served: {dict(snapshots)} (before {before}, after {after})")
    if args.publish:
        new = published.group(1) if published else None
        print(f"  published mid-run: {new}; served after it without a restart: {after == new}")
        if after != new:
            failures["the new snapshot was not served after the publish"] += 1
    for failure, count in failures.most_common():
        print(f"  FAILED {count} x {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
