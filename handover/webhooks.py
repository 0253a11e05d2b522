"""Hand-over webhooks (接力棒, docs/architecture.md, "Hand-over"): events about trips, queued as
deliveries for the subscriptions that want them, in the caller's transaction;
``handover.delivery`` signs and sends them afterwards. Also the officials' side: subscriptions
and the delivery log.

Where each event comes from:

- ``trip.entered`` / ``trip.exited``: admitted entry and exit scans, turned into events by a
  sweep that reads the scan log (``handover.scan_events``); the scan itself does no extra work.
- ``trip.arrived``: the consignee's confirmation (``checkpoints.services.trip_confirm_arrival``).
- ``trip.overdue``: the lifecycle workers.
- ``pass.revoked``: a trip cancelled, or its pass reissued (``trucks.services``).
- ``pass.regraded``: a pass whose colour changed (``trucks.services.pass_regrade``).

A delivery row is unique per (subscription, event, occurrence key), so an occurrence seen twice
(a sweep run again, a retried task) is queued once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from handover import signals
from handover.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from passcode_portal import http as outbound
from passcode_portal.errors import DomainError, NotFound, PermissionDenied
from passcode_portal.outbox import OutboxStatus
from passcode_portal.ttlcache import TTLCache
from places.models import Region
from trucks.models import Trip
from trucks.roles import is_official

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


# ---------------------------------------------------------------------------------------------
# Subscriptions (officials)

AnyUser = AbstractBaseUser | AnonymousUser
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
SUBSCRIPTION_FIELDS = ("name", "url", "event_types", "region", "active")


def _require_official(user: AnyUser) -> None:
    if not is_official(user):
        raise PermissionDenied("not_allowed", _("Only officials manage webhooks."))


def url_errors(url: str) -> list[str]:
    """Why ``url`` cannot receive deliveries, or nothing. Deliveries carry drivers' names and
    phones, so they travel over HTTPS; plain HTTP is for a receiver on this machine, and for
    development and tests (WEBHOOK_ALLOW_HTTP, off in production). A receiver must have a
    public address: an address written out that is private, loopback, link-local or otherwise
    not public, or a name for this machine (localhost), is refused here as the sender would
    refuse it (``passcode_portal.http``), unless OUTBOUND_ALLOW_PRIVATE_ADDRESSES; names are
    checked when a delivery resolves them."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return [_("Enter a full URL, for example https://portal.example.cn/hooks/passcode.")]
    if parts.scheme not in ("http", "https") or not host:
        return [_("Enter a full URL, for example https://portal.example.cn/hooks/passcode.")]
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return [_("Enter a full URL, for example https://portal.example.cn/hooks/passcode.")]
    if parts.username or parts.password:
        return [_("Leave the user name and password out of the URL.")]
    errors = []
    if not settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES and outbound.literal_host_refusal(host):
        errors.append(
            _(
                "Use the receiving system's public address: deliveries are not sent to "
                "private, loopback or link-local addresses."
            )
        )
    loopback = host in _LOOPBACK or host.endswith(".localhost")
    if parts.scheme == "http" and not (loopback or settings.WEBHOOK_ALLOW_HTTP):
        errors.append(_("Use an https:// URL: deliveries carry personal data."))
    return errors


