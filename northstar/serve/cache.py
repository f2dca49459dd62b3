"""Answers kept in memory, by ETag: a snapshot never changes once published, so the answer
to one URL is the same until `current` moves, and the second dashboard asking for it need
not run the query again.

Bounded by bytes (least recently used first out); only the current snapshot's answers are
kept: the first answer from another snapshot empties the cache. Errors are never kept.

`Flights` makes concurrent misses of one answer share one query: when 50 dashboards open
at once after a publish, the first request of a URL runs it and the other 49 wait for its
result, instead of 50 identical queries queueing for the thread pool.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool


class ResponseCache:
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._run_id: str | None = None
        self.size = 0
        self.hits = 0
        self.misses = 0

    def get(self, tag: str) -> bytes | None:
        with self._lock:
            body = self._entries.get(tag)
            if body is None:
                self.misses += 1
                return None
            self._entries.move_to_end(tag)
            self.hits += 1
            return body

    def put(self, run_id: str, tag: str, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        with self._lock:
            if run_id != self._run_id:
                self._entries.clear()
                self.size = 0
                self._run_id = run_id
            old = self._entries.pop(tag, None)
            self.size -= len(old) if old is not None else 0
            self._entries[tag] = body
            self.size += len(body)
            while self.size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.size -= len(evicted)

    def __len__(self) -> int:
        return len(self._entries)


class Flights:
    """Answers being made, by ETag (used on the event loop only, so no lock)."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Future[Any]] = {}

    async def run(self, tag: str | None, work: Callable[..., Any], *args: Any) -> Any:
        """`work(*args)` in the thread pool, or the result of the same tag's run already
        under way. A run that fails shares nothing: each waiter then runs `work` itself,
        so it gets its own error."""
        if tag is None:
            return await run_in_threadpool(work, *args)
        running = self._running.get(tag)
        if running is not None:
            shared = await asyncio.shield(running)
            if shared is not None:
                return shared
            return await run_in_threadpool(work, *args)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._running[tag] = future
        result = None
        try:
            result = await run_in_threadpool(work, *args)
            return result
        finally:
            del self._running[tag]
            future.set_result(result)
