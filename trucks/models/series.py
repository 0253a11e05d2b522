"""Recurring trips (docs/architecture.md, "Recurring trips"): a series repeats one trip, the same
vehicle, driver, route and cargo, on the days after it; each member is a trip of its own with its
own pass."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trucks.models.companies import Company
from trucks.models.trips import Trip


class TripSeries(models.Model):
    """The trips registered by repeating ``source_trip`` for ``days`` days after its planned
    arrival, on the ISO ``weekdays`` chosen (none chosen: every day). ``first_date`` and
    ``last_date`` are the days of the first and last trip the repeat registered; the source trip
    joins the series as its first member (``Trip.series``)."""

    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trip_series",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source_trip = models.ForeignKey(
        Trip, verbose_name=_("repeated trip"), on_delete=models.PROTECT, related_name="+"
    )
    # ISO weekday numbers, Monday 1 to Sunday 7; empty for every day.
    weekdays = models.JSONField(_("weekdays"), default=list, blank=True)
    days = models.PositiveSmallIntegerField(_("days"))
    first_date = models.DateField(_("first date"))
    last_date = models.DateField(_("last date"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("trip series")
        verbose_name_plural = _("trip series")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=1), name="trip_series_days_positive"),
            models.CheckConstraint(
                condition=Q(last_date__gte=F("first_date")), name="trip_series_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"series {self.pk} ({self.first_date} – {self.last_date})"
