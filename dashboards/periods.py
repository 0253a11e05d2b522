"""The period a figure covers: whole days in the deployment's time zone, both ends included, read
from ``from`` and ``to`` (YYYY-MM-DD) as the page and the API take them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from passcode_portal.errors import DomainError

# A wider range is a report, not a screen: exports serve it.
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def start(self) -> datetime:
        """The first instant of the first day, in the deployment's time zone."""
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def end(self) -> datetime:
        """The first instant after the last day."""
        return timezone.make_aware(datetime.combine(self.last + timedelta(days=1), time.min))


def today() -> date:
    return timezone.localdate()


def day_or_none(value: str | None) -> date | None:
    """A list filter's day (YYYY-MM-DD), or None when there is none or it is not a date: a
    filter that cannot be read filters nothing."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def one_day(value: str | None) -> date:
    """The day ``value`` names (YYYY-MM-DD), today without one; a refusal naming ``date``."""
    return _day(value, "date") or today()


def _day(value: str | None, field: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError(
            "invalid",
            _("Give the date as YYYY-MM-DD."),
            status=400,
            fields={field: [_("Give the date as YYYY-MM-DD.")]},
        ) from None


def period_of(first: str | None, last: str | None, *, too_long: str | None = None) -> Period:
    """The period ``first`` to ``last``; either one alone is a single day, neither is today.
    ``too_long`` words the refusal of more than MAX_DAYS for the caller (an export's)."""
    start, end = _day(first, "from"), _day(last, "to")
    start = start or end or today()
    end = end or start
    if end < start:
        message = _("The end date is before the start date.")
        raise DomainError("invalid", message, status=400, fields={"to": [message]})
    if (end - start).days >= MAX_DAYS:
        message = too_long or _("Choose at most %(days)d days; exports cover longer periods.") % {
            "days": MAX_DAYS
        }
        raise DomainError("invalid", message, status=400, fields={"to": [message]})
    return Period(start, end)
