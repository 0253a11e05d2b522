"""What was changed on a registered trip after its registration, by whom and when: a new driver,
a corrected plate, or a multi-entry pass that its company's whitelist entry no longer covers
becoming one of one entry and one exit. The rows are the audit the trip page and the officials'
timeline show.

``before`` and ``after`` are plain values: a plate, or a driver's name and masked ID number
(``{"plate": "豫H12345"}``, ``{"name": "张三", "id_number": "4108**********1234"}``). The full
ID number is never copied here: the driver's own row holds it, masked to everyone but officials.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trucks.models.trips import Trip


class TripChange(models.Model):
    class Kind(models.TextChoices):
        DRIVER = "driver", _("Driver changed")
        PLATE = "plate", _("Plate corrected")
        MULTI_ENTRY = "multi_entry", _("Multi-entry ended: outside the whitelist")

    trip = models.ForeignKey(
        Trip, verbose_name=_("trip"), on_delete=models.CASCADE, related_name="changes"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    before = models.JSONField(_("before"), default=dict)
    after = models.JSONField(_("after"), default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("trip change")
        verbose_name_plural = _("trip changes")
        ordering = ["trip", "at", "id"]

    def __str__(self) -> str:
        return f"{self.trip} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    @staticmethod
    def values_of(kind: str, values: dict[str, Any]) -> str:
        """The values as one line: the plate, or the driver's name and masked ID number."""
        if kind == TripChange.Kind.PLATE:
            return str(values.get("plate", ""))
        if kind == TripChange.Kind.MULTI_ENTRY:
            return str(_("Multi-entry") if values.get("multi_entry") else _("One entry, one exit"))
        return " ".join(str(values[k]) for k in ("name", "id_number") if values.get(k))

    @property
    def before_text(self) -> str:
        return self.values_of(self.kind, self.before)

    @property
    def after_text(self) -> str:
        return self.values_of(self.kind, self.after)
