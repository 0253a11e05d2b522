"""Hand-over events for what happened below (docs/architecture.md, "Hand-over"): each receiver
queues its deliveries in the transaction of the cause; they are delivered once it commits.
Entries and exits are read from the scan log instead (``handover.scan_events``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Model
from django.dispatch import receiver

from checkpoints import signals as checkpoint_signals
from handover import events, signals, tasks
from handover.models import WebhookDelivery, WebhookEvent
from passcode_portal.outbox import OutboxStatus
from passcode_portal.tasks import enqueue_once_on_commit
from trucks import signals as trip_signals
from trucks.models import Pass, Trip


@receiver(signals.deliveries_queued)
def deliver_once_committed(sender: type[WebhookDelivery], count: int, **kwargs: Any) -> None:
    """If the broker is down nothing fails: the periodic run delivers the rows."""
    enqueue_once_on_commit(tasks.deliver_webhooks)


@receiver(trip_signals.pass_revoked)
def announce_the_revocation(
    sender: type[Model], pass_: Pass, reason: str, at: datetime, **kwargs: Any
) -> None:
    """Systems tracking the truck learn the code is void; a pass is revoked once, so its id is
    the key."""
    events.emit(
        event=WebhookEvent.PASS_REVOKED,
        trip=pass_.trip,
        key=str(pass_.pk),
        extra={
            "pass": {
                "id": pass_.pk,
                "status": pass_.status,
                "colour": pass_.colour,
                "revoked_at": at.isoformat(),
                "reason": reason,
            }
        },
    )


@receiver(trip_signals.passes_recoloured)
def announce_the_new_colours(
    sender: type[Model], changes: list[tuple[Pass, str]], **kwargs: Any
) -> None:
    """A new colour changes what the next checkpoint does with the truck."""
    events.emit_many(
        events.Occurrence(
            event=WebhookEvent.PASS_REGRADED,
            trip=pass_.trip,
            key=f"{pass_.pk}:{pass_.graded_at.isoformat()}",
            extra={
                "pass": {
                    "id": pass_.pk,
                    "colour": pass_.colour,
                    "previous_colour": before,
                    "reasons": [r["code"] for r in pass_.reasons],
                    "policy_version": pass_.policy_version,
                }
            },
        )
        for pass_, before in changes
    )


@receiver(checkpoint_signals.trip_arrived)
def announce_the_arrival(sender: type[Model], trip: Trip, **kwargs: Any) -> None:
    """Keyed by the arrival time, so a multi-entry trip's later arrivals are events of their
    own."""
    assert trip.arrived_at is not None  # set by the confirmation that sent this
    events.emit(
        event=WebhookEvent.TRIP_ARRIVED, trip=trip, key=f"{trip.pk}:{trip.arrived_at.isoformat()}"
    )


@receiver(checkpoint_signals.trips_overdue)
def announce_the_overdue_trucks(
    sender: type[Model], trips: list[Any], kind: str, cause: str, at: datetime, **kwargs: Any
) -> None:
    events.emit_many(
        events.Occurrence(
            event=WebhookEvent.TRIP_OVERDUE,
            trip=trip,
            key=f"{kind}:{trip.pk}",
            extra={"cause": cause},
            occurred_at=at,
        )
        for trip in trips
    )


@receiver(trip_signals.trips_anonymised)
def forget_the_payloads(sender: type[Trip], trip_ids: list[int], **kwargs: Any) -> dict[str, int]:
    """The webhook log keeps copies of the trip (names, phones): the payloads go, the log of
    what was delivered when stays; a delivery still unsent now is given up."""
    rows = WebhookDelivery.objects.filter(trip_id__in=trip_ids)
    rows.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING]).update(
        status=OutboxStatus.FAILED, last_error=trip_signals.RETENTION_ERROR
    )
    return {"deliveries": rows.update(payload={"anonymised": True})}
