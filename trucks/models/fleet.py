"""A company's drivers and vehicles."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from trucks import validators
from trucks.models.companies import Company, Language


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
