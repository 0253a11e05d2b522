"""The messages that follow what happened below (docs/architecture.md, "Lifecycle"): each
receiver queues its outbox rows in the transaction of the cause; a worker sends them once it
commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Model
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from checkpoints import signals as checkpoint_signals
from checkpoints.models import Alert
from notifications import outbox, signals, tasks
from notifications.models import Notification
from notifications.reminders import base_context
from passcode_portal.outbox import OutboxStatus
from places.models import Region
from trucks import grading
from trucks import signals as trip_signals
from trucks.links import pass_link_url
from trucks.models import Driver, Pass, PassStatus, Policy, Trip, TripSeries


@receiver(signals.notifications_queued)
def send_once_committed(sender: type[Notification], count: int, **kwargs: Any) -> None:
    """If the broker is down nothing fails: the periodic run sends the rows."""
    tasks.kick_sender()


@receiver(trip_signals.trip_registered)
def tell_the_driver_the_pass_is_issued(
    sender: type[Model], trip: Trip, pass_: Pass, **kwargs: Any
) -> None:
    """With the signed link to the pass: many drivers never sign up."""
    context = {
        "reference": trip.reference,
        "plate": trip.vehicle.plate,
        "colour": pass_.colour,
        "link": pass_link_url(pass_),
    }
    outbox.queue(
        outbox.for_driver(
            trip, template="pass_issued", key=f"pass_issued:{pass_.pk}", context=context
        )
    )


@receiver(trip_signals.trip_series_registered)
def tell_each_driver_the_series_is_registered(
    sender: type[Model], series: TripSeries, trips: list[Trip], **kwargs: Any
) -> None:
    """One message per driver for the whole series, not one per trip: how many trips, from which
    day to which, and the first pass's link (the others come with the window reminders)."""
    passes = Pass.objects.filter(trip__in=trips, status=PassStatus.ACTIVE)
    pass_of = {p.trip_id: p for p in passes}
    rows: list[Notification] = []
    for first, context in _per_driver(trips):
        context["link"] = pass_link_url(pass_of[first.pk])
        rows += outbox.for_driver(
            first,
            template="series_registered",
            key=f"series_registered:{series.pk}:{first.driver_id}",
            context=context,
        )
    outbox.queue(rows)


@receiver(trip_signals.trip_series_cancelled)
def tell_each_driver_the_series_is_cancelled(
    sender: type[Model], series: TripSeries, trips: list[Trip], **kwargs: Any
) -> None:
    """Once per driver, listing how many of their trips were cancelled."""
    rows: list[Notification] = []
    for first, context in _per_driver(trips):
        rows += outbox.for_driver(
            first,
            template="series_cancelled",
            key=f"series_cancelled:{series.pk}:{first.driver_id}",
            context=context,
        )
    outbox.queue(rows)


def _per_driver(trips: Iterable[Trip]) -> list[tuple[Trip, dict[str, Any]]]:
    """Each driver's first trip (by planned arrival) and what their message says of their
    trips: how many, the plate, the first and the last day (and the first trip's reference)."""
    by_driver: dict[int, list[Trip]] = {}
    for trip in sorted(trips, key=lambda t: (t.planned_arrival, t.pk)):
        by_driver.setdefault(trip.driver_id, []).append(trip)
    return [
        (
            own[0],
            {
                "count": len(own),
                "reference": own[0].reference,
                "plate": own[0].vehicle.plate,
                "first_date": timezone.localdate(own[0].planned_arrival).isoformat(),
                "last_date": timezone.localdate(own[-1].planned_arrival).isoformat(),
            },
        )
        for own in by_driver.values()
    ]


