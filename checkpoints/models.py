"""Checkpoint sites (卡口), their staff, and what happens there: scans with their verdicts,
walk-ins (unregistered vehicles), landing tests, overrides, and the alerts they raise."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from passcode_portal.counted import Counted, uncounted_index
from places.models import Checkpoint


class Direction(models.TextChoices):
    IN = "in", _("Entry")
    OUT = "out", _("Exit")


class Verdict(models.TextChoices):
    ADMIT = "admit", _("Admit")
    ADMIT_WITH_TEST = "admit_with_test", _("Admit with landing test")
    REFUSE = "refuse", _("Refuse")


class Reason(models.TextChoices):
    """Why a scan got its verdict (docs/architecture.md, "Verification outcomes"). The codes are
    stable API."""

    OK = "ok", pgettext_lazy("scan reason", "Valid")
    TEST_REQUIRED = "test_required", _("Landing test required")
    RED_CODE = "red_code", _("Red code")
    INVALID = "invalid", _("Not a valid pass code")
    UNKNOWN = "unknown", _("No such pass")
    REVOKED = "revoked", _("Pass revoked")
    CANCELLED = "cancelled", _("Trip cancelled")
    EXPIRED = "expired", _("Pass expired")
    NOT_YET_VALID = "not_yet_valid", _("Pass not yet valid")
    ALREADY_INSIDE = "already_inside", _("Already inside")
    PLATE_MISMATCH = "plate_mismatch", _("Plate does not match")
    WRONG_CHECKPOINT = "wrong_checkpoint", _("Registered for another checkpoint")
    USED = "used", _("Pass already used")


class Warning(models.TextChoices):
    WRONG_CHECKPOINT = "wrong_checkpoint", _("Registered for another checkpoint")
    NOT_INSIDE = "not_inside", _("No entry was recorded")
    PERSONS_MISMATCH = "persons_mismatch", _("Number of persons differs")
    LATE_EXIT = "late_exit", _("Leaving after the pass expired")
    REFUSED_RECENTLY = "refused_recently", _("Refused here a short while ago")


# Persons in one vehicle as staff count them: a truck cab seats a handful, a coach at a land port
# some fifty; more is a typing mistake.
MAX_PERSONS = 60


class LandingTest(models.TextChoices):
    SAMPLED = "sampled", _("Sampled, result pending")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")


class ScanEvent(Counted):
    """One scan at a checkpoint, admitted or refused: every vehicle leaves a record.

    Scans are the most written rows. Their foreign keys carry no single-column indexes of their
    own (``db_index=False``): the composite indexes in Meta lead with the same columns and serve
    every query, and each index spared is one less write per scan."""

    checkpoint = models.ForeignKey(
        Checkpoint,
        verbose_name=_("checkpoint"),
        on_delete=models.PROTECT,
        related_name="scans",
        db_index=False,
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    trip_pass = models.ForeignKey(
        "trucks.Pass",
        verbose_name=_("pass"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scans",
        db_index=False,
    )
    trip = models.ForeignKey(
        "trucks.Trip",
        verbose_name=_("trip"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scans",
        db_index=False,
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    verdict = models.CharField(_("verdict"), max_length=16, choices=Verdict.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    # A short digest of the scanned text, so repeated scans of one forged code raise one alert.
    token_digest = models.CharField(_("token digest"), max_length=16, blank=True)
    observed_plate = models.CharField(_("observed plate"), max_length=16, blank=True)
    persons = models.PositiveSmallIntegerField(_("persons"), null=True, blank=True)
    scan_id = models.UUIDField(_("client scan id"), null=True, blank=True, unique=True)
    scanned_at = models.DateTimeField(_("scanned at"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("plate and persons confirmed at"), null=True, blank=True)
    landing_test = models.CharField(
        _("landing test"), max_length=10, choices=LandingTest.choices, blank=True
    )
    landing_test_sampled_at = models.DateTimeField(_("sampled at"), null=True, blank=True)
    landing_test_result_at = models.DateTimeField(_("result at"), null=True, blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("overridden by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    overridden_at = models.DateTimeField(_("overridden at"), null=True, blank=True)
    override_reason = models.CharField(_("override reason"), max_length=500, blank=True)
    # Decided by the tablet without a connection and sent once back online (docs/architecture.md,
    # "Offline"): verdict, reason and warnings are the tablet's, ``scanned_at`` the time it
    # happened on the server's clock, the device's clock measured against it kept in
    # ``clock_offset_ms``. The hot path's insert leaves both to the database's defaults.
    offline = models.BooleanField(_("scanned offline"), default=False, db_default=False)
    clock_offset_ms = models.IntegerField(
        _("device clock offset (ms)"), null=True, blank=True, help_text=_("Server minus device.")
    )
    # The refusal of the same pass at the same checkpoint shortly before, which this scan's
    # ``refused_recently`` warning recalls (a truck turned away that came back). No index: it is
    # read through the scan, never searched by, and scans are not deleted.
    earlier_refusal = models.ForeignKey(
        "self",
        verbose_name=_("earlier refusal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("scan")
        verbose_name_plural = _("scans")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["checkpoint", "-received_at"], name="scan_checkpoint_idx"),
            models.Index(fields=["trip", "-received_at"], name="scan_trip_idx"),
            uncounted_index("scan_uncounted_idx"),
            # The officials' figures as of now and of overrides: few rows each. A landing
            # test's result and an override take their row out of, or into, these.
            models.Index(
                fields=["checkpoint"],
                name="scan_test_pending_idx",
                condition=Q(landing_test="sampled"),
            ),
            models.Index(
                fields=["overridden_at"],
                name="scan_overridden_idx",
                condition=Q(overridden_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(overridden_by__isnull=True) | ~Q(override_reason=""),
                name="scan_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"scan {self.pk} {self.direction} {self.verdict}/{self.reason}"


# The verdicts that let a vehicle through as scanned.
ADMITTING_VERDICTS: tuple[str, ...] = (Verdict.ADMIT, Verdict.ADMIT_WITH_TEST)
# A scan that let its vehicle through: admitted, or refused and then overridden by a supervisor.
ADMITTED = Q(verdict__in=ADMITTING_VERDICTS) | Q(overridden_by__isnull=False)


class WalkIn(Counted):
    """An unregistered vehicle stopped at a checkpoint (无报备车辆), recorded all the same."""

    class Outcome(models.TextChoices):
        TURNED_BACK = "turned_back", _("Turned back")
        SENT_TO_REGISTER = "sent_to_register", _("Sent to register")

    checkpoint = models.ForeignKey(
        Checkpoint, verbose_name=_("checkpoint"), on_delete=models.PROTECT, related_name="walk_ins"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.IN
    )
    plate = models.CharField(_("number plate"), max_length=16)
    driver_name = models.CharField(_("driver name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=11, blank=True)
    persons = models.PositiveSmallIntegerField(_("persons"), default=1)
    note = models.CharField(_("note"), max_length=500, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    scan_id = models.UUIDField(_("client scan id"), null=True, blank=True, unique=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("walk-in")
        verbose_name_plural = _("walk-ins")
        ordering = ["-recorded_at"]
        indexes = [
            models.Index(fields=["checkpoint", "-recorded_at"], name="walkin_checkpoint_idx"),
            models.Index(fields=["plate"], name="walkin_plate_idx"),
            uncounted_index("walkin_uncounted_idx"),
        ]

    def __str__(self) -> str:
        return f"walk-in {self.plate}"


class Alert(models.Model):
    """Something officials must act on. ``key`` names the cause, so a cause raises one alert
    however many times it is seen (a copied code scanned at ten checkpoints is one alert)."""

    class Kind(models.TextChoices):
        RED_CODE = "red_code", _("Red code at a checkpoint")
        FORGED = "forged", _("Forged or altered pass code")
        ALREADY_INSIDE = "already_inside", _("Pass used again while the truck is inside")
        PLATE_MISMATCH = "plate_mismatch", _("Pass shown for another vehicle")
        POSITIVE_LANDING_TEST = "positive_landing_test", _("Positive landing test")
        OVERRIDE = "override", _("Refusal overridden by a supervisor")
        OVERDUE_ARRIVAL = "overdue_arrival", _("Inside, arrival not confirmed in time")
        OVERDUE_EXIT = "overdue_exit", _("Arrived, not exited after planned departure")
        OFFLINE_CONFLICT = "offline_conflict", _("Admitted offline, refused by the server")
        OFFLINE_CLOCK = "offline_clock", _("Offline scan with a wrong clock")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    key = models.CharField(_("cause"), max_length=120, unique=True)
    trip = models.ForeignKey(
        "trucks.Trip",
        verbose_name=_("trip"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    checkpoint = models.ForeignKey(
        Checkpoint,
        verbose_name=_("checkpoint"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    scan = models.ForeignKey(
        ScanEvent,
        verbose_name=_("scan"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    # Seen and being handled: an official took it on, before it is resolved.
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-raised_at"]
        indexes = [
            models.Index(
                fields=["-raised_at"], name="alert_open_idx", condition=Q(resolved_at__isnull=True)
            ),
            models.Index(fields=["trip"], name="alert_trip_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.key})"
