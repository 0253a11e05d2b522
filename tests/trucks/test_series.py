"""Recurring trips through the service: the dates a repeat registers, one pass each, the horizon,
all or nothing, and cancelling the series at once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from passcode_portal.errors import DomainError
from tests.factories import at, consignee_user, make_trip, valid_id_number, valid_phone
from tests.factories import dispatcher as make_dispatcher
from trucks import services
from trucks.models import Pass, PassStatus, Trip, TripSeries, TripStatus

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday morning in the city: the source trip arrives at 14:00 the same day.
MONDAY = datetime(2026, 12, 7, 8, 0, tzinfo=SHANGHAI)


@pytest.fixture
def monday() -> Any:
    # In English, so that the messages asserted hold once the Chinese catalogue has them.
    with time_machine.travel(MONDAY, tick=False), translation.override("en"):
        yield


def six_hour_trip(actor: Any, checkpoint: Any, **overrides: Any) -> Trip:
    return make_trip(actor, checkpoint, planned_departure=at(12), **overrides)


def local_days(trips: list[Trip]) -> list[date]:
    return [t.planned_arrival.astimezone(SHANGHAI).date() for t in trips]


def repeats(series: TripSeries) -> list[Trip]:
    return list(
        Trip.objects.filter(series=series)
        .exclude(pk=series.source_trip_id)
        .order_by("planned_arrival")
    )


def test_every_day_registers_a_trip_a_day_each_with_its_pass(
    monday: None, dispatcher: Any, checkpoint: Any
) -> None:
    source = six_hour_trip(dispatcher, checkpoint)

    series = services.trip_series_create(actor=dispatcher, trip=source, days=3)

    trips = repeats(series)
    assert local_days(trips) == [date(2026, 12, 8), date(2026, 12, 9), date(2026, 12, 10)]
    for n, trip in enumerate(trips, start=1):
        assert trip.planned_arrival == source.planned_arrival + timedelta(days=n)
        assert trip.planned_departure == source.planned_departure + timedelta(days=n)
        assert (trip.vehicle_id, trip.driver_id) == (source.vehicle_id, source.driver_id)
        assert trip.cargo_description == source.cargo_description
        assert [r.code for r in trip.travel_history.all()] == ["320400"]
        assert Pass.objects.filter(trip=trip, status=PassStatus.ACTIVE).count() == 1
    assert (series.first_date, series.last_date) == (date(2026, 12, 8), date(2026, 12, 10))
    source.refresh_from_db()
    assert source.series == series
    assert series.trips.count() == 4


def test_chosen_weekdays_register_only_those_days(
    monday: None, dispatcher: Any, checkpoint: Any
) -> None:
    source = six_hour_trip(dispatcher, checkpoint)

    series = services.trip_series_create(actor=dispatcher, trip=source, days=6, weekdays=[3, 5])

    assert local_days(repeats(series)) == [date(2026, 12, 9), date(2026, 12, 11)]
    assert series.weekdays == [3, 5]
    assert Pass.objects.filter(trip__series=series).count() == 3


def test_the_co_riders_and_an_old_test_come_along(
    monday: None, dispatcher: Any, checkpoint: Any
) -> None:
    rider = services.PersonData("王师傅", valid_id_number(), valid_phone())
    source = six_hour_trip(dispatcher, checkpoint, co_riders=[rider])

    series = services.trip_series_create(actor=dispatcher, trip=source, days=2)

    first, second = repeats(series)
    assert [c.name for c in second.co_riders.all()] == ["王师傅"]
    # The same sample (10 hours old), 40 and 64 hours old at arrival: past 48, yellow.
    assert second.test_sampled_at == source.test_sampled_at
    assert Pass.objects.get(trip=first).colour == "green"
    assert Pass.objects.get(trip=second).colour == "yellow"


def test_days_beyond_the_horizon_are_refused_with_the_last_date(
    monday: None, dispatcher: Any, checkpoint: Any
) -> None:
    source = six_hour_trip(dispatcher, checkpoint)

    with pytest.raises(DomainError) as refused:
        services.trip_series_create(actor=dispatcher, trip=source, days=7)

    assert refused.value.fields == {
        "days": ["Repeat for at most 6 days: the last date allowed is 2026-12-13."]
    }
    assert not TripSeries.objects.exists()
    assert Trip.objects.count() == 1


def test_an_overlap_on_one_day_refuses_the_series_and_writes_nothing(
    monday: None, dispatcher: Any, checkpoint: Any
) -> None:
    source = six_hour_trip(dispatcher, checkpoint)
    in_the_way = make_trip(
        dispatcher,
        checkpoint,
        vehicle_plate=source.vehicle.plate,
        planned_arrival=at(6 + 48),
        planned_departure=at(12 + 48),
    )

    with pytest.raises(DomainError) as refused:
        services.trip_series_create(actor=dispatcher, trip=source, days=3)

    assert refused.value.code == "series_refused"
    assert refused.value.status == 409
    assert refused.value.fields == {
        "dates": {
            "2026-12-09": [
                f"This vehicle already has trip {in_the_way.reference} in that time; cancel it "
                "or change the times."
            ]
        }
    }
    assert set(Trip.objects.values_list("pk", flat=True)) == {source.pk, in_the_way.pk}
    assert not TripSeries.objects.exists()
    assert Trip.objects.filter(series__isnull=False).count() == 0


def test_no_weekday_within_the_days_is_refused(
    monday: None, dispatcher: Any, checkpoint: Any
) -> None:
    source = six_hour_trip(dispatcher, checkpoint)

    with pytest.raises(DomainError) as refused:
        services.trip_series_create(actor=dispatcher, trip=source, days=2, weekdays=[7])

    assert refused.value.fields == {
        "weekdays": ["None of the chosen weekdays falls within these days."]
    }


def test_a_cancelled_trip_is_not_repeated(monday: None, dispatcher: Any, checkpoint: Any) -> None:
    source = six_hour_trip(dispatcher, checkpoint)
    services.trip_cancel(actor=dispatcher, trip=source)

    with pytest.raises(DomainError) as refused:
        services.trip_series_create(actor=dispatcher, trip=source, days=2)

    assert (refused.value.code, refused.value.status) == ("trip_closed", 409)


def test_only_those_who_may_change_the_trip_repeat_it(
    monday: None, dispatcher: Any, checkpoint: Any
) -> None:
    consignee = consignee_user()
    source = six_hour_trip(
        dispatcher, checkpoint, consignee=consignee.company_membership.company_id
    )

    with pytest.raises(DomainError) as refused:
        services.trip_series_create(actor=consignee, trip=source, days=2)

    assert refused.value.status == 403
    assert not TripSeries.objects.exists()


def test_cancel_cancels_the_trips_not_entered_and_skips_the_one_inside(
    monday: None, dispatcher: Any, checkpoint: Any
) -> None:
    source = six_hour_trip(dispatcher, checkpoint)
    series = services.trip_series_create(actor=dispatcher, trip=source, days=3)
    inside = repeats(series)[0]
    Trip.objects.filter(pk=inside.pk).update(status=TripStatus.INSIDE)

    result = services.trip_series_cancel(actor=dispatcher, series=series)

    assert result.cancelled == 3
    statuses = dict(Trip.objects.filter(series=series).values_list("pk", "status"))
    assert statuses.pop(inside.pk) == TripStatus.INSIDE
    assert set(statuses.values()) == {TripStatus.CANCELLED}
    assert Pass.objects.get(trip=inside).status == PassStatus.ACTIVE
    assert set(Pass.objects.filter(trip__in=statuses).values_list("status", flat=True)) == {
        PassStatus.REVOKED
    }
    series.refresh_from_db()
    assert series.cancelled_at is not None
    assert series.cancelled_by == dispatcher

    again = services.trip_series_cancel(actor=dispatcher, series=series)

    assert again.cancelled == 0
    assert Trip.objects.get(pk=inside.pk).status == TripStatus.INSIDE


def test_one_trip_of_a_series_is_cancelled_alone(
    monday: None, dispatcher: Any, checkpoint: Any
) -> None:
    source = six_hour_trip(dispatcher, checkpoint)
    series = services.trip_series_create(actor=dispatcher, trip=source, days=2)
    first, second = repeats(series)

    services.trip_cancel(actor=dispatcher, trip=first)

    assert Trip.objects.get(pk=first.pk).status == TripStatus.CANCELLED
    assert Trip.objects.get(pk=second.pk).status == TripStatus.REGISTERED
    assert services.trip_series_cancel(actor=dispatcher, series=series).cancelled == 2


def test_another_company_cannot_cancel_the_series(
    monday: None, dispatcher: Any, checkpoint: Any
) -> None:
    source = six_hour_trip(dispatcher, checkpoint)
    series = services.trip_series_create(actor=dispatcher, trip=source, days=2)

    with pytest.raises(DomainError) as refused:
        services.trip_series_cancel(actor=make_dispatcher(), series=series)

    assert refused.value.status == 403
    assert Trip.objects.filter(series=series, status=TripStatus.REGISTERED).count() == 3
