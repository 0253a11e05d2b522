"""Rate limits that cost the same at any rate.

DRF's SimpleRateThrottle keeps every request time of the window in the cache and rewrites that
list on each request: at a checkpoint's rates the list, pickled and unpickled every time, costs
more than the scan. A fixed-window counter (one atomic increment per request) limits just as
well for this purpose: at most `rate` requests per user per window, with a burst of up to twice
that across a window boundary.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle


class CounterRateThrottle(ScopedRateThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.num_requests is None or self.duration is None:
            return True
        ident = request.user.pk if request.user.is_authenticated else self.get_ident(request)
        window = int(time.time() // self.duration)
        self.key = f"throttle:{self.scope}:{ident}:{window}"
        # add() starts the window at 0 only if absent; incr() is atomic in Redis and locmem.
        cache.add(self.key, 0, self.duration)
        try:
            count = cache.incr(self.key)
        except ValueError:  # expired between add and incr
            cache.set(self.key, 1, self.duration)
            count = 1
        self._window_ends = (window + 1) * self.duration
        return count <= self.num_requests

    def wait(self) -> float | None:
        return max(0.0, self._window_ends - time.time())
