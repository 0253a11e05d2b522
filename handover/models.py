"""Hand-over (接力棒): the systems that subscribe to what happens to trucks (the destination
city's portal, a logistics park), the signed deliveries queued for them, and the cursors of the
sweeps that read the scan log for them. The tables keep the names they had when hand-over was
part of the trucks app."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from passcode_portal.outbox import OutboxStatus, SentAgain
from places.models import Region


class WebhookEvent(models.TextChoices):
    TRIP_ENTERED = "trip.entered", _("Trip entered the city")
    TRIP_ARRIVED = "trip.arrived", _("Trip arrived at the consignee")
    TRIP_EXITED = "trip.exited", _("Trip left the city")
    TRIP_OVERDUE = "trip.overdue", _("Trip overdue")
    PASS_REVOKED = "pass.revoked", _("Pass revoked")
    PASS_REGRADED = "pass.regraded", _("Pass regraded")


class WebhookSubscription(models.Model):
    """A system that wants to hear about trips (接力棒): the destination city's portal, a
    logistics park. Deliveries are signed with the subscription's secret."""

    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200)
    event_types = models.JSONField(_("event types"), default=list)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Only trips from or entering through this region (and the regions in it)."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords(
        excluded_fields=["secret"], table_name="trucks_historicalwebhooksubscription"
    )

    class Meta:
        db_table = "trucks_webhooksubscription"
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    subscription = models.ForeignKey(
        WebhookSubscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    event = models.CharField(_("event"), max_length=20, choices=WebhookEvent.choices)
    payload = models.JSONField(_("payload"), default=dict)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    trip = models.ForeignKey(
        "trucks.Trip",
        verbose_name=_("trip"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    status = models.CharField(
        _("status"), max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        db_table = "trucks_webhookdelivery"
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["subscription", "-created_at"], name="webhook_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.subscription} ({self.status})"


class SweepCursor(models.Model):
    """How far a sweep that reads a log (scan events, for webhooks) has got: the last id done."""

    name = models.CharField(_("name"), max_length=40, primary_key=True)
    last_id = models.BigIntegerField(_("last id"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "trucks_sweepcursor"
        verbose_name = _("sweep cursor")
        verbose_name_plural = _("sweep cursors")

    def __str__(self) -> str:
        return f"{self.name}: {self.last_id}"


class WebhookRetry(SentAgain):
    """An official's "deliver again" of one delivery (``passcode_portal.outbox.SentAgain``)."""

    row_field = "delivery"

    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("delivery"),
        on_delete=models.CASCADE,
        related_name="retries",
    )

    class Meta:
        verbose_name = _("webhook delivered again")
        verbose_name_plural = _("webhooks delivered again")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.delivery_id} again at {self.at:%Y-%m-%d %H:%M}"