def _clean(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Checked and normalised values; a DomainError lists every fault."""
    fields: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if "name" in changes:
        name = str(changes["name"] or "").strip()
        if not name:
            fields["name"] = [_("Name the receiving system.")]
        clean["name"] = name[:200]
    if "url" in changes:
        url = str(changes["url"] or "").strip()
        errors = url_errors(url)
        if errors:
            fields["url"] = errors
        clean["url"] = url
    if "event_types" in changes:
        events = list(dict.fromkeys(changes["event_types"] or []))
        unknown = [e for e in events if e not in WebhookEvent.values]
        if not events:
            fields["event_types"] = [_("Choose at least one event.")]
        elif unknown:
            fields["event_types"] = [
                _("Unknown events: %(events)s.") % {"events": ", ".join(map(str, unknown[:5]))}
            ]
        clean["event_types"] = events
    if "region" in changes:
        code = changes["region"]
        region = None
        if code:
            region = Region.objects.filter(code=str(code)).first()
            if region is None:
                fields["region"] = [_("Choose a region from the list.")]
        clean["region"] = region
    if "active" in changes:
        clean["active"] = bool(changes["active"])
    if fields:
        raise DomainError("validation_error", _("Some fields are not valid."), fields=fields)
    return clean


def new_secret() -> str:
    # 256 bits; the receiver keeps it to check signatures, and it is shown to officials once.
    return "whsec_" + secrets.token_urlsafe(32)


@transaction.atomic
def subscription_create(
    *,
    actor: User,
    name: str,
    url: str,
    event_types: Sequence[str],
    region: str | None = None,
    active: bool = True,
) -> WebhookSubscription:
    """Register a receiving system. The signing secret is generated here; the caller shows it
    once (``subscription.secret``), and it is never shown again."""
    _require_official(actor)
    values = _clean(
        {"name": name, "url": url, "event_types": event_types, "region": region, "active": active}
    )
    subscription = WebhookSubscription(**values, secret=new_secret(), created_by=actor)
    subscription._history_user = actor  # type: ignore[attr-defined]
    subscription.save()
    transaction.on_commit(subscriptions_changed)
    return subscription


@transaction.atomic
def subscription_update(
    *, actor: User, subscription: WebhookSubscription, changes: Mapping[str, Any]
) -> WebhookSubscription:
    """Change some of ``SUBSCRIPTION_FIELDS``; the others are left as they are."""
    _require_official(actor)
    unknown = set(changes) - set(SUBSCRIPTION_FIELDS)
    if unknown:
        raise ValueError(f"Not changeable: {sorted(unknown)}")
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    values = _clean(changes)
    for name, value in values.items():
        setattr(subscription, name, value)
    if values:
        subscription._history_user = actor  # type: ignore[attr-defined]
        subscription.save()
        transaction.on_commit(subscriptions_changed)
    return subscription


@transaction.atomic
def subscription_delete(*, actor: User, subscription: WebhookSubscription) -> None:
    """Remove a subscription and its delivery log (the subscription's history keeps who removed
    it and when). A delivery being sent right now is sent, and its outcome dropped."""
    _require_official(actor)
    subscription._history_user = actor  # type: ignore[attr-defined]
    subscription.delete()
    transaction.on_commit(subscriptions_changed)


def subscriptions_list(*, user: AnyUser) -> QuerySet[WebhookSubscription]:
    _require_official(user)
    return WebhookSubscription.objects.select_related("region").order_by("name", "pk")


def subscription_get(*, user: AnyUser, subscription_id: int) -> WebhookSubscription:
    subscription = subscriptions_list(user=user).filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound("not_found", _("No such webhook subscription."))
    return subscription


# ---------------------------------------------------------------------------------------------
# The delivery log


def deliveries_list(
    *, user: AnyUser, subscription: WebhookSubscription, status: str | None = None
) -> QuerySet[WebhookDelivery]:
    """A subscription's deliveries, newest first (the log index leads with the subscription)."""
    _require_official(user)
    deliveries = WebhookDelivery.objects.filter(subscription=subscription)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.select_related("trip").order_by("-created_at", "-pk")


def delivery_get(
    *, user: AnyUser, subscription: WebhookSubscription, delivery_id: int
) -> WebhookDelivery:
    delivery = deliveries_list(user=user, subscription=subscription).filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("not_found", _("No such delivery."))
    return delivery


def deliveries_retry(*, ids: Iterable[int]) -> int:
    """Deliver again: the rows go back to the queue, due now, with a fresh set of attempts;
    delivered ones are sent again with the same id, which the receiver recognises. Rows being
    sent right now are left alone. Returns how many were queued. Callers check who may (the API:
    officials; the admin: its permissions)."""
    queued = WebhookDelivery.objects.filter(
        pk__in=list(ids),
        status__in=[OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.SENT],
    ).update(
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        claimed_at=None,
        delivered_at=None,
    )
    if queued:
        signals.deliveries_queued.send(sender=WebhookDelivery, count=queued)
    return queued


@transaction.atomic
def delivery_retry(*, actor: AnyUser, delivery: WebhookDelivery) -> WebhookDelivery:
    """An official's "deliver again" of one row (``deliveries_retry``); a row being sent right
    now is a conflict (409)."""
    _require_official(actor)
    if not deliveries_retry(ids=[delivery.pk]):
        raise DomainError(
            "in_flight", _("This delivery is being sent right now; try again shortly."), status=409
        )
    delivery.refresh_from_db()
    return delivery
