"""Answers kept in memory, by ETag: a snapshot never changes once published, so the answer
to one URL is the same until `current` moves, and the second dashboard asking for it need
not run the query again.

Bounded by bytes (least recently used first out); only the current snapshot's answers are
kept: the first answer from another snapshot empties the cache. Errors are never kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


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
