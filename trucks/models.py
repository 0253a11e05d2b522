"""Registration side: companies, drivers, vehicles, trips, passes and the grading policy.

Single-row rules live here; operations that write live in ``trucks.services``.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from places.models import Checkpoint, Region, RiskLevel
from trucks import validators


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class Company(models.Model):
    """A freight company (shipper or carrier) or a consignee (落地企业); one model serves both."""

    name = models.CharField(_("name"), max_length=200)
    uscc = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[validators.validate_uscc],
    )
    contact_name = models.CharField(_("contact person"), max_length=100)
    contact_phone = models.CharField(
        _("contact phone"), max_length=11, validators=[validators.validate_phone]
    )
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    is_consignee = models.BooleanField(
        _("receives goods"),
        default=False,
        help_text=_("Consignees confirm the arrival of trucks bound for them."),
    )
    whitelisted = models.BooleanField(_("whitelisted"), default=False)
    whitelist_until = models.DateTimeField(_("whitelisted until"), null=True, blank=True)
    whitelist_reason = models.CharField(_("whitelist reason"), max_length=300, blank=True)
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=Language.choices,
        default=Language.ZH_HANS,
        help_text=_("The language of text messages and e-mails to the company's contacts."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def is_whitelisted_at(self, when: datetime) -> bool:
        return self.whitelisted and (self.whitelist_until is None or when < self.whitelist_until)


class CompanyMember(models.Model):
    """Ties a dispatcher or consignee account to the company it acts for."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="company_membership",
    )
    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="members"
    )

    class Meta:
        verbose_name = _("company member")
        verbose_name_plural = _("company members")

    def __str__(self) -> str:
        return f"{self.user} @ {self.company}"


