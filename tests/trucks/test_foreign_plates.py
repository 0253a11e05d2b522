"""A plate another company holds is theirs: a trip on it is refused, by registration and by plate
correction alike, and the refusal discloses nothing of the other company (no trip reference, no
name)."""

from __future__ import annotations

from typing import Any

import pytest

from passcode_portal.errors import DomainError
from tests.factories import CompanyFactory, at, dispatcher, driver_user, make_trip, valid_plate
from trucks import services
from trucks.models import Trip, Vehicle

pytestmark = pytest.mark.django_db
URL = "/api/v1/trips/"


@pytest.fixture
def owner() -> Any:
    return dispatcher(CompanyFactory(name="焦作顺达物流有限公司"))


@pytest.fixture
def rival() -> Any:
    return dispatcher(CompanyFactory(name="郑州远航运输有限公司"))


def test_a_dispatcher_cannot_register_a_trip_on_another_companys_vehicle(
    api_client: Any, owner: Any, rival: Any, trip_payload: Any
) -> None:
    plate = valid_plate()
    services.vehicle_add(actor=owner, plate=plate)
    api_client.force_authenticate(rival)

    r = api_client.post(URL, trip_payload(vehicle_plate=plate), format="json")

    assert r.status_code == 409
    assert r.json()["code"] == "plate_taken"
    assert "vehicle_plate" in r.json()["fields"]
    assert "顺达" not in r.content.decode()
    assert not Trip.objects.exists()
    assert Vehicle.objects.get(plate=plate).company == owner.company_membership.company


def test_the_owners_trip_is_not_named_to_another_company(
    api_client: Any, owner: Any, rival: Any, trip_payload: Any
) -> None:
    api_client.force_authenticate(owner)
    first = api_client.post(URL, trip_payload(), format="json").json()
    api_client.force_authenticate(rival)

    r = api_client.post(URL, trip_payload(vehicle_plate=first["vehicle_plate"]), format="json")

    assert r.status_code == 409
    assert r.json()["code"] == "plate_taken"
    assert first["reference"] not in r.content.decode()


def test_a_driver_of_another_company_is_refused_the_plate_too(owner: Any, checkpoint: Any) -> None:
    plate = valid_plate()
    services.vehicle_add(actor=owner, plate=plate)
    driver = driver_user(CompanyFactory())

    with pytest.raises(DomainError) as exc:
        make_trip(driver, checkpoint, driver=None, vehicle_plate=plate)

    assert (exc.value.code, exc.value.status) == ("plate_taken", 409)


def test_a_plate_cannot_be_corrected_to_another_companys(
    owner: Any, rival: Any, checkpoint: Any
) -> None:
    theirs = valid_plate()
    services.vehicle_add(actor=owner, plate=theirs)
    trip = make_trip(rival, checkpoint)

    with pytest.raises(DomainError) as exc:
        services.trip_correct_plate(actor=rival, trip=trip, plate=theirs)

    assert (exc.value.code, exc.value.status) == ("plate_taken", 409)
    assert Trip.objects.get(pk=trip.pk).vehicle_id == trip.vehicle_id


def test_the_owner_still_registers_on_its_own_vehicle(owner: Any, checkpoint: Any) -> None:
    plate = valid_plate()
    services.vehicle_add(actor=owner, plate=plate)

    trip = make_trip(owner, checkpoint, vehicle_plate=plate)

    assert trip.vehicle.plate == plate


def test_a_clash_on_a_shared_vehicle_names_no_stranger_trip(checkpoint: Any) -> None:
    """Independent drivers (no company) share vehicles no company holds; one is told of a clash
    without being shown the other's trip reference."""
    plate = valid_plate()
    first_driver, second_driver = driver_user(), driver_user()
    first = make_trip(
        first_driver, checkpoint, driver=None, vehicle_plate=plate, planned_arrival=at(6)
    )

    with pytest.raises(DomainError) as exc:
        make_trip(second_driver, checkpoint, driver=None, vehicle_plate=plate)

    assert exc.value.code == "vehicle_busy"
    assert first.reference is not None and first.reference not in str(exc.value.message)
    # Its own driver is told which trip it is.
    with pytest.raises(DomainError) as own:
        make_trip(first_driver, checkpoint, driver=None, vehicle_plate=plate)
    assert first.reference in str(own.value.message)
