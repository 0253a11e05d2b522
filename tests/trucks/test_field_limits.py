"""One limit per field, the same in the register form and the API, and messages that name the
field in words a driver understands, in Chinese by default and in English on request."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.trucks.test_pages import errors_of, form_data
from trucks import validators
from trucks.forms.common import PersonForm
from trucks.forms.fleet import DriverForm, VehicleForm
from trucks.forms.register import TripForm
from trucks.forms.trips import PlateForm
from trucks.serializers import PersonInputSerializer, PlateInputSerializer, TripInputSerializer

pytestmark = pytest.mark.django_db

# (form field, API field) answering for the same input.
SAME_INPUT = [
    ("plate_rest", "vehicle_plate"),
    ("driver_name", "driver.name"),
    ("driver_id_number", "driver.id_number"),
    ("driver_phone", "driver.phone"),
    ("origin_region", "origin_region"),
    ("destination_name", "destination_name"),
    ("destination_address", "destination_address"),
    ("cargo_description", "cargo_description"),
]


def _api_field(path: str) -> Any:
    fields = TripInputSerializer().fields
    if "." in path:
        outer, inner = path.split(".")
        return fields[outer].fields[inner]
    return fields[path]


@pytest.mark.parametrize(("form_field", "api_field"), SAME_INPUT)
def test_the_form_and_the_api_allow_the_same_length(
    form_field: str, api_field: str, checkpoint: Any
) -> None:
    form_limit = TripForm().fields[form_field].max_length
    api_limit = _api_field(api_field).max_length

    assert form_limit is not None
    assert form_limit == api_limit


def test_people_plates_and_vehicles_share_the_limits() -> None:
    person = PersonInputSerializer().fields
    for form in (PersonForm(), DriverForm()):
        assert form.fields["name"].max_length == person["name"].max_length
        assert form.fields["id_number"].max_length == person["id_number"].max_length
        assert form.fields["phone"].max_length == person["phone"].max_length
    plate = PlateInputSerializer().fields["vehicle_plate"].max_length
    assert PlateForm().fields["plate_rest"].max_length == plate
    assert VehicleForm().fields["plate"].max_length == plate
    assert person["name"].max_length == validators.NAME_MAX_LENGTH


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh-hans", "姓名最多 50 个字符。"),
        ("en", "The name can have at most 50 characters."),
    ],
)
def test_the_api_names_the_field_that_is_too_long(
    language: str, message: str, api_client: Any, dispatcher: Any, trip_payload: Any
) -> None:
    api_client.force_authenticate(dispatcher)
    body = trip_payload()
    body["driver"]["name"] = "李" * 51

    r = api_client.post("/api/v1/trips/", body, format="json", HTTP_ACCEPT_LANGUAGE=language)

    assert r.status_code == 400
    assert r.json()["fields"]["driver"]["name"] == [message]


@pytest.mark.parametrize(
    ("language", "field", "message"),
    [
        ("zh-hans", "destination_address", "请填写目的地地址。"),
        ("en", "destination_address", "Enter the destination address."),
        ("zh-hans", "vehicle_plate", "车牌号最多 16 个字符。"),
        ("en", "planned_arrival", "The planned arrival is not a time"),
    ],
)
def test_every_api_message_names_its_field(
    language: str,
    field: str,
    message: str,
    api_client: Any,
    dispatcher: Any,
    trip_payload: Any,
) -> None:
    api_client.force_authenticate(dispatcher)
    values = {
        "destination_address": None,
        "vehicle_plate": "豫" * 17,
        "planned_arrival": "tomorrow",
    }
    body = trip_payload(**{field: values[field]})
    if values[field] is None:
        del body[field]

    r = api_client.post("/api/v1/trips/", body, format="json", HTTP_ACCEPT_LANGUAGE=language)

    assert r.status_code == 400
    assert r.json()["fields"][field][0].startswith(message)


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh-hans", "司机姓名最多 50 个字符（现有 51 个）。"),
        ("en", "The driver&#x27;s name can have at most 50 characters (it has 51)."),
    ],
)
def test_the_form_refuses_the_same_length_and_names_the_field(
    language: str, message: str, dispatcher: Any, checkpoint: Any
) -> None:
    client = Client(headers={"accept-language": language})
    client.force_login(dispatcher)

    r = client.post("/trips/new/", form_data(checkpoint, driver_name="李" * 51))

    assert r.status_code == 400
    assert message in errors_of(r.content.decode(), "id_driver_name")


def test_a_name_at_the_limit_is_accepted_by_both(
    api_client: Any, dispatcher: Any, trip_payload: Any, checkpoint: Any
) -> None:
    api_client.force_authenticate(dispatcher)
    body = trip_payload()
    body["driver"]["name"] = "李" * validators.NAME_MAX_LENGTH

    assert api_client.post("/api/v1/trips/", body, format="json").status_code == 201
    form = TripForm(form_data(checkpoint, driver_name="王" * validators.NAME_MAX_LENGTH))
    form.is_valid()
    assert "driver_name" not in form.errors
