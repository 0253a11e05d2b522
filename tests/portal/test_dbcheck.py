"""The first statement of a request checks a reused connection in place of Django's SELECT 1
(``passcode_portal.dbcheck``): a live connection is not pinged, a dropped one is replaced and the
statement sent again, and an error of the statement itself is raised as it is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper

from passcode_portal.dbcheck import checked_by_use
from passcode_portal.rows import named_row

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            "SQLite is a file, not a server: there is no connection to drop or check, and "
            "Django's SQLite wrapper answers every health check yes; CI runs this on PostgreSQL"
        ),
    ),
]


@pytest.fixture
def reused_connection() -> Iterator[None]:
    """A connection kept between requests with health checks on, as in production, at the start
    of a request that reuses it."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = 600
    connection.settings_dict["CONN_HEALTH_CHECKS"] = True
    connection.ensure_connection()
    connection.close_if_unusable_or_obsolete()  # what every request does first
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """Every health check Django's wrapper sends (is_usable, still run for real)."""
    sent: list[None] = []
    wrapper_type = type(connections[DEFAULT_DB_ALIAS])
    real = wrapper_type.is_usable

    def counted(self: BaseDatabaseWrapper) -> bool:
        sent.append(None)
        return bool(real(self))

    monkeypatch.setattr(wrapper_type, "is_usable", counted)
    return sent


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid() AS pid")
        return int(named_row(cursor).pid)


def drop_from_the_server(pid: int) -> None:
    """Another connection ends this one's server process, as a restart of the server would."""
    other = connections[DEFAULT_DB_ALIAS].copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


def read(cursor: Any) -> int:
    cursor.execute("SELECT 41 + 1 AS answer")
    return int(named_row(cursor).answer)


def test_a_live_connection_is_not_pinged(reused_connection: None, pings: list[None]) -> None:
    assert checked_by_use(read) == 42
    assert pings == []
    # Later statements of the request are not checked either: the first one was the check.
    backend_pid()
    assert pings == []


def test_without_it_django_pings_the_reused_connection(
    reused_connection: None, pings: list[None]
) -> None:
    backend_pid()
    assert len(pings) == 1


def test_a_dropped_connection_is_replaced_and_the_statement_sent_again(
    reused_connection: None, pings: list[None]
) -> None:
    old = backend_pid()
    connection.close_if_unusable_or_obsolete()  # the next request
    drop_from_the_server(old)
    pings.clear()

    assert checked_by_use(read) == 42
    assert backend_pid() != old
    assert len(pings) == 1  # asked once, after the statement failed


@pytest.mark.parametrize(
    ("statement", "error", "asked"),
    [
        # Not an error of the connection: nothing to ask.
        ("SELECT 1 / 0", DatabaseError, 0),
        # An error that a dropped connection gives too: the connection is asked, found alive,
        # and kept.
        ("SET statement_timeout = 10; SELECT pg_sleep(1)", OperationalError, 1),
    ],
)
def test_an_error_of_the_statement_itself_is_raised_and_not_sent_again(
    reused_connection: None, pings: list[None], statement: str, error: type, asked: int
) -> None:
    sent: list[None] = []

    def wrong(cursor: Any) -> None:
        sent.append(None)
        cursor.execute(statement)

    try:
        with pytest.raises(error):
            checked_by_use(wrong)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
    assert len(sent) == 1
    assert len(pings) == asked


def test_inside_a_transaction_nothing_is_sent_twice(
    reused_connection: None, pings: list[None]
) -> None:
    with transaction.atomic():
        assert checked_by_use(read) == 42
    # Django's own check ran (the transaction's first statement); checked_by_use added none.
    assert len(pings) == 1
