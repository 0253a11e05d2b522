"""Helpers for lifecycle tests: many trips and passes at once (bulk inserts, for the tests that
count queries over a thousand rows), and running what code enqueues after commit in the test's
own process, as a worker would."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from kombu import pools as kombu_pools

from passcode_portal.celery import app
from places.models import Checkpoint
from tests.factories import valid_id_number, valid_phone, valid_plate
from trucks.models import Company, Driver, Pass, PassStatus, Trip, TripStatus, Vehicle

_n = itertools.count(1)


@contextmanager
def celery_eager() -> Iterator[None]:
    """Tasks sent with ``apply_async`` run at once, here, and their errors propagate.

    Celery takes a producer from the app's pool even for an eager task (to pick the
    serializer), which opens the pool with the broker options of the moment; the pools are
    dropped again afterwards, so a later test that points the app at another broker (the
    integration tests' worker) does not inherit them."""
    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    had_pool = app._pool is not None
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = saved
        if not had_pool and app._pool is not None:
            app._pool.force_close_all()
            kombu_pools.reset()  # kombu keeps producer pools by connection, process-wide
            app._pool = None
            app.amqp._producer_pool = None


@contextmanager
def run_after_commit(capture: Callable[..., Any]) -> Iterator[list[Callable[[], Any]]]:
    """``with run_after_commit(django_capture_on_commit_callbacks) as callbacks:`` runs, when
    the block ends, what the block scheduled for after its transaction commits, tasks eagerly.
    What those callbacks schedule in turn is not run (the test's transaction never commits)."""
    with capture() as callbacks:
        yield callbacks
    with celery_eager():
        for callback in list(callbacks):
            callback()


def task_names(callbacks: Sequence[Callable[[], Any]]) -> list[str]:
    """The tasks that ``passcode_portal.tasks.enqueue_on_commit`` callbacks would send."""
    names = []
    for callback in callbacks:
        for cell in getattr(callback, "__closure__", None) or ():
            name = getattr(cell.cell_contents, "name", None)
            if isinstance(name, str):
                names.append(name)
    return names


def bulk_passes(
    n: int,
    *,
    checkpoint: Checkpoint,
    valid_from: datetime,
    valid_until: datetime,
    status: str = TripStatus.REGISTERED,
    origin: str = "410802",
    travel_history: Sequence[str] = (),
    company: Company | None = None,
    consignee: Company | None = None,
    driver: Driver | None = None,
    colour: str = "green",
    reasons: list[dict[str, Any]] | None = None,
    policy_version: int = 1,
    test_result: str = "negative",
    test_sampled_at: datetime | None = None,
    issued_at: datetime | None = None,
    **trip_fields: Any,
) -> list[Pass]:
    """``n`` trips, each with one active pass, inserted in bulk (no grading, no history rows).
    Planned arrival and departure lie inside the window unless given."""
    if driver is None:
        driver = Driver.objects.create(
            company=company, name="批量司机", id_number=valid_id_number(), phone=valid_phone()
        )
    vehicle = Vehicle.objects.create(plate=valid_plate(), company=company)
    arrival = trip_fields.pop("planned_arrival", valid_from + timedelta(hours=2))
    departure = trip_fields.pop("planned_departure", valid_until - timedelta(hours=2))
    batch = next(_n)
    trips = Trip.objects.bulk_create(
        [
            Trip(
                reference=f"BULK-{batch}-{i:06d}",
                company=company,
                consignee=consignee,
                vehicle=vehicle,
                driver=driver,
                origin_region_id=origin,
                destination_name="焦作市某物流园",
                destination_address="河南省焦作市解放区民主路1号",
                entry_checkpoint=checkpoint,
                planned_arrival=arrival,
                planned_departure=departure,
                cargo_category="general",
                cargo_description="批量",
                test_result=test_result,
                test_sampled_at=test_sampled_at
                if test_sampled_at is not None or test_result == "none"
                else arrival - timedelta(hours=10),
                status=status,
                **trip_fields,
            )
            for i in range(n)
        ]
    )
    through = Trip.travel_history.through
    through.objects.bulk_create(
        [through(trip_id=t.pk, region_id=code) for t in trips for code in travel_history]
    )
    return Pass.objects.bulk_create(
        [
            Pass(
                trip=t,
                colour=colour,
                reasons=reasons or [],
                policy_version=policy_version,
                status=PassStatus.ACTIVE,
                valid_from=valid_from,
                valid_until=valid_until,
                key_id=1,
                issued_at=issued_at or valid_from - timedelta(days=1),
                graded_at=issued_at or valid_from - timedelta(days=1),
            )
            for t in trips
        ]
    )


def setup_committed() -> None:
    """What a test set up was committed long ago, and the send it asked for has run: a test runs
    in one transaction, where a send still asked for would stand for every later one (the
    sender is asked once per transaction, ``notifications.tasks.kick_sender``)."""
    transaction.get_connection().run_on_commit.clear()
