"""A small process-local cache with a time to live, for values read on every request that change
rarely (an API token's user, a checkpoint by code, the policy in force).

Process-local on purpose: a hit costs a dict lookup, not a round trip to Redis. The price is that
a change reaches each process only when its entry expires, so keep the time to live short (the
settings say how short) and never cache what must be exact at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

_ALL: list[TTLCache[object]] = []


class TTLCache(Generic[V]):
    def __init__(self, seconds: Callable[[], float], max_entries: int = 10_000) -> None:
        self._seconds = seconds  # read at each store, so tests and settings can change it
        self._max = max_entries
        self._data: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()
        _ALL.append(self)  # type: ignore[arg-type]

    def get_or_load(self, key: Hashable, load: Callable[[], V]) -> V:
        now = time.monotonic()
        hit = self._data.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        self.put(key, value)
        return value

    def get(self, key: Hashable) -> V | None:
        """The value kept for ``key``, or None when none is kept or it has expired."""
        hit = self._data.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def put(self, key: Hashable, value: V) -> None:
        seconds = self._seconds()
        if seconds > 0:
            with self._lock:
                if len(self._data) >= self._max:
                    self._data.clear()  # crude, but bounded; entries are cheap to reload
                self._data[key] = (time.monotonic() + seconds, value)

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def clear_all() -> None:
    """Forget every cached value in this process (tests call this between tests)."""
    for cache in _ALL:
        cache.clear()
