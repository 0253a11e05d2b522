"""POST /api/v1/trips/{id}/repeat/, GET /api/v1/trip-series/{id}/ and
POST /api/v1/trip-series/{id}/cancel/: the answers, who is refused, and bad bodies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.factories import at, consignee_user, make_trip
from tests.factories import dispatcher as make_dispatcher
from trucks import services
from trucks.models import Trip, TripSeries, TripStatus

pytestmark = pytest.mark.django_db


def repeat_url(trip: Trip) -> str:
    return f"/api/v1/trips/{trip.pk}/repeat/"


def series_url(series_id: int, action: str = "") -> str:
    return f"/api/v1/trip-series/{series_id}/{action + '/' if action else ''}"


def post(client: Any, url: str, body: Any = None) -> Any:
    return client.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def source(dispatcher: Any, checkpoint: Any) -> Trip:
    return make_trip(dispatcher, checkpoint, planned_departure=at(12))


def test_it_repeats_the_trip_and_answers_the_series(
    api_client: Any, dispatcher: Any, source: Trip
) -> None:
    api_client.force_authenticate(dispatcher)

    r = post(api_client, repeat_url(source), {"days": 2})

    assert r.status_code == 201, r.json()
    body = r.json()
    series = TripSeries.objects.get()
    assert body["id"] == series.pk
    assert body["source_trip"] == source.pk
    assert (body["weekdays"], body["days"], body["cancelled_at"]) == ([], 2, None)
    assert body["first_date"] == series.first_date.isoformat()
    assert body["trips"][0]["id"] == source.pk
    assert len(body["trips"]) == 3
    for trip in body["trips"]:
        assert set(trip) == {"id", "reference", "status", "planned_arrival", "pass"}
        assert trip["status"] == "registered"
        assert trip["pass"]["status"] == "active"
        assert trip["pass"]["colour"] in {"green", "yellow"}

    detail = api_client.get(f"/api/v1/trips/{body['trips'][1]['id']}/").json()
    assert detail["series"] == series.pk
    assert api_client.get(series_url(series.pk)).json() == body


def test_a_trip_in_no_series_says_null(api_client: Any, dispatcher: Any, source: Trip) -> None:
    api_client.force_authenticate(dispatcher)

    assert api_client.get(f"/api/v1/trips/{source.pk}/").json()["series"] is None


def test_cancel_answers_the_series_and_how_many_were_cancelled(
    api_client: Any, dispatcher: Any, source: Trip
) -> None:
    api_client.force_authenticate(dispatcher)
    series_id = post(api_client, repeat_url(source), {"days": 2, "weekdays": []}).json()["id"]

    r = post(api_client, series_url(series_id, "cancel"))
    again = post(api_client, series_url(series_id, "cancel"))

    assert r.status_code == 200, r.json()
    assert r.json()["cancelled"] == 3
    assert r.json()["cancelled_at"] is not None
    assert {t["status"] for t in r.json()["trips"]} == {"cancelled"}
    assert {t["pass"]["status"] for t in r.json()["trips"]} == {"revoked"}
    assert again.status_code == 200
    assert again.json()["cancelled"] == 0


def test_a_day_in_the_way_refuses_the_series_naming_its_date(
    api_client: Any, dispatcher: Any, checkpoint: Any, source: Trip
) -> None:
    make_trip(
        dispatcher,
        checkpoint,
        vehicle_plate=source.vehicle.plate,
        planned_arrival=at(6 + 24),
        planned_departure=at(12 + 24),
    )
    api_client.force_authenticate(dispatcher)

    r = post(api_client, repeat_url(source), {"days": 2})

    assert r.status_code == 409
    assert r.json()["code"] == "series_refused"
    assert list(r.json()["fields"]["dates"]) == [
        timezone.localdate(source.planned_arrival + timedelta(days=1)).isoformat()
    ]
    assert not TripSeries.objects.exists()
    assert Trip.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"days": 0}, "days", "The number of days must be at least 1."),
        ({"days": 10**12}, "days", "The number of days can be at most 2147483647."),
        ({"days": 100}, "days", "Repeat for at most 6 days: the last date allowed is "),
        ({"days": "three"}, "days", "The number of days is not valid."),
        ({}, "days", "Enter the number of days."),
        ({"days": 2, "weekdays": [8]}, "weekdays", "The weekday can be at most 7."),
        ({"days": 2, "weekdays": ["x"]}, "weekdays", "The weekday is not valid."),
        ({"days": 2, "weekdays": "1,2"}, "weekdays", ""),
    ],
)
def test_bad_bodies_are_refused_with_field_messages(
    api_client: Any, dispatcher: Any, source: Trip, body: Any, field: str, message: str
) -> None:
    api_client.force_authenticate(dispatcher)

    r = post(api_client, repeat_url(source), body)

    assert r.status_code == 400, r.json()
    messages = r.json()["fields"][field]
    flat = [
        m
        for value in (messages.values() if isinstance(messages, dict) else [messages])
        for m in value
    ]
    assert any(m.startswith(message) for m in flat), messages
    assert not TripSeries.objects.exists()


def test_another_companys_trip_and_series_are_absent(
    api_client: Any, dispatcher: Any, source: Trip
) -> None:
    series = services.trip_series_create(actor=dispatcher, trip=source, days=1)
    api_client.force_authenticate(make_dispatcher())

    assert post(api_client, repeat_url(source), {"days": 1}).status_code == 404
    assert api_client.get(series_url(series.pk)).status_code == 404
    assert post(api_client, series_url(series.pk, "cancel")).status_code == 404
    assert Trip.objects.filter(series=series, status=TripStatus.REGISTERED).count() == 2


def test_the_consignee_sees_the_series_but_may_not_change_it(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    consignee = consignee_user()
    source = make_trip(
        dispatcher,
        checkpoint,
        planned_departure=at(12),
        consignee=consignee.company_membership.company_id,
    )
    series = services.trip_series_create(actor=dispatcher, trip=source, days=1)
    api_client.force_authenticate(consignee)

    assert post(api_client, repeat_url(source), {"days": 1}).status_code == 403
    assert api_client.get(series_url(series.pk)).status_code == 200
    assert post(api_client, series_url(series.pk, "cancel")).status_code == 403
    assert TripSeries.objects.count() == 1
    assert Trip.objects.filter(series=series, status=TripStatus.REGISTERED).count() == 2


def test_anonymous_is_refused(api_client: Any, dispatcher: Any, source: Trip) -> None:
    series = services.trip_series_create(actor=dispatcher, trip=source, days=1)

    assert post(api_client, repeat_url(source), {"days": 1}).status_code == 401
    assert api_client.get(series_url(series.pk)).status_code == 401
    assert post(api_client, series_url(series.pk, "cancel")).status_code == 401
