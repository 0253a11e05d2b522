"""POST /api/v1/checkpoints/{code}/scans/{id}/confirm/: staff confirm the plate they read on
the truck and the persons they counted."""

from __future__ import annotations

from typing import Any

import pytest

from checkpoints.models import Alert, ScanEvent
from tests.checkpoints.scanning import open_trip, scan, token_of
from tests.factories import valid_id_number, valid_phone
from trucks import services
from trucks.models import Trip

pytestmark = pytest.mark.django_db


def confirm(client: Any, checkpoint: Any, pk: int, **body: Any) -> Any:
    return client.post(
        f"/api/v1/checkpoints/{checkpoint.code}/scans/{pk}/confirm/",
        body,
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


@pytest.fixture
def trip(dispatcher: Any, checkpoint: Any) -> Trip:
    co_rider = services.PersonData("王五", valid_id_number(), valid_phone())
    return open_trip(dispatcher, checkpoint, co_riders=[co_rider])


@pytest.fixture
def entry(staff_client: Any, checkpoint: Any, trip: Trip) -> int:
    r = scan(staff_client, checkpoint, token_of(trip))
    assert r.json()["reason"] == "ok"
    pk: int = r.json()["id"]
    return pk


def status_of(trip: Trip) -> str:
    trip.refresh_from_db()
    return trip.status


def test_the_registered_plate_and_persons_confirm_the_entry(
    staff_client: Any, checkpoint: Any, trip: Trip, entry: int
) -> None:
    r = confirm(staff_client, checkpoint, entry, plate=trip.vehicle.plate.lower(), persons=2)

    assert r.status_code == 200, r.json()
    data = r.json()
    assert (data["verdict"], data["reason"], data["warnings"]) == ("admit", "ok", [])
    assert data["confirmed"] is True
    assert data["trip"]["persons_expected"] == 2
    row = ScanEvent.objects.get(pk=entry)
    assert (row.observed_plate, row.persons) == (trip.vehicle.plate, 2)
    assert row.confirmed_at is not None
    assert status_of(trip) == "inside"
    assert not Alert.objects.exists()


def test_another_plate_confirmed_as_different_turns_the_entry_into_a_refusal(
    staff_client: Any, checkpoint: Any, trip: Trip, entry: int
) -> None:
    r = confirm(staff_client, checkpoint, entry, plate="豫H99999", plate_mismatch_confirmed=True)

    assert r.status_code == 200
    data = r.json()
    assert (data["verdict"], data["reason"]) == ("refuse", "plate_mismatch")
    assert data["message"].startswith("The plate does not match the pass.")
    assert data["trip"]["status"] == "registered"
    row = ScanEvent.objects.get(pk=entry)
    assert (row.verdict, row.reason, row.observed_plate) == ("refuse", "plate_mismatch", "豫H99999")
    assert status_of(trip) == "registered"
    alert = Alert.objects.get()
    assert (alert.kind, alert.trip, alert.scan_id) == ("plate_mismatch", trip, entry)
    assert alert.detail == {"observed_plate": "豫H99999", "registered_plate": trip.vehicle.plate}
    # The right truck, scanned again, gets in, with the refusal recalled.
    again = scan(staff_client, checkpoint, token_of(trip)).json()
    assert (again["reason"], again["warnings"]) == ("ok", ["refused_recently"])


def test_confirming_the_wrong_plate_twice_raises_one_alert(
    staff_client: Any, checkpoint: Any, entry: int
) -> None:
    confirm(staff_client, checkpoint, entry, plate="豫H99999", plate_mismatch_confirmed=True)
    r = confirm(staff_client, checkpoint, entry, plate="豫H99999", plate_mismatch_confirmed=True)

    assert r.status_code == 200
    assert Alert.objects.count() == 1


def test_a_different_head_count_is_a_warning_until_corrected(
    staff_client: Any, checkpoint: Any, trip: Trip, entry: int
) -> None:
    plate = trip.vehicle.plate

    wrong = confirm(staff_client, checkpoint, entry, plate=plate, persons=4)
    right = confirm(staff_client, checkpoint, entry, plate=plate, persons=2)

    assert (wrong.json()["verdict"], wrong.json()["warnings"]) == ("admit", ["persons_mismatch"])
    assert "The number of persons differs from the registration." in wrong.json()["message"]
    assert right.json()["warnings"] == []
    assert ScanEvent.objects.get(pk=entry).persons == 2
    assert status_of(trip) == "inside"


@pytest.mark.parametrize(
    "body", [{}, {"plate": ""}, {"plate": " · "}, {"plate": "豫H1", "persons": 99}]
)
def test_bad_input_is_refused(
    staff_client: Any, checkpoint: Any, trip: Trip, entry: int, body: dict[str, Any]
) -> None:
    r = confirm(staff_client, checkpoint, entry, **body)

    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert set(r.json()["fields"]) <= {"plate", "persons"}
    row = ScanEvent.objects.get(pk=entry)
    assert (row.confirmed_at, row.observed_plate) == (None, "")
    assert status_of(trip) == "inside"


def test_a_scan_without_a_trip_cannot_be_confirmed(staff_client: Any, checkpoint: Any) -> None:
    pk = scan(staff_client, checkpoint, "garbage").json()["id"]

    r = confirm(staff_client, checkpoint, pk, plate="豫H12345")

    assert r.status_code == 409
    assert r.json()["code"] == "no_trip"
