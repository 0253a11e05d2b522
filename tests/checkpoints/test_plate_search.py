"""One plate search (``trucks.selectors.vehicles_by_plate``) for staff's lookup and the
consignee's arrivals page: with or without the province character, full-width or half-width,
with separators; without the province character by the plate's end, from four characters on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from checkpoints import services
from tests.checkpoints.scanning import open_trip, token_of
from tests.factories import CompanyFactory, consignee_user
from trucks.models import Company, Trip, TripStatus, Vehicle
from trucks.selectors import vehicles_by_plate

pytestmark = pytest.mark.django_db

PLATE = "豫H88A66"
FOUND = [
    "豫H88A66",
    "H88A66",
    "Ｈ８８Ａ６６",
    "豫Ｈ８８Ａ６６",
    "豫h 88-a66",
    " h·88a66 ",
    "88A66",
    "8A66",
    "ｈ８８ａ６６",
]
NOT_FOUND = ["A66", "66", "", "  ", "京H88A66", "豫H88A6", "H88A6"]


@pytest.fixture(autouse=True)
def morning() -> Iterator[None]:
    """10:00 in the city, so the passes below are today's."""
    with time_machine.travel(
        datetime(2030, 3, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    ):
        yield


@pytest.mark.parametrize("text", FOUND)
def test_the_search_finds_the_plate(db: None, text: str) -> None:
    vehicle = Vehicle.objects.create(plate=PLATE)
    Vehicle.objects.create(plate="豫H88A67")

    assert list(vehicles_by_plate(text)) == [vehicle]


@pytest.mark.parametrize("text", NOT_FOUND)
def test_the_search_needs_the_province_or_four_characters(db: None, text: str) -> None:
    Vehicle.objects.create(plate=PLATE)

    assert list(vehicles_by_plate(text)) == []


def test_a_tail_may_name_several_vehicles(db: None) -> None:
    ours = Vehicle.objects.create(plate=PLATE)
    theirs = Vehicle.objects.create(plate="京H88A66")

    assert set(vehicles_by_plate("H88A66")) == {ours, theirs}
    assert list(vehicles_by_plate("京H88A66")) == [theirs]


def lookup(client: Any, checkpoint: Any, plate: str) -> Any:
    return client.get(
        f"/api/v1/checkpoints/{checkpoint.code}/lookup/",
        {"plate": plate},
        HTTP_ACCEPT_LANGUAGE="en",
    )


@pytest.mark.parametrize("text", FOUND)
def test_staff_find_the_pass_however_the_plate_is_typed(
    staff_client: Any, dispatcher: Any, checkpoint: Any, text: str
) -> None:
    trip = open_trip(dispatcher, checkpoint, vehicle_plate=PLATE)

    r = lookup(staff_client, checkpoint, text)

    assert r.status_code == 200, r.json()
    assert [f["trip"]["id"] for f in r.json()] == [trip.pk]


@pytest.mark.parametrize("text", NOT_FOUND[:3])
def test_staff_find_nothing_for_too_short_a_tail(
    staff_client: Any, dispatcher: Any, checkpoint: Any, text: str
) -> None:
    open_trip(dispatcher, checkpoint, vehicle_plate=PLATE)

    r = lookup(staff_client, checkpoint, text or "-")

    assert (r.status_code, r.json()) == (200, [])


def test_staff_are_shown_every_vehicle_a_tail_names(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    ours = open_trip(dispatcher, checkpoint, vehicle_plate=PLATE)
    theirs = open_trip(dispatcher, checkpoint, vehicle_plate="京H88A66")

    by_tail = lookup(staff_client, checkpoint, "H88A66")
    by_plate = lookup(staff_client, checkpoint, "京Ｈ８８Ａ６６")

    assert {f["trip"]["id"] for f in by_tail.json()} == {ours.pk, theirs.pk}
    assert [f["trip"]["id"] for f in by_plate.json()] == [theirs.pk]


@pytest.fixture
def consignee() -> Company:
    return CompanyFactory(is_consignee=True)


@pytest.fixture
def consignee_client(client: Client, consignee: Company) -> Client:
    client.force_login(consignee_user(consignee))
    return client


def inside(dispatcher: Any, checkpoint: Any, staff: Any, consignee: Company, plate: str) -> Trip:
    trip = open_trip(dispatcher, checkpoint, vehicle_plate=plate, consignee=consignee.pk)
    services.scan_perform(
        staff=staff,
        checkpoint=checkpoint,
        data=services.ScanInput(token=token_of(trip), direction="in"),
    )
    return trip


@pytest.mark.parametrize("text", FOUND)
def test_the_consignee_finds_the_truck_however_the_plate_is_typed(
    consignee_client: Client,
    consignee: Company,
    dispatcher: Any,
    checkpoint: Any,
    staff: Any,
    text: str,
) -> None:
    trip = inside(dispatcher, checkpoint, staff, consignee, PLATE)

    r = consignee_client.post("/checkpoints/arrivals/", {"code": text})

    assert r.status_code == 302, r.content.decode()
    trip.refresh_from_db()
    assert trip.status == TripStatus.ARRIVED


def test_the_consignee_is_told_a_tail_is_ambiguous(
    consignee_client: Client, consignee: Company, dispatcher: Any, checkpoint: Any, staff: Any
) -> None:
    ours = inside(dispatcher, checkpoint, staff, consignee, PLATE)
    theirs = inside(dispatcher, checkpoint, staff, consignee, "京H88A66")

    r = consignee_client.post(
        "/checkpoints/arrivals/", {"code": "Ｈ８８Ａ６６"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert r.status_code == 400
    assert "Several trucks match." in r.content.decode()
    assert {t.status for t in Trip.objects.filter(pk__in=[ours.pk, theirs.pk])} == {"inside"}
