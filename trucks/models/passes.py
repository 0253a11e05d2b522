"""The QR pass of a trip."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from passcode_portal.counted import Counted, uncounted_index
from trucks.models.trips import Trip


class Colour(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class PassStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    COMPLETED = "completed", _("Completed")


class Pass(Counted):
    """The QR pass of a trip. The colour is looked up at scan time, never carried in the token,
    so regrading needs no new code; the token is recomputed from (key id, id, valid_until)."""

    # Why a pass was revoked, as the services write it (the pass page explains each); an
    # official's own words are kept as written.
    REISSUED = "reissued"
    # The trip has a new driver: the old driver's signed link and QR no longer open its pass.
    DRIVER_CHANGED = "driver changed"

    trip = models.ForeignKey(
        Trip, verbose_name=_("trip"), on_delete=models.CASCADE, related_name="passes"
    )
    colour = models.CharField(_("colour"), max_length=8, choices=Colour.choices)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    policy_version = models.PositiveIntegerField(_("rule version"))
    status = models.CharField(
        _("status"), max_length=10, choices=PassStatus.choices, default=PassStatus.ACTIVE
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    key_id = models.PositiveSmallIntegerField(_("signing key id"))
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    graded_at = models.DateTimeField(_("graded at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.CharField(_("revocation reason"), max_length=300, blank=True)
    history = HistoricalRecords(excluded_fields=["counted"])

    class Meta:
        verbose_name = _("pass")
        verbose_name_plural = _("passes")
        ordering = ["-issued_at"]
        indexes = [
            models.Index(
                fields=["valid_until"],
                name="pass_active_until_idx",
                condition=Q(status="active"),
            ),
            # The checkpoint's offline bundle holds every pass that ended less than a day ago,
            # whatever its status (``checkpoints.bundle``): a week's registrations among a
            # year's passes, found by this range.
            models.Index(fields=["valid_until"], name="pass_until_idx"),
            uncounted_index("pass_uncounted_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["trip"], condition=Q(status="active"), name="one_active_pass_per_trip"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")),
                name="pass_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"pass {self.pk} ({self.colour}, {self.status})"
