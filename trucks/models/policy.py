"""The versioned grading and window rules."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from places.models import RiskLevel


class Policy(models.Model):
    """The grading and window rules (docs/architecture.md, "The pass code"). Rows are never edited:
    a change is a new version, so every pass records the version that graded it and the history is
    the audit."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    red_risk_level = models.CharField(
        _("red from risk level"),
        max_length=10,
        choices=RiskLevel.choices,
        default=RiskLevel.HIGH,
        help_text=_("Origin or travel history at this level or above makes the code red."),
    )
    yellow_risk_level = models.CharField(
        _("yellow from risk level"),
        max_length=10,
        choices=RiskLevel.choices,
        default=RiskLevel.MEDIUM,
        help_text=_("Origin or travel history at this level or above makes the code yellow."),
    )
    test_max_age_hours = models.PositiveIntegerField(
        _("test valid for (hours)"),
        default=48,
        help_text=_("A negative test sampled longer than this before arrival makes it yellow."),
    )
    window_before_hours = models.PositiveIntegerField(
        _("window opens before arrival (hours)"), default=2
    )
    window_after_hours = models.PositiveIntegerField(
        _("window closes after departure (hours)"), default=2
    )
    min_lead_hours = models.PositiveIntegerField(_("registration lead time (hours)"), default=0)
    max_advance_days = models.PositiveIntegerField(
        _("registration horizon (days)"),
        default=7,
        validators=[MinValueValidator(1)],
        help_text=_("A trip may be registered at most this many days before its arrival."),
    )
    max_window_hours = models.PositiveIntegerField(_("longest standard window (hours)"), default=72)
    multi_entry_max_days = models.PositiveIntegerField(
        _("longest multi-entry window (days)"), default=7
    )
    strict_checkpoint = models.BooleanField(
        _("refuse at other checkpoints"),
        default=False,
        help_text=_("Refuse, instead of warn, when a truck arrives at another checkpoint."),
    )
    retention_days = models.PositiveIntegerField(_("personal data kept (days)"), default=28)
    # Lifecycle (the workers): when drivers are reminded, and when a truck counts as overdue.
    remind_window_hours = models.PositiveIntegerField(
        _("remind before the window opens (hours)"), default=12
    )
    remind_test_hours = models.PositiveIntegerField(
        _("remind of a stale test before arrival (hours)"),
        default=24,
        help_text=_("Drivers whose test will be stale at arrival are told this long before."),
    )
    remind_expiry_hours = models.PositiveIntegerField(
        _("remind before the pass expires while inside (hours)"), default=2
    )
    overdue_arrival_hours = models.PositiveIntegerField(
        _("arrival overdue after entry (hours)"),
        default=6,
        help_text=_("A truck inside whose arrival is not confirmed this long after entry."),
    )
    exit_grace_hours = models.PositiveIntegerField(
        _("exit overdue after planned departure (hours)"), default=2
    )
    # The checkpoint tablet (offline scanning, docs/architecture.md, "Offline"): how old the
    # passes it holds may grow before it warns staff that its verdicts may miss changes. A day
    # at most: the bundle holds no pass that ended longer ago than that.
    offline_max_age_minutes = models.PositiveIntegerField(
        _("offline data is old after (minutes)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text=_(
            "A checkpoint tablet scanning without a connection warns staff once the passes it "
            "holds are older than this."
        ),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"policy v{self.version}"
