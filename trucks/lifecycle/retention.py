"""Personal data of closed trips removed after the policy's retention period."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone

from trucks import services, signals
from trucks.lifecycle.deadlines import deadline_passed
from trucks.models import CoRider, Driver, Pass, Trip, TripChange, TripStatus

# What a removed name reads as; an anonymised ID number is "ANON" and the row id, 18 characters
# like a real one (``anonymous_id``), so every unique constraint on ID numbers still holds.
ANONYMOUS_NAME = "已匿名"
ANONYMOUS_ID_PREFIX = "ANON"


@dataclass
class Anonymised:
    trips: int = 0
    co_riders: int = 0
    drivers: int = 0
    driver_history: int = 0
    notifications: int = 0
    deliveries: int = 0
    finished: bool = True

    def add(self, other: Anonymised) -> None:
        self.trips += other.trips
        self.co_riders += other.co_riders
        self.drivers += other.drivers
        self.driver_history += other.driver_history
        self.notifications += other.notifications
        self.deliveries += other.deliveries


def anonymous_id() -> Concat:
    """An ID number that names nobody: "ANON" and the row id, padded to 18 characters. Unique
    per row, so the unique constraints on ID numbers (per company, per trip) keep holding."""
    return Concat(
        Value(ANONYMOUS_ID_PREFIX),
        LPad(Cast("id", CharField()), 18 - len(ANONYMOUS_ID_PREFIX), Value("0")),
        output_field=CharField(),
    )


def trips_closed_before(cutoff: datetime) -> QuerySet[Trip]:
    """Trips closed before ``cutoff`` whose personal data is still there: exited, cancelled,
    or expired (closed when their last pass ended). A multi-entry trip that exited may enter
    again while its pass lasts, so it counts as closed only once the pass has ended."""
    pass_ended_after = Exists(Pass.objects.filter(trip_id=OuterRef("pk"), valid_until__gte=cutoff))
    return Trip.objects.filter(anonymised_at__isnull=True).filter(
        Q(status=TripStatus.EXITED, exited_at__lt=cutoff, multi_entry=False)
        | Q(Q(status=TripStatus.EXITED, exited_at__lt=cutoff) & ~pass_ended_after)
        | Q(status=TripStatus.CANCELLED, cancelled_at__lt=cutoff)
        # Closed before the time stamps existed: the last change is when it closed.
        | Q(status=TripStatus.EXITED, exited_at__isnull=True, updated_at__lt=cutoff)
        | Q(status=TripStatus.CANCELLED, cancelled_at__isnull=True, updated_at__lt=cutoff)
        | Q(Q(status=TripStatus.EXPIRED) & ~pass_ended_after)
    )


def _scrub(ids: Iterable[int], now: datetime) -> Anonymised:
    ids = list(ids)
    done = Anonymised(trips=len(ids))
    done.co_riders = CoRider.objects.filter(trip_id__in=ids).update(
        name=ANONYMOUS_NAME, id_number=anonymous_id(), phone=""
    )
    # The audit of driver changes keeps names (and masked ID numbers): they go too; what was
    # changed when, and by whom, stays.
    TripChange.objects.filter(trip_id__in=ids, kind=TripChange.Kind.DRIVER).update(
        before={}, after={}
    )
    Trip.objects.filter(pk__in=ids).update(anonymised_at=now)
    # Apps above keep copies (the outbox and the webhook log: phones, e-mail addresses, names):
    # they remove them in this transaction and say how many rows they cleared.
    for _receiver, cleared in signals.trips_anonymised.send(sender=Trip, trip_ids=ids):
        for name, count in cast(dict[str, int], cleared).items():
            setattr(done, name, getattr(done, name) + count)
    return done


def drivers_done() -> QuerySet[Driver]:
    """Drivers none of whose trips keeps personal data any more (none open, none closed within
    the retention period: all anonymised). Drivers with an account are left: the profile
    belongs to the account, and its owner registers trips with it."""
    trips = Trip.objects.filter(driver_id=OuterRef("pk"))
    return Driver.objects.filter(
        Exists(trips), anonymised_at__isnull=True, user__isnull=True
    ).exclude(Exists(trips.filter(anonymised_at__isnull=True)))


def _scrub_drivers(locked: list[int], now: datetime) -> Anonymised:
    # Read again now that the rows are locked, in a statement of its own (so with a fresh view
    # on PostgreSQL): a trip registered for one of them just before keeps that driver. A trip
    # being registered now waits for the lock (its foreign key check shares the row).
    ids = list(drivers_done().filter(pk__in=locked).values_list("pk", flat=True))
    done = Anonymised()
    if ids:
        scrubbed = {"name": ANONYMOUS_NAME, "id_number": anonymous_id(), "phone": "", "email": ""}
        done.drivers = Driver.objects.filter(pk__in=ids).update(**scrubbed, anonymised_at=now)
        # The history keeps a copy of every version of the row: scrubbed the same way rather
        # than deleted, so the audit still shows when the row changed and who changed it.
        done.driver_history = Driver.history.filter(id__in=ids).update(**scrubbed)
    return done


def _in_chunks(
    rows: QuerySet[Any], work: Callable[[list[int], datetime], Anonymised], *, now: datetime
) -> Iterator[Anonymised]:
    """Run ``work`` over the ids of ``rows``, LIFECYCLE_BATCH at a time, each chunk one
    transaction. Two runs at once share the work: each skips the rows the other holds."""
    last = 0
    while True:
        with transaction.atomic():
            ids = list(
                rows.filter(pk__gt=last)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", flat=True)[: settings.LIFECYCLE_BATCH]
            )
            if not ids:
                return
            done = work(ids, now)
        last = ids[-1]
        yield done


def personal_data_anonymise(
    *, now: datetime | None = None, deadline: float | None = None
) -> Anonymised:
    """Remove names, ID numbers, phones and e-mail addresses of trips closed longer ago than the
    policy's retention period (docs/architecture.md, "Lifecycle"), in chunks of LIFECYCLE_BATCH
    trips, each one transaction of a few UPDATE statements. Figures stay: trips, scans, passes and
    their counts are kept, only the people in them are no longer named. Then the drivers none of
    whose trips keeps personal data (``drivers_done``). Trips and drivers get ``anonymised_at``, so
    each is done once."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=services.policy_current().retention_days)
    total = Anonymised()
    # Trips first; then the drivers whose every trip is done (however the trips were split
    # between chunks, or between two runs at once).
    for rows, work in ((trips_closed_before(cutoff), _scrub), (drivers_done(), _scrub_drivers)):
        for done in _in_chunks(rows, work, now=now):
            total.add(done)
            if deadline_passed(deadline):
                total.finished = False
                return total
    return total
