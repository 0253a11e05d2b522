"""Rate limits that cost the same at any rate, and the client address they count by.

DRF's SimpleRateThrottle keeps every request time of the window in the cache and rewrites that
list on each request: at a checkpoint's rates the list, pickled and unpickled every time, costs
more than the scan. A fixed-window counter (one atomic increment per request) limits just as
well for this purpose: at most `rate` requests per user per window, with a burst of up to twice
that across a window boundary.

Requests without an account are counted by client address (``client_ip``), which the sign-in
lock-out (django-axes, ``AXES_CLIENT_IP_CALLABLE``) reads too, so both count one client alike.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from rest_framework import throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings


def client_ip(request: HttpRequest | Request) -> str | None:
    """The address of the client behind NUM_PROXIES reverse proxies (settings: TRUSTED_PROXIES).

    Each proxy appends the address it received the request from to X-Forwarded-For, so the last
    NUM_PROXIES entries are theirs and the first of those is the client's; entries further left
    are whatever the client sent and are never believed. With no proxy configured, the header
    is ignored. A header our proxies cannot have written (too few entries, not an address) gives
    the nearest proxy's address: a client never picks the address it is counted under.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = api_settings.NUM_PROXIES or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    entries = [entry.strip() for entry in forwarded.split(",")]
    if len(entries) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(entries[-proxies]))
    except ValueError:
        return remote


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    """DRF's, counting clients without an account by ``client_ip``."""

    def get_ident(self, request: Request) -> str:
        return str(client_ip(request))


def counter_allows(*, scope: str, ident: object, limit: int, seconds: int) -> tuple[bool, float]:
    """Count one request of ``ident`` in the current window of ``scope``; answer whether it is
    within ``limit`` and how long until the window ends."""
    now = time.time()
    window = int(now // seconds)
    key = f"throttle:{scope}:{ident}:{window}"
    # add() starts the window at 0 only if absent; incr() is atomic in Redis and locmem.
    cache.add(key, 0, seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, seconds)
        count = 1
    return count <= limit, (window + 1) * seconds - now


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
        allowed, self._wait = counter_allows(
            scope=self.scope, ident=ident, limit=self.num_requests, seconds=self.duration
        )
        return allowed

    def wait(self) -> float | None:
        return max(0.0, self._wait)
