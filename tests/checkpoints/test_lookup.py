"""GET /api/v1/checkpoints/{code}/lookup/: plate-first lookup for a driver without a phone, or
with a printed pass, finds today's pass and the token to scan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.checkpoints.scanning import active_pass, open_trip, scan, token_of
from tests.factories import at, make_trip
from trucks import services
from trucks.models import Trip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def morning() -> Iterator[None]:
    """10:00 in the city: a window opening in an hour is today's, one two days on is not."""
    with time_machine.travel(
        datetime(2030, 3, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    ):
        yield


def lookup(client: Any, checkpoint: Any, **params: str) -> Any:
    return client.get(
        f"/api/v1/checkpoints/{checkpoint.code}/lookup/", params, HTTP_ACCEPT_LANGUAGE="en"
    )


@pytest.fixture
def trip(dispatcher: Any, checkpoint: Any) -> Trip:
    return open_trip(dispatcher, checkpoint)


def test_it_finds_todays_pass_by_plate(staff_client: Any, checkpoint: Any, trip: Trip) -> None:
    plate = trip.vehicle.plate

    r = lookup(staff_client, checkpoint, plate=f" {plate[:2]}·{plate[2:].lower()} ")

    assert r.status_code == 200, r.json()
    [found] = r.json()
    assert set(found) == {"token", "pass", "trip"}
    pass_ = active_pass(trip)
    assert found["token"] == token_of(trip)
    assert (found["pass"]["id"], found["pass"]["status"]) == (pass_.pk, "active")
    assert (found["trip"]["id"], found["trip"]["plate"]) == (trip.pk, plate)
    id_number = trip.driver.id_number
    assert found["trip"]["driver"]["id_number"] == id_number[:4] + "*" * 10 + id_number[-4:]
    assert id_number not in r.content.decode()


def test_the_token_found_admits_the_truck(staff_client: Any, checkpoint: Any, trip: Trip) -> None:
    [found] = lookup(staff_client, checkpoint, plate=trip.vehicle.plate).json()

    r = scan(staff_client, checkpoint, found["token"], plate=trip.vehicle.plate)

    assert (r.json()["verdict"], r.json()["reason"]) == ("admit", "ok")
    assert r.json()["trip"]["id"] == trip.pk


def test_it_finds_a_pass_by_the_reference_on_paper(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    assert trip.reference is not None

    r = lookup(staff_client, checkpoint, reference=f"  {trip.reference.lower()} ")

    assert [f["trip"]["id"] for f in r.json()] == [trip.pk]


def test_a_blank_reference_does_not_hide_the_plate(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    r = lookup(staff_client, checkpoint, plate=trip.vehicle.plate, reference="  ")

    assert [f["trip"]["id"] for f in r.json()] == [trip.pk]


def test_another_days_pass_is_not_listed(
    staff_client: Any, dispatcher: Any, checkpoint: Any, trip: Trip
) -> None:
    later = make_trip(
        dispatcher,
        checkpoint,
        vehicle_plate=trip.vehicle.plate,
        planned_arrival=at(50),
        planned_departure=at(60),
    )

    by_plate = lookup(staff_client, checkpoint, plate=trip.vehicle.plate)
    by_reference = lookup(staff_client, checkpoint, reference=later.reference or "")

    assert [f["trip"]["id"] for f in by_plate.json()] == [trip.pk]
    assert by_reference.json() == []


def test_an_active_pass_comes_before_a_revoked_one(
    staff_client: Any, dispatcher: Any, checkpoint: Any, trip: Trip
) -> None:
    services.trip_cancel(actor=dispatcher, trip=trip)
    again = open_trip(dispatcher, checkpoint, vehicle_plate=trip.vehicle.plate)

    r = lookup(staff_client, checkpoint, plate=trip.vehicle.plate)

    assert [(f["trip"]["id"], f["pass"]["status"]) for f in r.json()] == [
        (again.pk, "active"),
        (trip.pk, "revoked"),
    ]


def test_an_unknown_plate_finds_nothing(staff_client: Any, checkpoint: Any) -> None:
    r = lookup(staff_client, checkpoint, plate="豫H00000")

    assert (r.status_code, r.json()) == (200, [])


@pytest.mark.parametrize("params", [{}, {"plate": ""}, {"plate": "  ", "reference": " "}])
def test_a_plate_or_reference_is_needed(
    staff_client: Any, checkpoint: Any, params: dict[str, str]
) -> None:
    r = lookup(staff_client, checkpoint, **params)

    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert r.json()["fields"] == {"plate": ["Enter a plate or a trip reference."]}
