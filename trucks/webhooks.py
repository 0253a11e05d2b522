"""Hand-over webhooks (接力棒): events about trips, queued as deliveries for the subscriptions
that want them, in the caller's transaction. ``trucks.webhook_delivery`` signs and sends them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils import timezone

from passcode_portal.ttlcache import TTLCache
from trucks.models import Trip, WebhookDelivery, WebhookSubscription

_active: TTLCache[list[WebhookSubscription]] = TTLCache(lambda: settings.HOT_CACHE_SECONDS)


def active_subscriptions() -> list[WebhookSubscription]:
    return _active.get_or_load(
        "active", lambda: list(WebhookSubscription.objects.filter(active=True))
    )


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
    """What a receiving system needs to carry on tracking the truck; no ID numbers."""

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
        "planned_arrival": iso(trip.planned_arrival),
        "planned_departure": iso(trip.planned_departure),
        "entered_at": iso(trip.entered_at),
        "arrived_at": iso(trip.arrived_at),
        "exited_at": iso(trip.exited_at),
    }


def emit(*, event: str, trip: Trip, key: str, extra: Mapping[str, Any] | None = None) -> int:
    """Queue ``event`` about ``trip`` for every active subscription that wants it. ``key`` names
    this occurrence (e.g. the scan id), so the same occurrence is queued once. Returns how many
    deliveries were offered."""
    subscriptions = [
        s
        for s in active_subscriptions()
        if event in s.event_types
        and (s.region_id is None or _covers(s.region_id, _regions_of(trip)))
    ]
    if not subscriptions:
        return 0
    payload = {
        "event": event,
        "occurred_at": timezone.now().isoformat(),
        "trip": trip_payload(trip),
        **(extra or {}),
    }
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription=s,
                event=event,
                payload=payload,
                dedupe_key=f"{s.pk}:{event}:{key}"[:200],
                trip=trip,
            )
            for s in subscriptions
        ],
        ignore_conflicts=True,
    )
    return len(subscriptions)
