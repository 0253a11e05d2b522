"""The officials' side of hand-over (docs/architecture.md, "Hand-over"): the subscriptions of
receiving systems, and the log of their deliveries with "deliver again"."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils.translation import gettext as _

from handover import delivery as webhook_delivery
from handover import events, signals
from handover.models import WebhookDelivery, WebhookEvent, WebhookRetry, WebhookSubscription
from passcode_portal import http as outbound
from passcode_portal.errors import DomainError, NotFound, PermissionDenied
from passcode_portal.outbox import OutboxStatus
from places.models import Region
from trucks.roles import is_official

AnyUser = AbstractBaseUser | AnonymousUser
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
SUBSCRIPTION_FIELDS = ("name", "url", "event_types", "region", "active")
# What "deliver again" takes back to the queue; a row being sent right now is left alone.
RETRYABLE = (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.SENT)


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
    transaction.on_commit(events.subscriptions_changed)
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
        transaction.on_commit(events.subscriptions_changed)
    return subscription


@transaction.atomic
def subscription_delete(*, actor: User, subscription: WebhookSubscription) -> None:
    """Remove a subscription and its delivery log (the subscription's history keeps who removed
    it and when). A delivery being sent right now is sent, and its outcome dropped."""
    _require_official(actor)
    subscription._history_user = actor  # type: ignore[attr-defined]
    subscription.delete()
    transaction.on_commit(events.subscriptions_changed)


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


def subscriptions_overview(*, user: AnyUser) -> QuerySet[WebhookSubscription]:
    """The subscriptions with how many of their deliveries stand in each status and when a
    receiver last accepted one (``pending``, ``sending``, ``sent``, ``failed``,
    ``last_delivered_at``)."""
    counts = {
        str(status): Count("deliveries", filter=Q(deliveries__status=status))
        for status in OutboxStatus.values
    }
    return subscriptions_list(user=user).annotate(
        **counts, last_delivered_at=Max("deliveries__delivered_at")
    )


def deliveries_list(
    *,
    user: AnyUser,
    subscription: WebhookSubscription,
    status: str | None = None,
    event: str | None = None,
) -> QuerySet[WebhookDelivery]:
    """A subscription's deliveries, newest first (the log index leads with the subscription)."""
    _require_official(user)
    deliveries = WebhookDelivery.objects.filter(subscription=subscription)
    if status:
        deliveries = deliveries.filter(status=status)
    if event:
        deliveries = deliveries.filter(event=event)
    return deliveries.select_related("trip").order_by("-created_at", "-pk")


def delivery_get(
    *, user: AnyUser, subscription: WebhookSubscription, delivery_id: int
) -> WebhookDelivery:
    delivery = deliveries_list(user=user, subscription=subscription).filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("not_found", _("No such delivery."))
    return delivery


def deliveries_retry(*, ids: Iterable[int], actor: User | None = None) -> int:
    """Deliver again: the rows go back to the queue, due now, with a fresh set of attempts;
    delivered ones are sent again with the same id, which the receiver recognises. Rows being
    sent right now are left alone. Each row queued again is audited (``WebhookRetry``: who, when,
    the status and attempts it had). Returns how many were queued. Callers check who may (the
    pages and the API: officials; the admin: its permissions)."""
    queued = webhook_delivery.OUTBOX.send_again(
        ids,
        statuses=RETRYABLE,
        audit=WebhookRetry,
        actor=actor,
        claimed_at=None,
        delivered_at=None,
    )
    if queued:
        signals.deliveries_queued.send(sender=WebhookDelivery, count=queued)
    return queued


@transaction.atomic
def delivery_retry(*, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """An official's "deliver again" of one row (``deliveries_retry``); a row being sent right
    now is a conflict (409)."""
    _require_official(actor)
    if not deliveries_retry(ids=[delivery.pk], actor=actor):
        raise DomainError(
            "in_flight", _("This delivery is being sent right now; try again shortly."), status=409
        )
    delivery.refresh_from_db()
    return delivery


def deliveries_retry_failed(*, actor: User, subscription: WebhookSubscription) -> int:
    """An official's "deliver all failed again" for one subscription; how many were queued."""
    _require_official(actor)
    failed = WebhookDelivery.objects.filter(
        subscription=subscription, status=OutboxStatus.FAILED
    ).values_list("pk", flat=True)
    return deliveries_retry(ids=failed, actor=actor)


def retries_list(*, user: AnyUser, subscription: WebhookSubscription) -> QuerySet[WebhookRetry]:
    """Who sent which of the subscription's deliveries again, newest first."""
    _require_official(user)
    return (
        WebhookRetry.objects.filter(delivery__subscription=subscription)
        .select_related("delivery__trip", "by")
        .order_by("-at", "-pk")
    )
