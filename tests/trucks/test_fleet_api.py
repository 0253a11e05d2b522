"""A dispatcher's own vehicles and drivers over the API, and trips registered from them by id
(docs/architecture.md, "Registration")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import (
    CompanyFactory,
    consignee_user,
    driver_user,
    make_trip,
    staff_user,
    valid_id_number,
    valid_phone,
    valid_plate,
)
from tests.factories import dispatcher as make_dispatcher
from trucks import services
from trucks.models import Driver, Trip, Vehicle
from trucks.roles import Role
from trucks.services import PersonData

pytestmark = pytest.mark.django_db


def _fleet(dispatcher: Any) -> tuple[list[Vehicle], list[Driver]]:
    vehicles = [services.vehicle_add(actor=dispatcher, plate=valid_plate()) for _ in range(3)]
    drivers = [
        services.driver_add(
            actor=dispatcher, person=PersonData(name, valid_id_number(), valid_phone())
        )
        for name in ("张三", "李四", "王五")
    ]
    return vehicles, drivers


def test_a_dispatcher_lists_the_companys_vehicles_and_drivers_only(
    api_client: Any, dispatcher: Any
) -> None:
    vehicles, drivers = _fleet(dispatcher)
    other = make_dispatcher(CompanyFactory())
    _fleet(other)
    api_client.force_authenticate(dispatcher)

    listed = api_client.get("/api/v1/vehicles/").json()
    assert sorted(v["plate"] for v in listed["results"]) == sorted(v.plate for v in vehicles)
    people = api_client.get("/api/v1/drivers/").json()["results"]
    assert sorted(d["id"] for d in people) == sorted(d.pk for d in drivers)
    # Masked as on the company's pages: the trip is registered from the record.
    first = next(d for d in people if d["id"] == drivers[0].pk)
    assert first["id_number"] != drivers[0].id_number
    assert first["id_number"].endswith(drivers[0].id_number[-4:])
    assert first["phone"] != drivers[0].phone


def test_search_as_you_type_by_plate_name_or_last_digits(api_client: Any, dispatcher: Any) -> None:
    vehicles, drivers = _fleet(dispatcher)
    api_client.force_authenticate(dispatcher)

    # Part of a plate, typed in lower case with a space, as people type it.
    part = vehicles[1].plate[-4:]
    found = api_client.get("/api/v1/vehicles/", {"q": f" {part[:2]} {part[2:].lower()}"}).json()
    assert vehicles[1].plate in [v["plate"] for v in found["results"]]
    assert api_client.get("/api/v1/drivers/", {"q": "李"}).json()["results"][0]["name"] == "李四"
    tail = drivers[2].id_number[-6:]
    by_id = api_client.get("/api/v1/drivers/", {"q": tail}).json()["results"]
    assert [d["id"] for d in by_id] == [drivers[2].pk]
    by_phone = api_client.get("/api/v1/drivers/", {"q": drivers[0].phone[-4:]}).json()
    assert drivers[0].pk in [d["id"] for d in by_phone["results"]]
    too_long = api_client.get("/api/v1/drivers/", {"q": "x" * 51})
    assert too_long.status_code == 400
    assert "q" in too_long.json()["fields"]


@pytest.mark.parametrize("role", ["driver", "consignee", "staff", "official", "anonymous"])
def test_only_dispatchers_see_a_companys_records(
    api_client: Any, dispatcher: Any, checkpoint: Any, role: str
) -> None:
    _fleet(dispatcher)
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    users = {
        "driver": lambda: driver_user(dispatcher.company_membership.company),
        "consignee": lambda: consignee_user(),
        "staff": lambda: staff_user(checkpoint),
        "official": lambda: _official(UserFactory(), Group),
    }
    if role != "anonymous":
        api_client.force_authenticate(users[role]())
    for url in ("/api/v1/vehicles/", "/api/v1/drivers/"):
        answer = api_client.get(url)
        assert answer.status_code in (401, 403), (role, url, answer.status_code)
        assert "results" not in answer.json()


def _official(user: Any, group: Any) -> Any:
    user.groups.add(group.objects.get(name=Role.OFFICIAL))
    return user


def test_a_trip_is_registered_from_the_records_by_id(
    api_client: Any, dispatcher: Any, trip_payload: Any
) -> None:
    vehicles, drivers = _fleet(dispatcher)
    api_client.force_authenticate(dispatcher)
    body = trip_payload(vehicle_id=vehicles[0].pk, driver_id=drivers[1].pk)
    del body["vehicle_plate"], body["driver"]

    answer = api_client.post("/api/v1/trips/", body, format="json")

    assert answer.status_code == 201, answer.json()
    trip = Trip.objects.get(pk=answer.json()["id"])
    assert trip.vehicle_id == vehicles[0].pk
    assert trip.driver_id == drivers[1].pk
    assert answer.json()["vehicle_plate"] == vehicles[0].plate
    # The driver's record is the one the trip names: no second record of the same person.
    assert Driver.objects.filter(id_number=drivers[1].id_number).count() == 1


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_another_companys_records_are_none_of_ours(
    api_client: Any, dispatcher: Any, trip_payload: Any, language: str
) -> None:
    _fleet(dispatcher)
    theirs_vehicles, theirs_drivers = _fleet(make_dispatcher(CompanyFactory()))
    api_client.force_authenticate(dispatcher)
    body = trip_payload(vehicle_id=theirs_vehicles[0].pk, driver_id=theirs_drivers[0].pk)
    del body["vehicle_plate"], body["driver"]

    answer = api_client.post("/api/v1/trips/", body, format="json", HTTP_ACCEPT_LANGUAGE=language)

    assert answer.status_code == 400
    fields = answer.json()["fields"]
    assert set(fields) == {"vehicle_id", "driver_id"}
    expected = "您的企业没有此编号的车辆。" if language == "zh-hans" else "Your company has no"
    assert fields["vehicle_id"][0].startswith(expected)
    assert not Trip.objects.exists()


def test_a_plate_or_driver_typed_beside_an_id_must_agree(
    api_client: Any, dispatcher: Any, trip_payload: Any
) -> None:
    vehicles, drivers = _fleet(dispatcher)
    api_client.force_authenticate(dispatcher)
    same = trip_payload(vehicle_id=vehicles[0].pk, vehicle_plate=vehicles[0].plate.lower())
    assert api_client.post("/api/v1/trips/", same, format="json").status_code == 201

    body = trip_payload(vehicle_id=vehicles[1].pk, vehicle_plate=vehicles[2].plate)
    body["driver_id"] = drivers[0].pk
    answer = api_client.post("/api/v1/trips/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    assert set(answer.json()["fields"]) == {"vehicle_id", "driver_id"}
    assert Trip.objects.count() == 1


@pytest.mark.parametrize("value", [0, -1, "x", 2**63, 1.5, [1]])
def test_a_malformed_id_is_refused_with_its_name(
    api_client: Any, dispatcher: Any, trip_payload: Any, value: Any
) -> None:
    api_client.force_authenticate(dispatcher)
    answer = api_client.post(
        "/api/v1/trips/", trip_payload(vehicle_id=value), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 400
    assert "vehicle" in " ".join(answer.json()["fields"]["vehicle_id"]).lower()


def test_an_independent_driver_has_no_records_to_name(
    api_client: Any, trip_payload: Any, checkpoint: Any
) -> None:
    # Another independent driver's truck: a vehicle no company holds.
    theirs = make_trip(driver_user(), checkpoint, driver=None).vehicle
    assert theirs.company is None
    api_client.force_authenticate(driver_user())
    body = trip_payload(vehicle_id=theirs.pk)
    del body["vehicle_plate"], body["driver"]

    answer = api_client.post("/api/v1/trips/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert answer.status_code == 400
    assert answer.json()["fields"]["vehicle_id"] == ["Your company has no vehicle with this id."]
    assert Trip.objects.count() == 1
