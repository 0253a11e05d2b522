"""The register page naming the company's own vehicle and driver, as a dispatcher chooses them
in the form's pickers (the hidden ``vehicle_id`` and ``driver_id``), and a new plate or person
typed there becoming one of the company's records (docs/architecture.md, "Registration")."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.factories import (
    CompanyFactory,
    driver_user,
    valid_id_number,
    valid_phone,
    valid_plate,
)
from tests.factories import dispatcher as make_dispatcher
from tests.trucks.test_pages import client_for, errors_of, form_data
from trucks import services
from trucks.models import Driver, Trip, Vehicle
from trucks.services import PersonData
from trucks.validators import mask_id_number, mask_phone

pytestmark = pytest.mark.django_db


def _records(actor: Any) -> tuple[Vehicle, Driver]:
    vehicle = services.vehicle_add(actor=actor, plate=valid_plate())
    driver = services.driver_add(
        actor=actor, person=PersonData("孙师傅", valid_id_number(), valid_phone())
    )
    return vehicle, driver


def _chosen(checkpoint: Any, vehicle: Vehicle, driver: Driver, **overrides: Any) -> dict[str, Any]:
    """The form as the pickers leave it: the plate and name filled from the records, the ID
    number and phone as the API shows them (masked), and the records' ids."""
    chosen = {
        "plate_prefix": vehicle.plate[0],
        "plate_rest": vehicle.plate[1:],
        "vehicle_id": str(vehicle.pk),
        "driver_name": driver.name,
        "driver_id_number": mask_id_number(driver.id_number),
        "driver_phone": mask_phone(driver.phone),
        "driver_id": str(driver.pk),
    }
    return form_data(checkpoint, **(chosen | overrides))


def test_the_page_offers_dispatchers_their_records_to_choose_from(dispatcher: Any) -> None:
    body = client_for(dispatcher).get(reverse("trucks:trip-new")).content.decode()
    assert 'data-record-picker="vehicle" data-api="/api/v1/vehicles/"' in body
    assert 'data-record-picker="driver" data-api="/api/v1/drivers/"' in body
    assert 'name="vehicle_id"' in body and 'name="driver_id"' in body
    assert "js/record-picker" in body


def test_drivers_get_no_pickers_and_their_ids_are_ignored(company: Any, checkpoint: Any) -> None:
    owner = make_dispatcher(company)
    vehicle, other = _records(owner)
    user = driver_user(company)
    client = client_for(user)
    assert "data-record-picker" not in client.get(reverse("trucks:trip-new")).content.decode()

    rider = valid_id_number()
    data = form_data(
        checkpoint,
        vehicle_id=str(vehicle.pk),
        driver_id=str(other.pk),
        **{
            "co_riders-0-name": "王五",
            "co_riders-0-id_number": rider,
            "co_riders-0-phone": valid_phone(),
            "co_riders-0-driver_id": str(other.pk),
        },
    )
    response = client.post(reverse("trucks:trip-new"), data)
    assert response.status_code == 302
    trip = Trip.objects.get()
    assert trip.driver.user == user
    assert trip.vehicle.plate == "豫" + data["plate_rest"]
    assert [r.id_number for r in trip.co_riders.all()] == [rider]


def test_a_trip_registered_from_the_chosen_records(dispatcher: Any, checkpoint: Any) -> None:
    vehicle, driver = _records(dispatcher)
    client = client_for(dispatcher)
    response = client.post(reverse("trucks:trip-new"), _chosen(checkpoint, vehicle, driver))

    assert response.status_code == 302
    trip = Trip.objects.get()
    assert (trip.vehicle, trip.driver) == (vehicle, driver)
    # The masked values the page showed were not read: the record's details are the trip's.
    assert trip.driver.id_number == driver.id_number and trip.driver.phone == driver.phone
    assert Driver.objects.count() == 1 and Vehicle.objects.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert vehicle.plate in page and driver.name in page


def test_masked_values_are_ignored_whatever_they_say(dispatcher: Any, checkpoint: Any) -> None:
    vehicle, driver = _records(dispatcher)
    data = _chosen(
        checkpoint, vehicle, driver, driver_id_number="not an ID number", driver_phone=""
    )
    response = client_for(dispatcher).post(reverse("trucks:trip-new"), data)
    assert response.status_code == 302
    assert Trip.objects.get().driver == driver


