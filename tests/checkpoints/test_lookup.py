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
from tests.factories import at, make_trip, whitelisted_company
from tests.factories import dispatcher as make_dispatcher
from trucks import services
from trucks.models import Pass, PassStatus, Trip

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
    assert set(found) == {"token", "checkable", "closed_reason", "pass", "trip"}
    assert (found["checkable"], found["closed_reason"]) == (True, None)
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


def states(client: Any, checkpoint: Any, trip: Trip, **params: str) -> list[tuple[Any, ...]]:
    r = lookup(client, checkpoint, plate=trip.vehicle.plate, **params)
    assert r.status_code == 200, r.json()
    return [(f["pass"]["status"], f["checkable"], f["closed_reason"]) for f in r.json()]


def test_a_completed_pass_is_listed_as_done_with(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    for direction in ("in", "out"):
        scan(staff_client, checkpoint, token_of(trip), direction)

    for params in ({}, {"direction": "in"}, {"direction": "out"}):
        assert states(staff_client, checkpoint, trip, **params) == [("completed", False, "used")]


def test_a_cancelled_trips_pass_is_listed_as_done_with(
    staff_client: Any, dispatcher: Any, checkpoint: Any, trip: Trip
) -> None:
    services.trip_cancel(actor=dispatcher, trip=trip)

    assert states(staff_client, checkpoint, trip) == [("revoked", False, "cancelled")]


def test_an_expired_pass_may_still_let_a_truck_out(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    Pass.objects.filter(trip=trip).update(status=PassStatus.EXPIRED)

    assert states(staff_client, checkpoint, trip, direction="in") == [("expired", False, "expired")]
    # On its way out it is still checked: the exit is recorded, late.
    assert states(staff_client, checkpoint, trip, direction="out") == [("expired", True, None)]
    assert states(staff_client, checkpoint, trip) == [("expired", True, None)]


def test_a_pass_not_open_yet_or_red_is_still_checked(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    later = open_trip(dispatcher, checkpoint, planned_arrival=at(6), planned_departure=at(12))
    red = open_trip(dispatcher, checkpoint, test_result="positive", test_sampled_at=at(-3))

    assert states(staff_client, checkpoint, later, direction="in") == [("active", True, None)]
    assert states(staff_client, checkpoint, red, direction="in") == [("active", True, None)]


def test_a_multi_entry_pass_that_left_may_enter_again(staff_client: Any, checkpoint: Any) -> None:
    company = whitelisted_company()
    trip = open_trip(
        make_dispatcher(company), checkpoint, multi_entry=True, planned_departure=at(72)
    )
    for direction in ("in", "out"):
        scan(staff_client, checkpoint, token_of(trip), direction)

    assert states(staff_client, checkpoint, trip, direction="in") == [("active", True, None)]
    assert states(staff_client, checkpoint, trip, direction="out") == [("active", False, "used")]


def test_a_direction_other_than_in_or_out_is_refused(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    r = lookup(staff_client, checkpoint, plate=trip.vehicle.plate, direction="up")

    assert r.status_code == 400
    assert r.json()["fields"] == {
        "direction": ["Choose entry (in) or exit (out) as the direction."]
    }
