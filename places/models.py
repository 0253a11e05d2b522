"""Places: China's administrative regions (GB/T 2260) with the risk level officials set on
them, the checkpoint sites (卡口) where trucks enter the city, and the staff posted at each.
Everything else stands on these; this app imports nothing of the others."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from places.validators import validate_checkpoint_code, validate_region_code


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low risk")
    MEDIUM = "medium", _("Medium risk")
    HIGH = "high", _("High risk")


RISK_ORDER = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}


class Region(models.Model):
    """An administrative division with its GB/T 2260 code: province, city (prefecture) or county.

    A risk level set on a region applies to everything below it, so the effective level of a
    county is the highest of its own, its city's and its province's (``trucks.grading``).
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        COUNTY = "county", _("County")

    code = models.CharField(
        _("code"), max_length=6, primary_key=True, validators=[validate_region_code]
    )
    name = models.CharField(_("name"), max_length=64)
    full_name = models.CharField(_("full name"), max_length=200)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    risk_level = models.CharField(
        _("risk level"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.LOW
    )
    risk_changed_at = models.DateTimeField(_("risk level changed at"), null=True, blank=True)
    history = HistoricalRecords(
        excluded_fields=["full_name", "name", "level", "parent"],
        table_name="trucks_historicalregion",
    )

    class Meta:
        # The table keeps the name it had when regions were part of the trucks app.
        db_table = "trucks_region"
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["parent", "code"], name="region_parent_idx"),
            models.Index(
                fields=["risk_level"],
                name="region_at_risk_idx",
                condition=~Q(risk_level="low"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.code})"

    @property
    def ancestor_codes(self) -> list[str]:
        """Codes of this region and the ones above it, derived from the code itself."""
        codes = [self.code]
        if self.code[4:] != "00":
            codes.append(self.code[:4] + "00")
        if self.code[2:] != "0000":
            codes.append(self.code[:2] + "0000")
        return codes


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
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    # Where the site is (WGS-84 degrees), for the officials' map; a site without them is left
    # off it.
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(table_name="checkpoints_historicalcheckpoint")

    class Meta:
        # The table keeps the name it had when sites were part of the checkpoints app.
        db_table = "checkpoints_checkpoint"
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
    supervisor = models.BooleanField(
        _("supervisor"),
        default=False,
        help_text=_("Supervisors may override a refusal at this checkpoint, with a reason."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(table_name="checkpoints_historicalstaffassignment")

    class Meta:
        db_table = "checkpoints_staffassignment"
        verbose_name = _("staff assignment")
        verbose_name_plural = _("staff assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "checkpoint"], name="staff_assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.checkpoint.code}"
