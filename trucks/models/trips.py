"""Trips (提前报备) and the people riding on them."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from passcode_portal.counted import Counted, uncounted_index
from places.models import Checkpoint, Region
from trucks import validators
from trucks.models.companies import Company
from trucks.models.fleet import Driver, Vehicle


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


class Trip(Counted):
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
    # The recurring trips this one belongs to (``trucks.models.series``), if any.
    series = models.ForeignKey(
        "trucks.TripSeries",
        verbose_name=_("series"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="trips",
        db_index=False,
    )
    # The row of an imported file the trip was registered from (sha256 of the company and the
    # row's values, ``trucks.importing.rows``): one trip per key and company, so a file
    # uploaded twice, or confirmed twice at once, registers each row once.
    import_key = models.CharField(
        _("import key"), max_length=64, blank=True, default="", editable=False
    )
    # The travel history is written once, at registration, so it needs no history of its own.
    history = HistoricalRecords(excluded_fields=["counted"])

    class Meta:
        verbose_name = _("trip")
        verbose_name_plural = _("trips")
        ordering = ["-planned_arrival", "-id"]
        indexes = [
            # Only two indexes read ``status``: the trucks inside now, which the officials'
            # figures count, and those in the city, which the offline bundle holds (few rows
            # each, of a province's million). An update that touches no indexed column is a
            # heap-only (HOT) update that writes no index at all; a status change writes the
            # indexes once, at each step of a trip. Lists by status are per company, consignee
            # or day, and filter the few rows these indexes find.
            models.Index(fields=["company", "-planned_arrival"], name="trip_company_idx"),
            models.Index(fields=["driver", "-planned_arrival"], name="trip_driver_idx"),
            models.Index(fields=["consignee", "-planned_arrival"], name="trip_consignee_idx"),
            models.Index(fields=["planned_arrival"], name="trip_arrival_idx"),
            models.Index(fields=["vehicle"], name="trip_vehicle_idx"),
            uncounted_index("trip_uncounted_idx"),
            # Few trips repeat: the index holds only those that do.
            models.Index(
                fields=["series"], name="trip_series_idx", condition=Q(series__isnull=False)
            ),
            models.Index(
                fields=["entry_checkpoint"],
                name="trip_inside_idx",
                condition=Q(status="inside"),
            ),
            # The trucks in the city now, arrived or not, whose exits the checkpoint's offline
            # bundle must hold whatever their pass's window (``checkpoints.bundle``). A status
            # change writes every index anyway (the status is in these predicates), so this costs
            # an entry per trip while it is in the city.
            models.Index(
                fields=["id"],
                name="trip_in_city_idx",
                condition=Q(status__in=["inside", "arrived"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_departure__gt=models.F("planned_arrival")),
                name="trip_departure_after_arrival",
            ),
            models.UniqueConstraint(
                fields=["company", "import_key"],
                condition=~Q(import_key=""),
                name="trip_import_key_unique",
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