class Driver(models.Model):
    """A driver as a company registers them; an account is optional (drivers without one reach
    their pass through a signed link)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="driver_profile",
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="drivers",
    )
    name = models.CharField(_("name"), max_length=validators.NAME_MAX_LENGTH)
    id_number = models.CharField(
        _("ID number"),
        max_length=validators.ID_NUMBER_MAX_LENGTH,
        validators=[validators.validate_id_number],
    )
    phone = models.CharField(_("phone"), max_length=11, validators=[validators.validate_phone])
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ZH_HANS
    )
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("driver")
        verbose_name_plural = _("drivers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "id_number"],
                condition=Q(company__isnull=False),
                name="driver_unique_per_company",
            ),
            models.UniqueConstraint(
                fields=["id_number"],
                condition=Q(company__isnull=True),
                name="driver_unique_independent",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_id_number(self) -> str:
        return validators.mask_id_number(self.id_number)


class Vehicle(models.Model):
    plate = models.CharField(
        _("number plate"), max_length=8, unique=True, validators=[validators.validate_plate]
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="vehicles",
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        ordering = ["plate"]

    def __str__(self) -> str:
        return self.plate

    @property
    def new_energy(self) -> bool:
        return validators.is_new_energy_plate(self.plate)


class CargoCategory(models.TextChoices):
    GENERAL = "general", _("General cargo")
    DAILY_NECESSITIES = "daily_necessities", _("Daily necessities")
    MEDICAL = "medical", _("Medical and epidemic-prevention supplies")
    AGRICULTURAL = "agricultural", _("Agricultural produce")
    PRODUCTION = "production", _("Production materials")
    ENERGY = "energy", _("Energy (coal, fuel, gas)")
    COLD_CHAIN = "cold_chain", _("Cold-chain goods")
    POSTAL = "postal", _("Post and express parcels")
    HAZARDOUS = "hazardous", _("Hazardous goods")
    OTHER = "other", _("Other")


class TestResult(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    NONE = "none", _("No result")


class TripStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    INSIDE = "inside", _("Inside the city")
    ARRIVED = "arrived", _("Arrived at consignee")
    EXITED = "exited", _("Exited")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class Trip(models.Model):
    """One journey of one vehicle into the city, registered in advance (提前报备)."""

    # The number in the reference is the row id, so the reference is written just after the
    # insert; NULL (not "") keeps the unique constraint satisfied in between.
    reference = models.CharField(_("reference"), max_length=32, unique=True, null=True, blank=True)
    # Foreign keys that lead a composite index in Meta get no index of their own: a trip row is
    # rewritten at every entry and exit, and each index is one more write then.
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trips",
        db_index=False,
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    vehicle = models.ForeignKey(
        Vehicle,
        verbose_name=_("vehicle"),
        on_delete=models.PROTECT,
        related_name="trips",
        db_index=False,
    )
    driver = models.ForeignKey(
        Driver,
        verbose_name=_("driver"),
        on_delete=models.PROTECT,
        related_name="trips",
        db_index=False,
    )
    origin_region = models.ForeignKey(
        Region, verbose_name=_("origin"), on_delete=models.PROTECT, related_name="+"
    )
    travel_history = models.ManyToManyField(
        Region, verbose_name=_("14-day travel history"), blank=True, related_name="+"
    )
    destination_name = models.CharField(
        _("destination"), max_length=validators.DESTINATION_MAX_LENGTH
    )
    destination_address = models.CharField(
        _("destination address"), max_length=validators.ADDRESS_MAX_LENGTH
    )
    consignee = models.ForeignKey(
        Company,
        verbose_name=_("consignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inbound_trips",
        db_index=False,
    )
    entry_checkpoint = models.ForeignKey(
        Checkpoint,
        verbose_name=_("entry checkpoint"),
        on_delete=models.PROTECT,
        related_name="planned_trips",
    )
    planned_arrival = models.DateTimeField(_("planned arrival"))
    planned_departure = models.DateTimeField(_("planned departure"))
    cargo_category = models.CharField(
        _("cargo category"), max_length=20, choices=CargoCategory.choices
    )
    cargo_description = models.CharField(
        _("cargo description"), max_length=validators.CARGO_DESCRIPTION_MAX_LENGTH
    )
    test_result = models.CharField(
        _("latest test result"), max_length=10, choices=TestResult.choices
    )
    test_sampled_at = models.DateTimeField(_("test sampled at"), null=True, blank=True)
    multi_entry = models.BooleanField(_("multi-entry"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=TripStatus.choices, default=TripStatus.REGISTERED
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # When the loop closed step by step (set by the checkpoint's scans and the consignee); the
    # lifecycle workers measure overdue trucks from these.
    entered_at = models.DateTimeField(_("entered at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrival confirmed at"), null=True, blank=True)
    exited_at = models.DateTimeField(_("exited at"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("personal data removed at"), null=True, blank=True)
    # The travel history is written once, at registration, so it needs no history of its own.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("trip")
        verbose_name_plural = _("trips")
        ordering = ["-planned_arrival", "-id"]
        indexes = [
            # No index holds ``status``: a trip's status changes at every entry and exit, and an
            # update that touches no indexed column is a heap-only (HOT) update that writes no
            # index at all. Lists by status are per company, consignee or day, and filter the
            # few rows these indexes find.
            models.Index(fields=["company", "-planned_arrival"], name="trip_company_idx"),
            models.Index(fields=["driver", "-planned_arrival"], name="trip_driver_idx"),
            models.Index(fields=["consignee", "-planned_arrival"], name="trip_consignee_idx"),
            models.Index(fields=["planned_arrival"], name="trip_arrival_idx"),
            models.Index(fields=["vehicle"], name="trip_vehicle_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_departure__gt=models.F("planned_arrival")),
                name="trip_departure_after_arrival",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or f"trip {self.pk}"

    OPEN_STATUSES: ClassVar[tuple[str, ...]] = (
        TripStatus.REGISTERED,
        TripStatus.INSIDE,
        TripStatus.ARRIVED,
    )


class CoRider(models.Model):
    """A person riding with the driver (司乘人员), checked at the checkpoint."""

    trip = models.ForeignKey(
        Trip, verbose_name=_("trip"), on_delete=models.CASCADE, related_name="co_riders"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=validators.NAME_MAX_LENGTH)
    id_number = models.CharField(
        _("ID number"),
        max_length=validators.ID_NUMBER_MAX_LENGTH,
        validators=[validators.validate_id_number],
    )
    phone = models.CharField(_("phone"), max_length=11, validators=[validators.validate_phone])

    class Meta:
        verbose_name = _("co-rider")
        verbose_name_plural = _("co-riders")
        ordering = ["trip", "position"]
        constraints = [
            models.UniqueConstraint(fields=["trip", "id_number"], name="corider_unique_per_trip")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_id_number(self) -> str:
        return validators.mask_id_number(self.id_number)


class Colour(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class PassStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    COMPLETED = "completed", _("Completed")


class Pass(models.Model):
    """The QR pass of a trip. The colour is looked up at scan time, never carried in the token,
    so regrading needs no new code; the token is recomputed from (key id, id, valid_until)."""

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
    history = HistoricalRecords()

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
