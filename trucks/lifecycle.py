"""Lifecycle work on the registration side (docs/architecture.md, "Lifecycle"), done by Celery
workers (``trucks.lifecycle_tasks``): passes expire at the end of their window, drivers are
reminded, passes are regraded when a region's risk level or the policy changes, and the personal
data of closed trips is anonymised after the policy's retention period. Overdue trucks are the
checkpoints' side (``checkpoints.lifecycle``): they need scans and alerts.

Every function here is idempotent and safe to run twice at once. Each works in bulk statements
whose WHERE clause selects only the rows still to do, so a second run finds nothing, and each
message it queues carries a dedupe key, so a second run queues nothing. Times and lead times
come from the policy in force.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, Min, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from places.models import Region, RiskLevel
from trucks import grading, services, signals
from trucks.models import CoRider, Driver, Pass, PassStatus, Trip, TripStatus

# What a removed name reads as; an anonymised ID number is "ANON" and the row id, 18 characters
# like a real one (``anonymous_id``), so every unique constraint on ID numbers still holds.
ANONYMOUS_NAME = "已匿名"
ANONYMOUS_ID_PREFIX = "ANON"


def _deadline_passed(deadline: float | None) -> bool:
    """``deadline`` is a ``time.monotonic()`` value: a task stops between chunks once it is
    reached and continues in a new task, well inside Celery's time limits."""
    return deadline is not None and time.monotonic() >= deadline


# ---------------------------------------------------------------------------------------------
# Expiry


@dataclass(frozen=True)
class Expired:
    passes: int
    trips: int


def passes_expire(*, now: datetime | None = None) -> Expired:
    """Active passes whose window has ended become expired, and trips that never entered on
    them become expired too: two UPDATE statements however many rows, in one transaction.

    Trips inside or arrived keep their state (the exit scan closes them; it warns of a late
    exit, and the overdue rules watch them). Running twice at once is safe: each statement's
    WHERE clause holds the state it leaves, so on PostgreSQL the second run waits for the
    first's row locks, re-reads the rows and leaves them alone."""
    now = now or timezone.now()
    due = Pass.objects.filter(status=PassStatus.ACTIVE, valid_until__lte=now)
    with transaction.atomic():
        # Trips first, while their passes are still active and so found through the partial
        # index on active passes' valid_until.
        trips = Trip.objects.filter(
            status=TripStatus.REGISTERED, pk__in=due.values("trip_id")
        ).update(status=TripStatus.EXPIRED, updated_at=now)
        passes = due.update(status=PassStatus.EXPIRED)
    return Expired(passes=passes, trips=trips)


# ---------------------------------------------------------------------------------------------
# Regrading


@dataclass
class Regraded:
    checked: int = 0
    changed: int = 0
    notified: int = 0
    last_id: int = 0
    finished: bool = True

    def add(self, other: Regraded) -> None:
        self.checked += other.checked
        self.changed += other.changed
        self.notified += other.notified
        self.finished = other.finished


# The sweep treats a pass graded up to this long after a region's level changed as graded
# before it. The change's time is taken inside its transaction, so a registration that read the
# old level just before the change committed stamps its pass a moment after that time, and may
# commit after the region's task looked. The price: passes that task regraded within the margin
# are regraded once more by the next sweep (finding nothing to change).
SWEEP_MARGIN = timedelta(seconds=30)

_TravelHistory = Trip.travel_history.through


