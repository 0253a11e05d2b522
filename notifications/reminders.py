"""Reminders to drivers (docs/architecture.md, "Lifecycle"), queued by a Celery worker
(``notifications.tasks.send_reminders``): before the pass window opens, when the test result
will be stale at the planned arrival, and when a pass is about to expire while its truck is
inside. Each is queued once: the query leaves out passes already reminded of the same, and each
row carries a dedupe key. Lead times come from the policy in force."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from notifications import outbox
from notifications.models import Notification
from trucks.links import pass_link_url
from trucks.models import Pass, PassStatus, Policy, TestResult, TripStatus
from trucks.services.policy import policy_current


@dataclass(frozen=True)
class Reminded:
    window: int
    test: int
    expiry: int


# Passes are read this many at a time (one SELECT, then one INSERT of their outbox rows).
REMINDER_BATCH = 1000
_REMINDER_RELATED = ("trip", "trip__driver", "trip__vehicle", "trip__entry_checkpoint")


def _not_reminded(template: str) -> Q:
    # Once per trip and kind: a reissued pass is not announced again.
    return ~Q(Exists(Notification.objects.filter(trip_id=OuterRef("trip_id"), template=template)))


def _window_due(policy: Policy, now: datetime) -> QuerySet[Pass]:
    """Registered trips whose window opens within the lead time. A pass issued after that point
    is left out: its driver was just told the same at registration. Not so a repeat of a trip:
    its driver was told of the series once, with the first pass's link only, so each repeat's
    link comes with its reminder however late it was issued."""
    lead = timedelta(hours=policy.remind_window_hours)
    a_repeat = Q(trip__series__isnull=False) & ~Q(trip_id=F("trip__series__source_trip_id"))
    return Pass.objects.filter(
        Q(issued_at__lte=F("valid_from") - lead) | a_repeat,
        _not_reminded("remind_window"),
        status=PassStatus.ACTIVE,
        trip__status=TripStatus.REGISTERED,
        valid_from__gt=now,
        valid_from__lte=now + lead,
    )


def _test_due(policy: Policy, now: datetime) -> QuerySet[Pass]:
    """Registered trips arriving within the lead time whose test will be stale on arrival: no
    negative result, or one sampled longer than the policy's test age before the planned
    arrival (grading's ``test_stale``). A positive result is not "stale": its pass is red and
    says what to do. As for the window, a pass issued after the reminder point is left out."""
    lead = timedelta(hours=policy.remind_test_hours)
    max_age = timedelta(hours=policy.test_max_age_hours)
    stale = Q(trip__test_result=TestResult.NONE) | Q(
        Q(trip__test_sampled_at__isnull=True)
        | Q(trip__test_sampled_at__lt=F("trip__planned_arrival") - max_age),
        trip__test_result=TestResult.NEGATIVE,
    )
    return Pass.objects.filter(
        stale,
        _not_reminded("remind_test"),
        status=PassStatus.ACTIVE,
        trip__status=TripStatus.REGISTERED,
        trip__planned_arrival__gt=now,
        trip__planned_arrival__lte=now + lead,
        issued_at__lte=F("trip__planned_arrival") - lead,
    )


def _expiry_due(policy: Policy, now: datetime) -> QuerySet[Pass]:
    """Trucks inside the city (or arrived) whose pass ends within the lead time."""
    lead = timedelta(hours=policy.remind_expiry_hours)
    return Pass.objects.filter(
        _not_reminded("remind_expiry"),
        status=PassStatus.ACTIVE,
        trip__status__in=[TripStatus.INSIDE, TripStatus.ARRIVED],
        valid_until__gt=now,
        valid_until__lte=now + lead,
    )


def base_context(pass_: Pass) -> dict[str, Any]:
    return {
        "reference": pass_.trip.reference,
        "plate": pass_.trip.vehicle.plate,
        "link": pass_link_url(pass_),
    }


def _queue_reminders(
    due: QuerySet[Pass], template: str, context: Callable[[Pass], dict[str, Any]]
) -> int:
    """Queue ``template`` to the driver of each pass in ``due``, batch by batch (one SELECT
    and one INSERT each). Returns how many passes were reminded."""
    count, last = 0, 0
    while True:
        batch = list(
            due.filter(pk__gt=last)
            .select_related(*_REMINDER_RELATED)
            .order_by("pk")[:REMINDER_BATCH]
        )
        if not batch:
            return count
        rows: list[Notification] = []
        for pass_ in batch:
            rows += outbox.for_driver(
                pass_.trip,
                template=template,
                key=f"{template}:{pass_.pk}",
                context={**base_context(pass_), **context(pass_)},
            )
        outbox.queue(rows)
        count += len(batch)
        last = batch[-1].pk


def reminders_queue(*, now: datetime | None = None) -> Reminded:
    """Queue the reminders now due (docs/architecture.md, "Lifecycle"), each once: before the pass
    window opens, when the test result will be stale at the planned arrival (with what to do), and
    when a pass is about to expire while its truck is inside. Lead times are the policy's."""
    now = now or timezone.now()
    policy = policy_current()
    window = _queue_reminders(
        _window_due(policy, now),
        "remind_window",
        lambda p: {
            "valid_from": p.valid_from.isoformat(),
            "checkpoint": p.trip.entry_checkpoint.name,
        },
    )
    test = _queue_reminders(
        _test_due(policy, now),
        "remind_test",
        lambda p: {
            "arrival": p.trip.planned_arrival.isoformat(),
            "hours": policy.test_max_age_hours,
        },
    )
    expiry = _queue_reminders(
        _expiry_due(policy, now),
        "remind_expiry",
        lambda p: {"valid_until": p.valid_until.isoformat()},
    )
    return Reminded(window=window, test=test, expiry=expiry)
