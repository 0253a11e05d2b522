"""Checkpoint sites (卡口) and the staff assigned to them. The checkpoint issue adds scanning."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

validate_checkpoint_code = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{1,31}$",
    _("Use 2–32 capital letters, digits and hyphens, for example JZ-G55-N."),
)


class Checkpoint(models.Model):
    class Kind(models.TextChoices):
        HIGHWAY_EXIT = "highway_exit", _("Highway exit")
        NATIONAL_ROAD = "national_road", _("National road")
        PROVINCIAL_ROAD = "provincial_road", _("Provincial road")
        RAILWAY_STATION = "railway_station", _("Railway station")
        AIRPORT = "airport", _("Airport")
        LAND_PORT = "land_port", _("Land port")
        LOGISTICS_PARK = "logistics_park", _("Logistics park")

    code = models.CharField(
        _("code"), max_length=32, unique=True, validators=[validate_checkpoint_code]
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    region = models.ForeignKey(
        "trucks.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class StaffAssignment(models.Model):
    """A staff account may scan only at the checkpoints it is assigned to."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="checkpoint_assignments",
    )
    checkpoint = models.ForeignKey(
        Checkpoint,
        verbose_name=_("checkpoint"),
        on_delete=models.CASCADE,
        related_name="staff_assignments",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("staff assignment")
        verbose_name_plural = _("staff assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "checkpoint"], name="staff_assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.checkpoint.code}"
