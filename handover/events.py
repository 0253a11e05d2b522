"""Hand-over webhooks (接力棒, docs/architecture.md, "Hand-over"): events about trips, queued as
deliveries for the subscriptions that want them, in the caller's transaction;
``handover.delivery`` signs and sends them afterwards. The officials' side (subscriptions and
the delivery log) is ``handover.subscriptions``.

Where each event comes from:

- ``trip.entered`` / ``trip.exited``: admitted entry and exit scans, turned into events by a
  sweep that reads the scan log (``handover.scan_events``); the scan itself does no extra work.
- ``trip.arrived``: the consignee's confirmation (``checkpoints.signals.trip_arrived``).
- ``trip.overdue``: the overdue alerts (``checkpoints.signals.trips_overdue``).
- ``pass.revoked``: a trip cancelled, or its pass reissued (``trucks.signals.pass_revoked``).
- ``pass.regraded``: a pass whose colour changed (``trucks.signals.passes_recoloured``).

The receivers of those signals are in ``handover.receivers``.

A delivery row is unique per (subscription, event, occurrence key), so an occurrence seen twice
(a sweep run again, a retried task) is queued once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from handover import signals
from handover.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from passcode_portal.ttlcache import TTLCache
from trucks.models import Trip

_active: TTLCache[list[WebhookSubscription]] = TTLCache(lambda: settings.HOT_CACHE_SECONDS)


def active_subscriptions() -> list[WebhookSubscription]:
    """Active subscriptions as the emitting services read them: kept HOT_CACHE_SECONDS in the
    process, so an event on a busy path costs no query when nobody subscribes."""
    return _active.get_or_load("active", active_subscriptions_fresh)


def active_subscriptions_fresh() -> list[WebhookSubscription]:
    return list(WebhookSubscription.objects.filter(active=True).order_by("pk"))


def subscriptions_changed() -> None:
    """Forget this process's cached list (other processes' lists expire on their own)."""
    _active.discard("active")


# ---------------------------------------------------------------------------------------------
# Emitting events


@dataclass(frozen=True)
class Occurrence:
    """One thing that happened to a trip. ``key`` names the occurrence (a scan id, a pass id),
    so the same occurrence is queued once per subscription however often it is seen."""

    event: str
    trip: Trip
    key: str
    extra: Mapping[str, Any] | None = None
    occurred_at: datetime | None = None


def _regions_of(trip: Trip) -> set[str]:
    codes = {trip.origin_region_id}
    checkpoint = getattr(trip, "entry_checkpoint", None)
    if checkpoint is not None:
        codes.add(checkpoint.region_id)
    return codes


def _covers(region_code: str, codes: set[str]) -> bool:
    """Whether a subscription's region (province, city or county) contains any of the codes."""
    if region_code.endswith("0000"):
        prefix = region_code[:2]
    elif region_code.endswith("00"):
        prefix = region_code[:4]
    else:
        prefix = region_code
    return any(code.startswith(prefix) for code in codes)


def trip_payload(trip: Trip) -> dict[str, Any]:
    """What a receiving system needs to carry on tracking the truck; no ID numbers. The trip as
    it is when the event is queued (its ``status`` may be ahead of the event)."""

    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "reference": trip.reference,
        "status": trip.status,
        "plate": trip.vehicle.plate,
        "driver_name": trip.driver.name,
        "driver_phone": trip.driver.phone,
        "origin_region": trip.origin_region_id,
        "entry_checkpoint": trip.entry_checkpoint.code,
        "destination_name": trip.destination_name,
        "consignee": trip.consignee.name if trip.consignee is not None else None,
        "cargo_category": trip.cargo_category,
        "planned_arrival": iso(trip.planned_arrival),
        "planned_departure": iso(trip.planned_departure),
        "entered_at": iso(trip.entered_at),
        "arrived_at": iso(trip.arrived_at),
        "exited_at": iso(trip.exited_at),
    }


def emit(*, event: str, trip: Trip, key: str, extra: Mapping[str, Any] | None = None) -> int:
    """Queue ``event`` about ``trip`` for every active subscription that wants it, in the
    caller's transaction; delivery starts once it commits. ``key`` names this occurrence (e.g.
    the scan id), so the same occurrence is queued once. ``extra`` is merged into the body at the
    top level (values that are not JSON, like datetimes, are converted as Django's JSON encoder
    does). Returns how many deliveries were offered."""
    return emit_many([Occurrence(event=event, trip=trip, key=key, extra=extra)])


def emit_many(
    occurrences: Iterable[Occurrence],
    *,
    subscriptions: Sequence[WebhookSubscription] | None = None,
) -> int:
    """``emit`` for many occurrences in one INSERT (the scan sweep's batches). ``subscriptions``
    defaults to the (cached) active ones. Returns how many deliveries were offered; ones already
    queued are skipped by the database."""
    subs = list(active_subscriptions() if subscriptions is None else subscriptions)
    if not subs:
        return 0
    now = timezone.now()
    rows: list[WebhookDelivery] = []
    for occurrence in occurrences:
        if occurrence.event not in WebhookEvent.values:
            raise ValueError(f"Unknown webhook event {occurrence.event!r}")
        wanted = [s for s in subs if occurrence.event in s.event_types]
        if any(s.region_id is not None for s in wanted):
            codes = _regions_of(occurrence.trip)
            wanted = [s for s in wanted if s.region_id is None or _covers(s.region_id, codes)]
        if not wanted:
            continue
        payload = _json(
            {
                "event": occurrence.event,
                "occurred_at": (occurrence.occurred_at or now).isoformat(),
                "source": settings.SITE_URL,
                "trip": trip_payload(occurrence.trip),
                **(occurrence.extra or {}),
            }
        )
        rows += [
            WebhookDelivery(
                subscription=s,
                event=occurrence.event,
                payload=payload,
                dedupe_key=f"{s.pk}:{occurrence.event}:{occurrence.key}"[:200],
                trip=occurrence.trip,
                created_at=now,
                next_attempt_at=now,
            )
            for s in wanted
        ]
    if not rows:
        return 0
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    signals.deliveries_queued.send(sender=WebhookDelivery, count=len(rows))
    return len(rows)


class _Encoder(DjangoJSONEncoder):
    """Django's encoder (dates, decimals, UUIDs, lazy text), but datetimes in full ISO 8601 as
    ``trip_payload`` writes them, not cut to milliseconds."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


def _json(value: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(value, cls=_Encoder))
    return result