def test_another_companys_records_are_refused_on_the_form(dispatcher: Any, checkpoint: Any) -> None:
    vehicle, driver = _records(make_dispatcher(CompanyFactory()))
    response = client_for(dispatcher).post(
        reverse("trucks:trip-new"), _chosen(checkpoint, vehicle, driver)
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "Your company has no vehicle with this id." in errors_of(body, "id_plate_rest")
    assert "Your company has no driver with this id." in errors_of(body, "id_driver_name")
    # Nothing typed is lost, and nothing of the other company's is added to ours.
    assert 'value="焦作市某物流园"' in body and f'value="{vehicle.plate[1:]}"' in body
    assert f'name="driver_id" value="{driver.pk}"' in body
    assert not Trip.objects.exists()
    assert Vehicle.objects.count() == 1 and Driver.objects.count() == 1


def test_a_plate_typed_over_the_chosen_vehicle_is_refused(dispatcher: Any, checkpoint: Any) -> None:
    vehicle, driver = _records(dispatcher)
    data = _chosen(checkpoint, vehicle, driver, plate_rest=valid_plate()[1:])
    response = client_for(dispatcher).post(reverse("trucks:trip-new"), data)
    assert response.status_code == 400
    assert "not the chosen vehicle" in errors_of(response.content.decode(), "id_plate_rest")


@pytest.mark.parametrize("value", ["abc", "0", "99999999999999999999"])
def test_a_garbled_record_id_is_a_field_error(dispatcher: Any, checkpoint: Any, value: str) -> None:
    vehicle, driver = _records(dispatcher)
    data = _chosen(checkpoint, vehicle, driver, vehicle_id=value)
    response = client_for(dispatcher).post(reverse("trucks:trip-new"), data)
    assert response.status_code == 400
    assert errors_of(response.content.decode(), "id_plate_rest")
    assert not Trip.objects.exists()


def test_a_new_plate_and_person_typed_join_the_companys_records(
    dispatcher: Any, checkpoint: Any
) -> None:
    client = client_for(dispatcher)
    id_number = valid_id_number()
    data = form_data(checkpoint, driver_name="周师傅", driver_id_number=id_number)
    response = client.post(reverse("trucks:trip-new"), data)
    assert response.status_code == 302

    plate = "豫" + data["plate_rest"]
    company = dispatcher.company_membership.company
    assert Vehicle.objects.get(plate=plate).company == company
    assert Driver.objects.get(id_number=id_number).company == company
    assert plate in client.get(reverse("trucks:vehicles")).content.decode()
    assert "周师傅" in client.get(reverse("trucks:drivers")).content.decode()
    # And the pickers now find them.
    found = client.get("/api/v1/drivers/", {"q": id_number[-4:]}).json()["results"]
    assert [d["name"] for d in found] == ["周师傅"]
    found = client.get("/api/v1/vehicles/", {"q": data["plate_rest"][:3]}).json()["results"]
    assert plate in [v["plate"] for v in found]


def _co_rider_chosen(driver: Driver) -> dict[str, str]:
    return {
        "co_riders-0-name": driver.name,
        "co_riders-0-id_number": mask_id_number(driver.id_number),
        "co_riders-0-phone": mask_phone(driver.phone),
        "co_riders-0-driver_id": str(driver.pk),
    }


def test_a_co_rider_chosen_from_the_records(dispatcher: Any, checkpoint: Any) -> None:
    rider = services.driver_add(
        actor=dispatcher, person=PersonData("钱师傅", valid_id_number(), valid_phone())
    )
    data = form_data(checkpoint, **_co_rider_chosen(rider))
    response = client_for(dispatcher).post(reverse("trucks:trip-new"), data)

    assert response.status_code == 302
    [row] = Trip.objects.get().co_riders.all()
    assert (row.name, row.id_number, row.phone) == (rider.name, rider.id_number, rider.phone)


def test_another_companys_driver_is_refused_as_a_co_rider(dispatcher: Any, checkpoint: Any) -> None:
    _vehicle, theirs = _records(make_dispatcher(CompanyFactory()))
    data = form_data(checkpoint, **_co_rider_chosen(theirs))
    response = client_for(dispatcher).post(reverse("trucks:trip-new"), data)

    assert response.status_code == 400
    body = response.content.decode()
    assert "Your company has no driver with this id." in errors_of(body, "id_co_riders-0-name")
    # The masked details are not checked as if typed: the one fault is the id.
    assert not errors_of(body, "id_co_riders-0-id_number")
    assert 'value="孙师傅"' in body
    assert not Trip.objects.exists()