@receiver(trip_signals.trip_driver_changed)
def tell_both_drivers_of_the_change(
    sender: type[Model], trip: Trip, pass_: Pass, previous_driver: Driver, **kwargs: Any
) -> None:
    """The new driver gets the new pass by its signed link; the one before learns they no longer
    drive the trip, with no link (theirs is revoked). Each keyed by the new pass: once per
    change, each in the driver's own language."""
    released = {
        "reference": trip.reference,
        "plate": trip.vehicle.plate,
        "arrival": trip.planned_arrival.isoformat(),
    }
    outbox.queue(
        [
            *outbox.for_driver(
                trip,
                template="driver_assigned",
                key=f"driver_assigned:{pass_.pk}",
                context={
                    **base_context(pass_),
                    "colour": pass_.colour,
                    "valid_from": pass_.valid_from.isoformat(),
                },
            ),
            *outbox.for_driver(
                trip,
                template="driver_released",
                key=f"driver_released:{pass_.pk}",
                context=released,
                driver=previous_driver,
            ),
        ]
    )


@receiver(trip_signals.passes_recoloured)
def tell_the_drivers_the_new_colour(
    sender: type[Model],
    changes: list[tuple[Pass, str]],
    policy: Policy,
    tell_drivers: bool,
    **kwargs: Any,
) -> None:
    """Each driver whose colour changed learns it and why, in their language."""
    if not tell_drivers or not changes:
        return
    passes = [pass_ for pass_, _before in changes]
    codes = {c for p in passes for r in p.reasons for c in r.get("regions", ())}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "full_name"))
    rows: list[Notification] = []
    for pass_ in passes:
        with translation.override(pass_.trip.driver.language):
            reasons = _reasons_text(pass_, rules=policy, region_names=names)
        rows += outbox.for_driver(
            pass_.trip,
            template="pass_regraded",
            # Once per change: the grading time names it (a retried chunk that finds the
            # colour already changed queues nothing).
            key=f"pass_regraded:{pass_.pk}:{pass_.graded_at:%Y%m%dT%H%M%S%f}",
            context={**base_context(pass_), "colour": pass_.colour, "reasons": reasons},
        )
    outbox.queue(rows)


def _reasons_text(pass_: Pass, *, rules: Policy, region_names: dict[str, str]) -> str:
    """Why the pass has its colour and what to do, in the active language."""
    if not pass_.reasons:
        return _("Nothing stands against the trip now.")
    parts = []
    for reason in pass_.reasons:
        explained = grading.explain(reason, region_names=region_names, rules=rules)
        parts.append(f"{explained['text']} {explained['action']}")
    return " ".join(parts)


@receiver(checkpoint_signals.trips_overdue)
def tell_the_companies_a_truck_is_overdue(
    sender: type[Model], trips: list[Any], kind: str, cause: str, at: datetime, **kwargs: Any
) -> None:
    """The trip's company, and for a missing arrival the consignee waiting for it too."""
    rows: list[Notification] = []
    for trip in trips:
        key = f"{kind}:{trip.pk}"
        if kind == Alert.Kind.OVERDUE_ARRIVAL:
            context = {
                "reference": trip.reference,
                "plate": trip.vehicle.plate,
                "entered_at": _iso(trip.entered),
                "consignee": trip.consignee.name,
            }
            for party in ("company", "consignee"):
                rows += outbox.for_company(
                    trip, party, template="overdue_arrival", key=key, context=context
                )
        else:
            context = {
                "reference": trip.reference,
                "plate": trip.vehicle.plate,
                "planned_departure": _iso(trip.planned_departure),
            }
            rows += outbox.for_company(
                trip, "company", template="overdue_exit", key=key, context=context
            )
    outbox.queue(rows)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@receiver(trip_signals.trips_anonymised)
def forget_the_recipients(sender: type[Trip], trip_ids: list[int], **kwargs: Any) -> dict[str, int]:
    """The outbox keeps phones, e-mail addresses and names: the rows lose them; what was sent
    when, and how it went, stays for the figures. A row still unsent this long after the trip
    closed will not be sent now: it is given up."""
    rows = Notification.objects.filter(trip_id__in=trip_ids)
    rows.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING]).update(
        status=OutboxStatus.FAILED, last_error=trip_signals.RETENTION_ERROR
    )
    return {"notifications": rows.update(recipient="", context={})}
