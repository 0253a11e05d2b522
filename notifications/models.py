"""The notifications outbox: text messages and e-mails to drivers, companies and consignees.

A row is written in the same transaction as the change it reports and sent by a worker once
that commits (``notifications.sending``); ``passcode_portal.outbox`` holds the claiming and
retrying it shares with the hand-over deliveries."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from passcode_portal.outbox import OutboxStatus, SentAgain
from trucks.models import Language


class Notification(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    template = models.CharField(_("template"), max_length=40)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ZH_HANS
    )
    context = models.JSONField(_("context"), default=dict, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    trip = models.ForeignKey(
        "trucks.Trip",
        verbose_name=_("trip"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
        db_index=False,
    )
    status = models.CharField(
        _("status"), max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        # The table keeps the name it had when the outbox was part of the trucks app.
        db_table = "trucks_notification"
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [
            # The sender's and the sweep's work lists: only unfinished rows are indexed.
            models.Index(
                fields=["next_attempt_at"],
                name="notification_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["trip"], name="notification_trip_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.template} to {self.recipient} ({self.status})"


class NotificationResend(SentAgain):
    """An official's "send again" of one notification (``passcode_portal.outbox.SentAgain``)."""

    row_field = "notification"

    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        on_delete=models.CASCADE,
        related_name="resends",
    )

    class Meta:
        verbose_name = _("notification sent again")
        verbose_name_plural = _("notifications sent again")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.notification_id} again at {self.at:%Y-%m-%d %H:%M}"
