"""Closing the loop over time (docs/architecture.md, "Closing the loop" and "Lifecycle"), done by
Celery workers (``checkpoints.tasks``): a truck that entered the city and was lost from
view raises an overdue alert for officials, tells its company (and the consignee waiting for it) and
hands the news on to subscribed systems (``trip.overdue``); and walk-in records lose the driver's
name and phone after the policy's retention period.

Two rules, each raising at most one alert per trip (the alert's key is unique):

- ``overdue_arrival``: inside the city longer than the policy's ``overdue_arrival_hours`` since
  entry, and the consignee has not confirmed the arrival.
- ``overdue_exit``: arrived, and not out of the city ``exit_grace_hours`` after the planned
  departure. A trip with no consignee has no arrival to confirm, so this rule watches it from
  entry on: otherwise a truck bound for no consignee could vanish unnoticed.

Candidates are read in one query per rule and chunk, alerts inserted in one statement (a second
run, or a second worker at the same instant, inserts nothing), and notifications and webhook
events queued only for the alerts this run created, in the same transaction as the alerts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from checkpoints import signals
from checkpoints.models import ADMITTED, Alert, Direction, ScanEvent, WalkIn
from trucks import services
from trucks.models import Policy, Trip, TripStatus


@dataclass(frozen=True)
class Overdue:
    arrival: int
    exit: int


def _lookback(policy: Policy) -> timedelta:
    """How far back in planned arrivals overdue trucks are looked for, so that the planned-
    arrival index narrows the scan (trips hold no index on status). A trip becomes overdue at
    most its longest window (a multi-entry pass, up to ``multi_entry_max_days``) plus a few
    hours after its planned arrival, and is flagged within minutes; the setting leaves weeks
    for a stopped worker to catch up."""
    days = max(settings.LIFECYCLE_OVERDUE_LOOKBACK_DAYS, 2 * policy.multi_entry_max_days)
    return timedelta(days=days)


def _candidates(policy: Policy, now: datetime, kind: str) -> QuerySet[Any]:
    # Trips with the annotations below (typed loosely: the stubs do not follow annotations).
    entries = ScanEvent.objects.filter(
        ADMITTED, trip=OuterRef("pk"), direction=Direction.IN
    ).order_by("-scanned_at", "-pk")
    return (
        Trip.objects.filter(planned_arrival__gte=now - _lookback(policy))
        .exclude(Exists(Alert.objects.filter(trip=OuterRef("pk"), kind=kind)))
        .select_related("vehicle", "driver", "company", "consignee", "entry_checkpoint")
        .annotate(
            # Trips that entered before ``entered_at`` was recorded: their latest admitted entry.
            entered=Coalesce("entered_at", Subquery(entries.values("scanned_at")[:1])),
            entry_scan_id=Subquery(entries.values("pk")[:1]),
            entered_through_id=Subquery(entries.values("checkpoint_id")[:1]),
        )
    )


def _overdue_arrival(policy: Policy, now: datetime) -> QuerySet[Any]:
    return _candidates(policy, now, Alert.Kind.OVERDUE_ARRIVAL).filter(
        status=TripStatus.INSIDE,
        consignee__isnull=False,
        arrived_at__isnull=True,
        entered__lte=now - timedelta(hours=policy.overdue_arrival_hours),
    )


def _overdue_exit(policy: Policy, now: datetime) -> QuerySet[Any]:
    return _candidates(policy, now, Alert.Kind.OVERDUE_EXIT).filter(
        Q(status=TripStatus.ARRIVED) | Q(status=TripStatus.INSIDE, consignee__isnull=True),
        exited_at__isnull=True,
        planned_departure__lte=now - timedelta(hours=policy.exit_grace_hours),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _arrival_alert(trip: Any, policy: Policy) -> dict[str, Any]:
    return {"entered_at": _iso(trip.entered), "hours": policy.overdue_arrival_hours}


def _exit_alert(trip: Any, policy: Policy) -> dict[str, Any]:
    return {
        "planned_departure": _iso(trip.planned_departure),
        "grace_hours": policy.exit_grace_hours,
    }


def _flag(
    candidates: QuerySet[Any],
    *,
    kind: str,
    cause: str,
    detail: Callable[[Any, Policy], dict[str, Any]],
    policy: Policy,
    now: datetime,
) -> int:
    """Raise ``kind`` for the candidates, chunk by chunk; returns how many alerts were raised."""
    raised, last = 0, 0
    while True:
        with transaction.atomic():
            # Claimed: a second worker running at the same instant skips these trips (and they
            # have their alert by the time it looks again).
            trips = list(
                candidates.select_for_update(skip_locked=True, of=("self",))
                .filter(pk__gt=last)
                .order_by("pk")[: settings.LIFECYCLE_BATCH]
            )
            if not trips:
                return raised
            last = trips[-1].pk
            alerts = [
                Alert(
                    kind=kind,
                    key=f"{kind}:{trip.pk}",
                    trip=trip,
                    checkpoint_id=trip.entered_through_id or trip.entry_checkpoint_id,
                    scan_id=trip.entry_scan_id,
                    detail=detail(trip, policy),
                    raised_at=now,
                )
                for trip in trips
            ]
            # Once per cause: a key raised already is skipped by the database (INSERT ... ON
            # CONFLICT DO NOTHING). The alerts stamped with this run's instant are the ones it
            # created; only those are announced. (Should anything else ever share the instant,
            # the dedupe keys of the outbox and the webhook log still queue each message once.)
            Alert.objects.bulk_create(alerts, ignore_conflicts=True)
            created = set(
                Alert.objects.filter(key__in=[a.key for a in alerts], raised_at=now).values_list(
                    "key", flat=True
                )
            )
            mine = [trip for trip in trips if f"{kind}:{trip.pk}" in created]
            if mine:
                # The company and consignee are told, and hand-over hears of it, in this
                # transaction (each keyed by the alert's key).
                signals.trips_overdue.send(sender=Alert, trips=mine, kind=kind, cause=cause, at=now)
            raised += len(mine)


def trips_flag_overdue(*, now: datetime | None = None) -> Overdue:
    """Raise the overdue alerts now due (see the module's docstring), each once."""
    now = now or timezone.now()
    policy = services.policy_current()
    arrival = _flag(
        _overdue_arrival(policy, now),
        kind=Alert.Kind.OVERDUE_ARRIVAL,
        cause="arrival",
        detail=_arrival_alert,
        policy=policy,
        now=now,
    )
    exit_ = _flag(
        _overdue_exit(policy, now),
        kind=Alert.Kind.OVERDUE_EXIT,
        cause="exit",
        detail=_exit_alert,
        policy=policy,
        now=now,
    )
    return Overdue(arrival=arrival, exit=exit_)


def walk_ins_anonymise(*, now: datetime | None = None) -> int:
    """Clear the driver's name and phone of walk-ins recorded longer ago than the policy's
    retention period, in one UPDATE; the record itself (plate, checkpoint, time, outcome) stays
    for the figures. Returns how many were cleared."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=services.policy_current().retention_days)
    return int(
        WalkIn.objects.filter(recorded_at__lt=cutoff)
        .exclude(driver_name="", phone="")
        .update(driver_name="", phone="")
    )
