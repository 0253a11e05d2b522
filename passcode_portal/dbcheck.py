"""The first statement of a request as the connection's health check.

With ``CONN_HEALTH_CHECKS``, Django sends ``SELECT 1`` on a reused connection before the
request's first statement, so that a connection the server has dropped (a restart, an idle
time-out) is replaced instead of failing the request. On the scan's path that is one round trip
in three. ``checked_by_use`` sends a statement that is safe to send twice (a read, or one that
opens a transaction and commits nothing) without the ``SELECT 1``: if it fails and the
connection proves dead, the connection is replaced and the statement sent once more, which is
what the health check would have done before it. An error of the statement itself, on a live
connection, is raised as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

T = TypeVar("T")


def checked_by_use(run: Callable[[Any], T], *, using: str = DEFAULT_DB_ALIAS) -> T:
    """``run(cursor)``, the health check of a reused connection if it is the request's first
    statement. ``run`` must be safe to call twice, the second time on a new connection."""
    # Django's wrapper; its stubs do not declare the health-check attributes.
    wrapper: Any = connections[using]
    if (
        wrapper.connection is None
        or not wrapper.health_check_enabled
        or wrapper.health_check_done
        or wrapper.in_atomic_block
    ):
        # A new connection, a checked one, or one inside a transaction: nothing to save, or
        # nothing that could be sent again.
        with wrapper.cursor() as cursor:
            return run(cursor)
    wrapper.health_check_done = True
    try:
        with wrapper.cursor() as cursor:
            return run(cursor)
    except (OperationalError, InterfaceError):
        if wrapper.is_usable():
            raise
        # The server had dropped the connection: what the health check would have found.
        wrapper.close()
    with wrapper.cursor() as cursor:
        return run(cursor)
