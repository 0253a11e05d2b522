"""The whitelist (白名单) as scoped entries: a company, optionally only some of its plates and
some cargo categories, for a validity period, with or without a priority lane at the checkpoint.

Officials manage the entries (``trucks.services.whitelist``); registration reads them for
multi-entry passes and the scan for the priority lane. The scope rule, what an entry covers, is
``WhitelistEntry.covers`` and nothing else.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from trucks.models.companies import Company


class Scope(Protocol):
    """What an entry's reach is made of: an entry, or the scan's cached copy of one."""

    @property
    def plates(self) -> Collection[str]: ...
    @property
    def cargo_categories(self) -> Collection[str]: ...
    @property
    def valid_from(self) -> datetime: ...
    @property
    def valid_until(self) -> datetime | None: ...
    @property
    def revoked_at(self) -> datetime | None: ...


def covers(scope: Scope, *, plate: str, cargo_category: str, at: datetime) -> bool:
    """Whether a scope holds a (normalised) plate and a cargo category at ``at``: inside the
    validity period and before any revocation; an empty list of plates or categories holds
    all. Stated once, for the entries and for the scan's cached copies of them."""
    return (
        in_force(scope, at)
        and (not scope.plates or plate in scope.plates)
        and (not scope.cargo_categories or cargo_category in scope.cargo_categories)
    )


def in_force(scope: Scope, at: datetime) -> bool:
    """Inside its period and not revoked, whatever the plate and cargo."""
    return (
        scope.valid_from <= at
        and (scope.valid_until is None or at < scope.valid_until)
        and (scope.revoked_at is None or at < scope.revoked_at)
    )


class WhitelistEntry(models.Model):
    """One company's place on the whitelist, within its scope. Entries are never deleted: an
    entry ends at its ``valid_until`` or when an official revokes it, and its history is the
    audit."""

    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="whitelist_entries",
    )
    # Normalised plates (trucks.validators.normalise_plate); empty for every vehicle of the
    # company. A list, not a relation to vehicles: officials may name a plate the company has
    # not registered yet.
    plates = models.JSONField(_("plates"), default=list, blank=True)
    # CargoCategory values; empty for every category.
    cargo_categories = models.JSONField(_("cargo categories"), default=list, blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(
        _("valid until"), null=True, blank=True, help_text=_("Empty for no end date.")
    )
    priority_lane = models.BooleanField(
        _("priority lane"),
        default=False,
        help_text=_("Checkpoint staff see the priority lane on the scan's verdict."),
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoke_reason = models.CharField(_("reason for revoking"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("whitelist entry")
        verbose_name_plural = _("whitelist entries")
        ordering = ["valid_until", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="whitelist_entry_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company} #{self.pk}"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def covers(self, *, plate: str, cargo_category: str, at: datetime) -> bool:
        return covers(self, plate=plate, cargo_category=cargo_category, at=at)

    def in_force_at(self, at: datetime) -> bool:
        return in_force(self, at)
