"""The pages of recurring trips: the "Repeat this trip" form on the trip page, the series' page
and cancelling the series behind a confirmation; who may open what."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import at, consignee_user, make_trip
from tests.factories import dispatcher as make_dispatcher
from tests.trucks.test_pages import client_for, errors_of
from trucks import services
from trucks.models import Trip, TripSeries, TripStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(dispatcher: Any, checkpoint: Any) -> Trip:
    return make_trip(dispatcher, checkpoint, planned_departure=at(12))


def repeat(client: Client, trip: Trip, **data: Any) -> Any:
    return client.post(f"/trips/{trip.pk}/repeat/", {f"repeat-{k}": v for k, v in data.items()})


def test_the_owner_sees_the_repeat_form(dispatcher: Any, source: Trip) -> None:
    html = client_for(dispatcher).get(f"/trips/{source.pk}/").content.decode()

    assert "Repeat this trip" in html
    assert f'action="/trips/{source.pk}/repeat/"' in html
    assert html.count('name="repeat-weekdays"') == 7


def test_the_consignee_sees_no_repeat_form(dispatcher: Any, checkpoint: Any) -> None:
    consignee = consignee_user()
    trip = make_trip(
        dispatcher,
        checkpoint,
        planned_departure=at(12),
        consignee=consignee.company_membership.company_id,
    )

    html = client_for(consignee).get(f"/trips/{trip.pk}/").content.decode()

    assert "Repeat this trip" not in html


def test_repeating_registers_the_days_and_shows_the_series(dispatcher: Any, source: Trip) -> None:
    client = client_for(dispatcher)

    r = repeat(client, source, days="3")

    series = TripSeries.objects.get()
    assert r.status_code == 302
    assert r["Location"] == f"/trips/series/{series.pk}/"
    page = client.get(r["Location"]).content.decode()
    assert "3 trips registered, each with its own pass" in page
    trips = Trip.objects.filter(series=series).order_by("planned_arrival")
    assert trips.count() == 4
    for trip in trips:
        assert trip.reference in page
        assert f'href="/trips/{trip.pk}/"' in page
    assert page.count('data-status="registered"') == 4
    assert "Cancel the whole series" in page


def test_chosen_weekdays_are_kept(dispatcher: Any, source: Trip) -> None:
    client = client_for(dispatcher)
    weekday = (source.planned_arrival.astimezone().isoweekday() % 7) + 1  # the next day's

    client.post(f"/trips/{source.pk}/repeat/", {"repeat-days": "6", "repeat-weekdays": [weekday]})

    series = TripSeries.objects.get()
    assert series.weekdays == [weekday]
    assert Trip.objects.filter(series=series).count() == 2


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("0", "The number of days must be at least 1."),
        ("", "Enter the number of days."),
        ("abc", "The number of days is not valid."),
        ("30", "Repeat for at most 6 days: the last date allowed is "),
    ],
)
def test_errors_are_shown_on_the_form_with_what_was_typed(
    dispatcher: Any, source: Trip, days: str, message: str
) -> None:
    r = repeat(client_for(dispatcher), source, days=days, weekdays="3")

    assert r.status_code == 400
    html = r.content.decode()
    assert message in errors_of(html, "id_repeat-days")
    assert f'value="{days}"' in html or days == ""
    assert '<details class="tool" open id="repeat">' in html
    assert not TripSeries.objects.exists()


def test_a_day_in_the_way_is_named_on_the_form(
    dispatcher: Any, checkpoint: Any, source: Trip
) -> None:
    in_the_way = make_trip(
        dispatcher,
        checkpoint,
        vehicle_plate=source.vehicle.plate,
        planned_arrival=at(30),
        planned_departure=at(36),
    )

    r = repeat(client_for(dispatcher), source, days="2")

    assert r.status_code == 400
    html = r.content.decode()
    assert "Nothing was registered" in html
    assert in_the_way.reference in html
    assert Trip.objects.count() == 2


def test_cancelling_the_series_asks_first_then_cancels(dispatcher: Any, source: Trip) -> None:
    series = services.trip_series_create(actor=dispatcher, trip=source, days=2)
    client = client_for(dispatcher)
    url = f"/trips/series/{series.pk}/cancel/"

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "3 trips of" in confirm.content.decode()
    assert Trip.objects.filter(series=series, status=TripStatus.REGISTERED).count() == 3

    done = client.post(url, follow=True)

    assert "3 trips are cancelled and their passes revoked." in done.content.decode()
    assert Trip.objects.filter(series=series, status=TripStatus.CANCELLED).count() == 3
    assert "Cancel the whole series" not in done.content.decode()


def test_another_company_finds_no_series_nor_trip(dispatcher: Any, source: Trip) -> None:
    series = services.trip_series_create(actor=dispatcher, trip=source, days=1)
    other = client_for(make_dispatcher())

    assert repeat(other, source, days="1").status_code == 404
    assert other.get(f"/trips/series/{series.pk}/").status_code == 404
    assert other.post(f"/trips/series/{series.pk}/cancel/").status_code == 404
    assert TripSeries.objects.count() == 1


def test_the_consignee_sees_the_series_but_may_not_change_it(
    dispatcher: Any, checkpoint: Any
) -> None:
    consignee = consignee_user()
    trip = make_trip(
        dispatcher,
        checkpoint,
        planned_departure=at(12),
        consignee=consignee.company_membership.company_id,
    )
    series = services.trip_series_create(actor=dispatcher, trip=trip, days=1)
    client = client_for(consignee)

    page = client.get(f"/trips/series/{series.pk}/")
    assert page.status_code == 200
    assert "Cancel the whole series" not in page.content.decode()
    assert repeat(client, trip, days="1").status_code == 403
    assert client.post(f"/trips/series/{series.pk}/cancel/").status_code == 403
    assert Trip.objects.filter(series=series, status=TripStatus.REGISTERED).count() == 2


def test_anonymous_is_sent_to_sign_in(dispatcher: Any, source: Trip) -> None:
    series = services.trip_series_create(actor=dispatcher, trip=source, days=1)
    client = Client()

    for response in (
        repeat(client, source, days="1"),
        client.get(f"/trips/series/{series.pk}/"),
        client.post(f"/trips/series/{series.pk}/cancel/"),
    ):
        assert response.status_code == 302
        assert "/login/" in response["Location"] or "/accounts/" in response["Location"]
    assert TripSeries.objects.count() == 1
