"""The officials' side's own rows.

- The roll-ups the figures read at a province's scale: counts of scans, walk-ins, registrations
  and passes per day (and scans per hour) at each checkpoint, by what the figures tell apart.
  ``dashboards.rollups`` adds each row to them once (the rows' ``counted`` flag,
  ``passcode_portal.counted``), and moves a count when a counted row changes what it was counted
  as (a refusal overridden, a pass recoloured); ``dashboards.counting`` reads a period's figures
  as the roll-ups' totals plus the rows not counted yet, in one statement, so they are exact.
- The exports: one row per export built by a worker, with who asked, what, how far the build
  has come, and the file it left (docs/architecture.md, "Exports")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from places.models import Checkpoint, Region


class Tally(models.Model):
    """A count at a checkpoint, under the keys of the roll-up that subclasses it."""

    checkpoint = models.ForeignKey(
        Checkpoint, verbose_name=_("checkpoint"), on_delete=models.CASCADE, related_name="+"
    )
    n = models.BigIntegerField(_("count"), default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}: {self.n}"


class ScanDay(Tally):
    """Scans of a day (in the deployment's time zone) at a checkpoint."""

    day = models.DateField(_("day"))
    direction = models.CharField(_("direction"), max_length=3)
    verdict = models.CharField(_("verdict"), max_length=16)
    reason = models.CharField(_("reason"), max_length=20)
    overridden = models.BooleanField(_("overridden"))
    with_pass = models.BooleanField(_("with a pass"))

    class Meta:
        verbose_name = _("scans of a day")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "day",
                    "checkpoint",
                    "direction",
                    "verdict",
                    "reason",
                    "overridden",
                    "with_pass",
                ],
                name="scanday_key",
            )
        ]


class ScanHour(Tally):
    """Scans of an hour (its start, in the deployment's time zone) at a checkpoint, admitted or
    not: what the hourly charts draw."""

    hour = models.DateTimeField(_("hour"))
    direction = models.CharField(_("direction"), max_length=3)
    admitted = models.BooleanField(_("admitted"))

    class Meta:
        verbose_name = _("scans of an hour")
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "checkpoint", "direction", "admitted"], name="scanhour_key"
            )
        ]


class WalkInDay(Tally):
    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("walk-ins of a day")
        constraints = [models.UniqueConstraint(fields=["day", "checkpoint"], name="walkinday_key")]


class TripDay(Tally):
    """Trips registered on a day to enter at a checkpoint."""

    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("registrations of a day")
        constraints = [models.UniqueConstraint(fields=["day", "checkpoint"], name="tripday_key")]


class OriginDay(Tally):
    """Trips registered on a day to enter at a checkpoint, by the region they start in."""

    day = models.DateField(_("day"))
    origin = models.ForeignKey(
        Region, verbose_name=_("origin"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("registrations of a day by origin")
        constraints = [
            models.UniqueConstraint(fields=["day", "checkpoint", "origin"], name="originday_key")
        ]


class PassDay(Tally):
    """Passes issued on a day for trips entering at a checkpoint, by their colour now."""

    day = models.DateField(_("day"))
    colour = models.CharField(_("colour"), max_length=8)

    class Meta:
        verbose_name = _("passes of a day")
        constraints = [
            models.UniqueConstraint(fields=["day", "checkpoint", "colour"], name="passday_key")
        ]


class Export(models.Model):
    class Kind(models.TextChoices):
        TRIPS = "trips", _("Trips")
        SCANS = "scans", _("Scans")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (xlsx)"

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("export status", "Queued")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(_("data"), max_length=8, choices=Kind.choices)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    first_day = models.DateField(_("from"))
    last_day = models.DateField(_("to"))
    checkpoint = models.ForeignKey(
        Checkpoint,
        verbose_name=_("checkpoint"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The requester's language when asking: the worker writes the headers in it.
    language = models.CharField(_("language"), max_length=16)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    # Progress is rows written of rows to write, updated in bulk by the worker as it goes (no
    # history row each time: only changes of status are audited).
    rows_total = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    # Relative to settings.EXPORTS_DIR; empty until built and again once deleted.
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["requester", "-created_at"], name="export_requester_idx"),
            # The sweep's: built files past their time, and work in flight.
            models.Index(
                fields=["status", "expires_at"],
                name="export_sweep_idx",
                condition=Q(status__in=["queued", "running", "done"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=models.F("first_day")), name="export_days_in_order"
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(expires_at__isnull=False),
                name="export_done_expires",
            ),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} {self.kind} {self.first_day}..{self.last_day} ({self.status})"

    @property
    def progress(self) -> float:
        """From 0 to 1: rows written of rows to write; 1 once built."""
        if self.status in (self.Status.DONE, self.Status.EXPIRED):
            return 1.0
        if not self.rows_total:
            return 0.0
        return min(1.0, self.rows_done / self.rows_total)
