"""Passes expire at the end of their window, and trips that never entered expire with them
(issue 4 item 2), in a constant number of statements, once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_trip
from tests.lifecycle import bulk_passes
from trucks import lifecycle, services
from trucks import tasks as lifecycle_tasks
from trucks.models import Pass, PassStatus, Trip, TripStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def refreshed(pass_: Pass) -> Pass:
    pass_.refresh_from_db()
    pass_.trip.refresh_from_db()
    return pass_


def test_a_pass_expires_when_its_window_ends(dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    pass_ = Pass.objects.get(trip=trip)

    # A microsecond before the end it is still valid...
    assert lifecycle.passes_expire(now=pass_.valid_until - timedelta(microseconds=1)).passes == 0
    assert refreshed(pass_).status == PassStatus.ACTIVE

    # ...and at the end it is not (the scan refuses from valid_until on, too).
    expired = lifecycle.passes_expire(now=pass_.valid_until)
    assert (expired.passes, expired.trips) == (1, 1)
    assert refreshed(pass_).status == PassStatus.EXPIRED
    assert pass_.trip.status == TripStatus.EXPIRED


def test_trucks_inside_keep_their_state(checkpoint: Any) -> None:
    start, end = NOW - timedelta(hours=30), NOW - timedelta(minutes=1)
    inside = bulk_passes(
        1, checkpoint=checkpoint, valid_from=start, valid_until=end, status="inside"
    )
    arrived = bulk_passes(
        1, checkpoint=checkpoint, valid_from=start, valid_until=end, status="arrived"
    )
    registered = bulk_passes(1, checkpoint=checkpoint, valid_from=start, valid_until=end)

    assert lifecycle.passes_expire(now=NOW) == lifecycle.Expired(passes=3, trips=1)

    # The passes end; the trucks inside are closed by their exit scan (with a late-exit warning),
    # and watched by the overdue rules until then.
    for [p] in (inside, arrived, registered):
        assert refreshed(p).status == PassStatus.EXPIRED
    assert [refreshed(p).trip.status for [p] in (inside, arrived, registered)] == [
        TripStatus.INSIDE,
        TripStatus.ARRIVED,
        TripStatus.EXPIRED,
    ]


def test_passes_not_active_and_closed_trips_are_left_alone(
    dispatcher: Any, checkpoint: Any
) -> None:
    cancelled = make_trip(dispatcher, checkpoint)
    services.trip_cancel(actor=dispatcher, trip=cancelled)
    later = make_trip(dispatcher, checkpoint)
    revoked = Pass.objects.get(trip=cancelled)

    assert lifecycle.passes_expire(now=revoked.valid_until + timedelta(days=1)).trips == 1
    assert refreshed(revoked).status == PassStatus.REVOKED
    assert revoked.trip.status == TripStatus.CANCELLED
    assert Trip.objects.get(pk=later.pk).status == TripStatus.EXPIRED


def test_running_again_changes_nothing(checkpoint: Any) -> None:
    bulk_passes(3, checkpoint=checkpoint, valid_from=NOW - timedelta(days=2), valid_until=NOW)
    assert lifecycle.passes_expire(now=NOW) == lifecycle.Expired(passes=3, trips=3)
    assert lifecycle.passes_expire(now=NOW) == lifecycle.Expired(passes=0, trips=0)
    assert lifecycle.passes_expire(now=NOW + timedelta(hours=1)) == lifecycle.Expired(0, 0)


@pytest.mark.parametrize("count", [10, 1000])
def test_expiry_costs_the_same_statements_for_ten_or_a_thousand(
    checkpoint: Any, count: int
) -> None:
    old = bulk_passes(
        count, checkpoint=checkpoint, valid_from=NOW - timedelta(days=2), valid_until=NOW
    )
    current = bulk_passes(
        5, checkpoint=checkpoint, valid_from=NOW, valid_until=NOW + timedelta(days=1)
    )

    with CaptureQueriesContext(connection) as queries:
        expired = lifecycle.passes_expire(now=NOW)

    assert (expired.passes, expired.trips) == (count, count)
    # Two UPDATEs, and the savepoint around them; nothing per row.
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 2
    assert len(queries.captured_queries) == 4
    assert Pass.objects.filter(pk__in=[p.pk for p in old], status="expired").count() == count
    assert Pass.objects.filter(pk__in=[p.pk for p in current], status="active").count() == 5


def test_the_task_expires_what_is_due(checkpoint: Any) -> None:
    bulk_passes(2, checkpoint=checkpoint, valid_from=NOW - timedelta(days=2), valid_until=NOW)
    assert lifecycle_tasks.expire_passes() == 2
    assert lifecycle_tasks.expire_passes() == 0


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Concurrent transactions are what is tested; SQLite runs them one after the other.",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_expire_each_row_once(regions: None) -> None:
    from tests.factories import CheckpointFactory

    bulk_passes(
        300,
        checkpoint=CheckpointFactory(),
        valid_from=NOW - timedelta(days=2),
        valid_until=NOW,
    )
    start = threading.Barrier(2)
    results: list[lifecycle.Expired] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=10)
            results.append(lifecycle.passes_expire(now=NOW))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sum(r.passes for r in results) == 300
    assert sum(r.trips for r in results) == 300
    assert Trip.objects.filter(status=TripStatus.EXPIRED).count() == 300
