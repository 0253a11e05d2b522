"""Registration side: regions, companies, drivers, vehicles, trips, passes and the grading policy.

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

from trucks import validators


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low risk")
    MEDIUM = "medium", _("Medium risk")
    HIGH = "high", _("High risk")


RISK_ORDER = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}


class Region(models.Model):
    """An administrative division with its GB/T 2260 code: province, city (prefecture) or county.

    A risk level set on a region applies to everything below it, so the effective level of a
    county is the highest of its own, its city's and its province's (see ``trucks.grading``).
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        COUNTY = "county", _("County")

    code = models.CharField(
        _("code"), max_length=6, primary_key=True, validators=[validators.validate_region_code]
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
    history = HistoricalRecords(excluded_fields=["full_name", "name", "level", "parent"])

    class Meta:
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
        "checkpoints.Checkpoint",
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


# ---------------------------------------------------------------------------------------------
# Outbox: notifications and webhook deliveries are rows first, written in the same transaction
# as the change they report, and sent by workers afterwards. A row is sent once: a worker claims
# it (pending -> sending) before sending, and its dedupe key makes the same message impossible to
# queue twice. Rows stuck in "sending" after a crash are reclaimed by a periodic sweep.


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


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
        Trip,
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
    history = HistoricalRecords(excluded_fields=["secret"])

    class Meta:
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
        Trip,
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
        verbose_name = _("sweep cursor")
        verbose_name_plural = _("sweep cursors")

    def __str__(self) -> str:
        return f"{self.name}: {self.last_id}"