def region_prefix(code: str) -> str:
    """The code prefix shared by a region and the regions below it (GB/T 2260: a province is
    XX0000, a city XXYY00; a county's last two digits are never 00)."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def in_region(code: str) -> Q:
    """Passes whose trip starts in the region, or passed through it, or a region below it."""
    prefix = region_prefix(code)
    travelled = _TravelHistory.objects.filter(
        trip_id=OuterRef("trip_id"), region__code__startswith=prefix
    )
    return Q(trip__origin_region__code__startswith=prefix) | Q(Exists(travelled))


def _regrade_chunk(ids: list[int], *, reason: str) -> Regraded:
    """Regrade these passes in one transaction. Their trips, travel histories and the regions'
    risk levels are read for the whole chunk in three queries, the grades computed here; passes
    whose grade stands are stamped in one UPDATE, and only those that change are saved one by
    one through ``services.pass_regrade``, so the pass history records each change with its
    rule version (and the change reason), and the hand-over webhook hears of it. Each driver
    whose colour changed is told the new colour and why, in their language."""
    result = Regraded()
    with transaction.atomic():
        policy = services.policy_current()
        now = timezone.now()
        # Locked, so that two regrades (the region's task and the sweep) do not both save a
        # change: the second waits, then sees the new colour and leaves the pass alone.
        passes = list(
            Pass.objects.select_for_update(of=("self",))
            .select_related(
                "trip", "trip__driver", "trip__vehicle", "trip__entry_checkpoint", "trip__consignee"
            )
            .filter(pk__in=ids, status=PassStatus.ACTIVE)
            .order_by("pk")
        )
        history: dict[int, list[str]] = defaultdict(list)
        for trip_id, code in _TravelHistory.objects.filter(
            trip_id__in={p.trip_id for p in passes}
        ).values_list("trip_id", "region_id"):
            history[trip_id].append(code)
        # Few regions are ever above low risk (a partial index holds exactly those).
        risk = dict(
            Region.objects.exclude(risk_level=RiskLevel.LOW).values_list("code", "risk_level")
        )
        standing: list[int] = []
        changing: list[tuple[Pass, grading.Grade]] = []
        for pass_ in passes:
            trip = pass_.trip
            grade = grading.grade(
                rules=policy,
                origin=trip.origin_region_id,
                travel_history=history[trip.pk],
                risk_by_code=risk,
                test_result=trip.test_result,
                test_sampled_at=trip.test_sampled_at,
                planned_arrival=trip.planned_arrival,
            )
            if (pass_.colour, pass_.reasons) == (grade.colour, grade.reasons_json):
                standing.append(pass_.pk)
            else:
                changing.append((pass_, grade))
        if standing:
            # Graded again under this version: the sweep need not look at them again.
            Pass.objects.filter(pk__in=standing).update(
                graded_at=now, policy_version=policy.version
            )
        # The changes in bulk: one UPDATE per chunk, their history rows in one INSERT (each
        # with the rule version and the reason), their hand-over events in one more.
        recolored: list[tuple[Pass, str]] = []
        for pass_, grade in changing:
            before = pass_.colour
            pass_.colour, pass_.reasons = grade.colour, grade.reasons_json
            pass_.policy_version, pass_.graded_at = grade.policy_version, now
            if pass_.colour != before:
                recolored.append((pass_, before))
        if changing:
            bulk_update_with_history(
                [p for p, _grade in changing],
                Pass,
                ["colour", "reasons", "policy_version", "graded_at"],
                batch_size=500,
                default_change_reason=reason[:100],
                default_date=now,
            )
            result.changed = len(changing)
        if recolored:
            # Hand-over hears of each new colour, and each driver is told it and why.
            signals.passes_recoloured.send(
                sender=Pass, changes=recolored, policy=policy, tell_drivers=True
            )
            result.notified = len(recolored)
        result.checked = len(passes)
    return result


def passes_regrade(
    *, scope: Q, reason: str, after_id: int = 0, deadline: float | None = None
) -> Regraded:
    """Regrade the active passes that ``scope`` selects, in chunks of LIFECYCLE_REGRADE_CHUNK
    by id from ``after_id``, each chunk its own transaction. Stops between chunks once
    ``deadline`` (``time.monotonic()``) has passed: ``finished`` is then False and ``last_id``
    says where to go on."""
    total = Regraded(last_id=after_id)
    while True:
        ids = list(
            Pass.objects.filter(scope, status=PassStatus.ACTIVE, pk__gt=total.last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[: settings.LIFECYCLE_REGRADE_CHUNK]
        )
        if not ids:
            total.finished = True
            return total
        total.add(_regrade_chunk(ids, reason=reason))
        total.last_id = ids[-1]
        if _deadline_passed(deadline):
            total.finished = False
            return total


def passes_regrade_region(
    *, code: str, after_id: int = 0, deadline: float | None = None
) -> Regraded:
    """After a region's risk level changed: its passes, and those of the regions below it."""
    return passes_regrade(
        scope=in_region(code),
        reason=f"risk level of region {code}",
        after_id=after_id,
        deadline=deadline,
    )


def passes_regrade_all(*, after_id: int = 0, deadline: float | None = None) -> Regraded:
    """After a new policy version: every active pass."""
    version = services.policy_current().version
    return passes_regrade(
        scope=Q(), reason=f"policy version {version}", after_id=after_id, deadline=deadline
    )


def passes_regrade_stale(*, deadline: float | None = None) -> Regraded:
    """The sweep that makes sure no change is lost when its task was (the broker down when the
    change committed, a worker killed): regrade active passes graded under an older policy
    version, and passes graded before their region's risk level last changed. Both are cheap
    when nothing is stale: a query on the active passes' versions, their oldest grading time,
    and the regions changed since."""
    policy = services.policy_current()
    total = passes_regrade(
        scope=Q(policy_version__lt=policy.version),
        reason=f"policy version {policy.version}",
        deadline=deadline,
    )
    if not total.finished:
        return total
    oldest = Pass.objects.filter(status=PassStatus.ACTIVE).aggregate(oldest=Min("graded_at"))
    if oldest["oldest"] is None:
        return total
    changed = Region.objects.filter(risk_changed_at__gt=oldest["oldest"] - SWEEP_MARGIN)
    for code, changed_at in changed.order_by("risk_changed_at").values_list(
        "code", "risk_changed_at"
    ):
        assert changed_at is not None  # filtered above
        total.add(
            passes_regrade(
                scope=in_region(code) & Q(graded_at__lt=changed_at + SWEEP_MARGIN),
                reason=f"risk level of region {code}",
                deadline=deadline,
            )
        )
        if not total.finished or _deadline_passed(deadline):
            total.finished = False
            return total
    return total


# ---------------------------------------------------------------------------------------------
# Retention


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
            if _deadline_passed(deadline):
                total.finished = False
                return total
    return total
