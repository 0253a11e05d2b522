"""The roll-ups the officials' figures read at a province's scale: counts of scans, walk-ins,
registrations and passes per day (and scans per hour) at each checkpoint, by what the figures
tell apart. ``dashboards.rollups`` adds each row to them once (the rows' ``counted`` flag,
``passcode_portal.counted``), and moves a count when a counted row changes what it was counted
as (a refusal overridden, a pass recoloured); ``dashboards.counting`` reads a period's figures
as the roll-ups' totals plus the rows not counted yet, in one statement, so they are exact."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from places.models import Checkpoint, Region


def _checkpoint() -> models.ForeignKey[Checkpoint]:
    return models.ForeignKey(
        Checkpoint, verbose_name=_("checkpoint"), on_delete=models.CASCADE, related_name="+"
    )


class ScanDay(models.Model):
    """Scans of a day (in the deployment's time zone) at a checkpoint."""

    day = models.DateField(_("day"))
    checkpoint = _checkpoint()
    direction = models.CharField(_("direction"), max_length=3)
    verdict = models.CharField(_("verdict"), max_length=16)
    reason = models.CharField(_("reason"), max_length=20)
    overridden = models.BooleanField(_("overridden"))
    with_pass = models.BooleanField(_("with a pass"))
    n = models.BigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("scans of a day")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "day",
                    "checkpoint",
                    "direction",
                    "verdict",
                    "reason",
                    "overridden",
                    "with_pass",
                ],
                name="scanday_key",
            )
        ]

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}: {self.n}"


class ScanHour(models.Model):
    """Scans of an hour (its start, in the deployment's time zone) at a checkpoint, admitted or
    not: what the hourly charts draw."""

    hour = models.DateTimeField(_("hour"))
    checkpoint = _checkpoint()
    direction = models.CharField(_("direction"), max_length=3)
    admitted = models.BooleanField(_("admitted"))
    n = models.BigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("scans of an hour")
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "checkpoint", "direction", "admitted"], name="scanhour_key"
            )
        ]

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}: {self.n}"


class WalkInDay(models.Model):
    day = models.DateField(_("day"))
    checkpoint = _checkpoint()
    n = models.BigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("walk-ins of a day")
        constraints = [models.UniqueConstraint(fields=["day", "checkpoint"], name="walkinday_key")]

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}: {self.n}"


class TripDay(models.Model):
    """Trips registered on a day to enter at a checkpoint."""

    day = models.DateField(_("day"))
    checkpoint = _checkpoint()
    n = models.BigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("registrations of a day")
        constraints = [models.UniqueConstraint(fields=["day", "checkpoint"], name="tripday_key")]

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}: {self.n}"


class OriginDay(models.Model):
    """Trips registered on a day to enter at a checkpoint, by the region they start in."""

    day = models.DateField(_("day"))
    checkpoint = _checkpoint()
    origin = models.ForeignKey(
        Region, verbose_name=_("origin"), on_delete=models.CASCADE, related_name="+"
    )
    n = models.BigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("registrations of a day by origin")
        constraints = [
            models.UniqueConstraint(fields=["day", "checkpoint", "origin"], name="originday_key")
        ]

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}: {self.n}"


class PassDay(models.Model):
    """Passes issued on a day for trips entering at a checkpoint, by their colour now."""

    day = models.DateField(_("day"))
    checkpoint = _checkpoint()
    colour = models.CharField(_("colour"), max_length=8)
    n = models.BigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("passes of a day")
        constraints = [
            models.UniqueConstraint(fields=["day", "checkpoint", "colour"], name="passday_key")
        ]

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}: {self.n}"
