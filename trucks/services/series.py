"""Recurring trips (docs/architecture.md, "Recurring trips"): a trip repeated on the days after
it, each repeat registered by ``trip_register`` itself, so every rule of a registration holds for
each; and the series cancelled at once. The driver is told once for the series, not per trip."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from passcode_portal.errors import DomainError, PermissionDenied
from trucks import signals
from trucks.models import Policy, Trip, TripSeries, TripStatus
from trucks.services.changes import check_may_change, trip_cancelled
from trucks.services.inputs import FieldErrors, PersonData, TripData
from trucks.services.policy import policy_current
from trucks.services.registration import trip_register

# A series spans a year at most, whatever the horizon: the bound of the loop and of the input.
MAX_SERIES_DAYS = 366
ISO_WEEKDAYS = range(1, 8)  # Monday 1 to Sunday 7
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class SeriesCancelled:
    series: TripSeries
    cancelled: int


@transaction.atomic
def trip_series_create(
    *, actor: User, trip: Trip, days: int, weekdays: Sequence[int] = ()
) -> TripSeries:
    """Repeat ``trip`` on each of the ``days`` days after its planned arrival whose ISO weekday
    is in ``weekdays`` (none: every day), all or nothing: if any day cannot be registered,
    nothing is, and the refusal names each such date with its messages."""
    source = (
        Trip.objects.select_for_update()
        .select_related("vehicle", "driver", "entry_checkpoint")
        .get(pk=trip.pk)
    )
    check_may_change(actor, source)
    if source.status not in Trip.OPEN_STATUSES:
        raise DomainError(
            "trip_closed",
            _("This trip is cancelled or closed; it cannot be repeated."),
            status=409,
        )
    offsets = _offsets(source, policy_current(), days, weekdays)
    dates = [_day_of(source.planned_arrival, d) for d in offsets]
    series = TripSeries.objects.create(
        company=source.company,
        created_by=actor,
        source_trip=source,
        weekdays=sorted(set(weekdays)),
        days=days,
        first_date=dates[0],
        last_date=dates[-1],
    )
    template = _template_of(source)
    trips: list[Trip] = []
    refused: dict[str, list[str]] = {}
    statuses: set[int] = set()
    for offset, day in zip(offsets, dates, strict=True):
        try:
            trips.append(
                trip_register(actor=actor, data=_shifted(template, offset), announce=False)
            )
        except PermissionDenied:
            raise
        except DomainError as exc:  # its own savepoint is rolled back; the others go below
            refused[day.isoformat()] = _messages_of(exc)
            statuses.add(exc.status)
    if refused:
        raise DomainError(
            "series_refused",
            _("Nothing was registered: the trip cannot be repeated on %(dates)s.")
            % {"dates": ", ".join(refused)},
            fields={"dates": refused},
            status=409 if 409 in statuses else 400,
        )
    Trip.objects.filter(pk__in=[t.pk for t in trips]).update(series=series)
    # The source joins as the first member, unless it already belongs to another series, which
    # it stays in (cancelling one series must not reach into another's trips).
    Trip.objects.filter(pk=source.pk, series__isnull=True).update(series=series)
    signals.trip_series_registered.send(sender=TripSeries, series=series, trips=trips)
    return series


def _offsets(source: Trip, policy: Policy, days: int, weekdays: Sequence[int]) -> list[int]:
    """The days after the source's arrival to register, or the field errors of the request.
    The horizon is ``trip_register``'s: an arrival at most ``max_advance_days`` from now."""
    errors = FieldErrors()
    horizon = timezone.now() + timedelta(days=policy.max_advance_days)
    last_allowed = min((horizon - source.planned_arrival) // _DAY, MAX_SERIES_DAYS)
    if days < 1:
        errors.add("days", _("Repeat the trip for at least 1 day."))
    elif last_allowed < 1:
        errors.add(
            "days",
            _(
                "The next day is beyond the registration horizon of %(n)d days; repeat this "
                "trip later."
            )
            % {"n": policy.max_advance_days},
        )
    elif days > last_allowed:
        errors.add(
            "days",
            _("Repeat for at most %(n)d days: the last date allowed is %(date)s.")
            % {
                "n": last_allowed,
                "date": _day_of(source.planned_arrival, last_allowed).isoformat(),
            },
        )
    if any(w not in ISO_WEEKDAYS for w in weekdays):
        errors.add("weekdays", _("Weekdays are numbered 1 (Monday) to 7 (Sunday)."))
    errors.raise_if_any()
    chosen = set(weekdays)
    offsets = [
        d
        for d in range(1, days + 1)
        if not chosen or _day_of(source.planned_arrival, d).isoweekday() in chosen
    ]
    if not offsets:
        errors.add("weekdays", _("None of the chosen weekdays falls within these days."))
        errors.raise_if_any()
    return offsets


def _day_of(moment: datetime, offset: int) -> date:
    return timezone.localdate(_shift(moment, offset))


def _shift(moment: datetime, offset: int) -> datetime:
    # Added in the site's zone, so each repeat keeps the wall-clock time of the source.
    return timezone.localtime(moment) + offset * _DAY


def _template_of(source: Trip) -> TripData:
    """What the source trip was registered with, as a registration names it."""
    driver = source.driver
    return TripData(
        vehicle_plate=source.vehicle.plate,
        driver=PersonData(driver.name, driver.id_number, driver.phone),
        co_riders=tuple(PersonData(c.name, c.id_number, c.phone) for c in source.co_riders.all()),
        origin_region=source.origin_region_id,
        travel_history=tuple(r.code for r in source.travel_history.all()),
        destination_name=source.destination_name,
        destination_address=source.destination_address,
        consignee=source.consignee_id,
        entry_checkpoint=source.entry_checkpoint.code,
        planned_arrival=source.planned_arrival,
        planned_departure=source.planned_departure,
        cargo_category=source.cargo_category,
        cargo_description=source.cargo_description,
        test_result=source.test_result,
        test_sampled_at=source.test_sampled_at,
        multi_entry=source.multi_entry,
    )


def _shifted(template: TripData, offset: int) -> TripData:
    """The repeat ``offset`` days later. The sample time stays: a test that is then too old is
    graded as the policy says."""
    return dataclasses.replace(
        template,
        planned_arrival=_shift(template.planned_arrival, offset),
        planned_departure=_shift(template.planned_departure, offset),
    )


def _messages_of(exc: DomainError) -> list[str]:
    """What a day's refusal says: the field messages of a validation error, else its detail
    (which names what the fields' short message cannot, e.g. the trip in the way)."""
    if exc.code == "validation_error" and exc.fields:
        return list(dict.fromkeys(_leaves(exc.fields)))
    return [str(exc.message)]


def _leaves(value: Any) -> Iterable[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    else:
        yield str(value)


@transaction.atomic
def trip_series_cancel(*, actor: User, series: TripSeries) -> SeriesCancelled:
    """Cancel every trip of the series that has not entered yet, each as ``trip_cancel`` does
    (its pass revoked); trips inside, arrived, closed or cancelled already are left as they are.
    A second call finds nothing left to cancel and tells nobody again."""
    series = TripSeries.objects.select_for_update().select_related("source_trip").get(pk=series.pk)
    check_may_change(actor, series.source_trip)
    now = timezone.now()
    trips = list(
        Trip.objects.select_for_update()
        .filter(series=series, status=TripStatus.REGISTERED)
        .select_related("driver", "vehicle")
        .order_by("planned_arrival", "id")
    )
    for trip in trips:
        trip_cancelled(actor=actor, trip=trip, now=now)
    if series.cancelled_at is None:
        series.cancelled_at = now
        series.cancelled_by = actor
        series.save(update_fields=["cancelled_at", "cancelled_by"])
    if trips:
        signals.trip_series_cancelled.send(sender=TripSeries, series=series, trips=trips)
    return SeriesCancelled(series=series, cancelled=len(trips))
