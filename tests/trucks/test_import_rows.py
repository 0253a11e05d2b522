"""Each row of an import is checked as POST /api/v1/trips/ checks a trip, with the same
messages, reported by the spreadsheet's row and the column as written; and what only the whole
file shows: a row repeated, one vehicle twice at overlapping times."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from tests.factories import CompanyFactory, valid_id_number, valid_phone
from tests.trucks.importing import checked, csv_bytes, errors_of, good_row, local, registered
from trucks.importing import columns
from trucks.models import Trip, TripImportRow

pytestmark = pytest.mark.django_db


def _api_fields(api_client: Any, dispatcher: Any, body: dict[str, Any]) -> Any:
    api_client.force_authenticate(dispatcher)
    response = api_client.post("/api/v1/trips/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (400, 409), response.json()
    return response.json()["fields"]


@pytest.mark.parametrize(
    ("cells", "column", "api_body", "api_path"),
    [
        ({"vehicle_plate": "XX123"}, "vehicle_plate", {"vehicle_plate": "XX123"}, "vehicle_plate"),
        (
            {"driver_id_number": "410802198506120010"},
            "driver_id_number",
            {"driver": {"name": "李", "id_number": "410802198506120010", "phone": valid_phone(5)}},
            "driver.id_number",
        ),
        (
            {"driver_phone": "1234"},
            "driver_phone",
            {"driver": {"name": "李", "id_number": valid_id_number(5), "phone": "1234"}},
            "driver.phone",
        ),
        ({"origin_region": "999999"}, "origin_region", {"origin_region": "999999"}, None),
        ({"travel_history": "320400 888888"}, "travel_history", None, None),
        ({"planned_departure": local(7)}, "planned_departure", None, None),
        ({"entry_checkpoint": "NOPE"}, "entry_checkpoint", {"entry_checkpoint": "NOPE"}, None),
        ({"cargo_category": "gold"}, "cargo_category", {"cargo_category": "gold"}, None),
        ({"planned_arrival": "tomorrow at noon"}, "planned_arrival", None, None),
        ({"test_result": "maybe"}, "test_result", {"test_result": "maybe"}, None),
    ],
)
def test_each_bad_cell_is_reported_with_its_row_and_column_and_the_apis_message(
    api_client: Any,
    dispatcher: Any,
    checkpoint: Any,
    trip_payload: Any,
    cells: dict[str, str],
    column: str,
    api_body: dict[str, Any] | None,
    api_path: str | None,
) -> None:
    with translation.override("en"):
        headers = columns.headers()
        rows = [good_row(checkpoint.code, 11), good_row(checkpoint.code, 12, **cells)]
        trip_import = checked(dispatcher, csv_bytes(rows, headers))
        label = columns.label(column)
    assert (trip_import.valid, trip_import.invalid) == (1, 1)
    found = errors_of(trip_import)
    assert [(row, col) for row, col, _m in found] == [(3, label)]
    if api_body is not None:
        # The same message the single-trip API gives for the same value.
        fields = _api_fields(api_client, dispatcher, trip_payload(**api_body))
        for part in (api_path or column).split("."):
            fields = fields[part]
        assert found[0][2] in fields


def test_an_unknown_consignee_and_a_known_one_by_name_or_id(
    dispatcher: Any, checkpoint: Any
) -> None:
    consignee = CompanyFactory(is_consignee=True, name="焦作市第一物流园")
    not_one = CompanyFactory(name="不是收货方")
    rows = [
        good_row(checkpoint.code, 21, consignee="焦作市第一物流园"),
        good_row(checkpoint.code, 22, consignee=str(consignee.pk)),
        good_row(checkpoint.code, 23, consignee="没有这家"),
        good_row(checkpoint.code, 24, consignee=str(not_one.pk)),
        good_row(checkpoint.code, 25, consignee=not_one.name),
    ]
    with translation.override("en"):
        trip_import = checked(dispatcher, csv_bytes(rows))
    assert [(r, c) for r, c, _m in errors_of(trip_import)] == [
        (4, "consignee"),
        (5, "consignee"),
        (6, "consignee"),
    ]
    assert errors_of(trip_import)[1][2] == "Choose a consignee from the list."
    trip_import = registered(trip_import)
    assert trip_import.registered == 2
    assert set(Trip.objects.values_list("consignee_id", flat=True)) == {consignee.pk}


def test_co_riders_errors_name_their_columns_and_a_fifth_gets_the_services_message(
    dispatcher: Any, checkpoint: Any
) -> None:
    riders = {}
    for n in range(1, 6):
        riders |= {
            f"co_rider_{n}_name": f"乘客{n}",
            f"co_rider_{n}_id_number": valid_id_number(900 + n),
            f"co_rider_{n}_phone": valid_phone(900 + n),
        }
    bad_phone = {**riders, "co_rider_2_phone": "12"}
    del bad_phone["co_rider_5_name"], bad_phone["co_rider_5_id_number"]
    del bad_phone["co_rider_5_phone"]
    four = {k: v for k, v in riders.items() if not k.startswith("co_rider_5")}
    with translation.override("en"):
        rows = [
            good_row(checkpoint.code, 31, **riders),
            good_row(checkpoint.code, 32, **bad_phone),
            good_row(checkpoint.code, 33, **four),
        ]
        trip_import = checked(dispatcher, csv_bytes(rows))
    assert errors_of(trip_import) == [
        (2, "co_rider_5_name", "At most 4 people ride with the driver."),
        (3, "co_rider_2_phone", "Enter an 11-digit mobile number, for example 13812345678."),
    ]
    trip_import = registered(trip_import)
    assert trip_import.registered == 1
    assert Trip.objects.get().co_riders.count() == 4


def test_a_repeated_row_and_an_overlapping_one_are_reported_with_the_row_they_repeat(
    dispatcher: Any, checkpoint: Any
) -> None:
    first = good_row(checkpoint.code, 41)
    overlapping = good_row(
        checkpoint.code,
        42,
        vehicle_plate=first["vehicle_plate"],
        planned_arrival=local(20),
        planned_departure=local(40),
    )
    later = good_row(
        checkpoint.code,
        43,
        vehicle_plate=first["vehicle_plate"],
        planned_arrival=local(50),
        planned_departure=local(60),
    )
    with translation.override("en"):
        trip_import = checked(dispatcher, csv_bytes([first, overlapping, first, later]))
    assert errors_of(trip_import) == [
        (3, "vehicle_plate", "The same vehicle is on row 2 at an overlapping time."),
        (4, "", "Same as row 2."),
    ]
    assert registered(trip_import).registered == 2


def test_a_vehicle_already_booked_is_reported_as_the_api_reports_it(
    dispatcher: Any, checkpoint: Any
) -> None:
    row = good_row(checkpoint.code, 51)
    assert registered(checked(dispatcher, csv_bytes([row]))).registered == 1
    again = dict(row, cargo_description="另一批货")  # other values: another key
    with translation.override("en"):
        trip_import = checked(dispatcher, csv_bytes([again]))
    assert errors_of(trip_import) == [
        (2, "vehicle_plate", "Already registered for an overlapping trip.")
    ]


def test_a_row_booked_between_the_check_and_the_confirmation_is_reported_not_registered(
    dispatcher: Any, checkpoint: Any
) -> None:
    row = good_row(checkpoint.code, 61)
    other = good_row(checkpoint.code, 62)
    first = checked(dispatcher, csv_bytes([row, other]))
    with translation.override("en"):
        second = checked(dispatcher, csv_bytes([dict(row, cargo_description="改了")]))
    assert (first.valid, second.valid) == (2, 1)
    registered(first)
    second = registered(second)
    assert (second.status, second.registered, second.invalid) == ("done", 0, 1)
    assert errors_of(second) == [
        (2, "vehicle_plate", "Already registered for an overlapping trip.")
    ]
    assert Trip.objects.count() == 2
    assert TripImportRow.objects.filter(trip_import=first, trip__isnull=False).count() == 2
