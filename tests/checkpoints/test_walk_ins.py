"""POST /api/v1/checkpoints/{code}/walk-ins/: an unregistered vehicle is recorded all the same
(不漏一车), once per client scan id, with field-level errors for bad input."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.utils.dateparse import parse_datetime

from checkpoints.models import WalkIn

pytestmark = pytest.mark.django_db


def url(checkpoint: Any) -> str:
    return f"/api/v1/checkpoints/{checkpoint.code}/walk-ins/"


def post(client: Any, checkpoint: Any, **body: Any) -> Any:
    # json.dumps escapes what UTF-8 cannot carry (a lone surrogate), as a tablet's JSON may.
    return client.post(
        url(checkpoint),
        json.dumps(body),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_it_records_a_walk_in(staff_client: Any, staff: Any, checkpoint: Any) -> None:
    r = post(
        staff_client,
        checkpoint,
        plate="豫h·54321",
        outcome="sent_to_register",
        driver_name=" 赵师傅 ",
        phone="+86 139 1234 5678",
        persons=2,
        note="未报备，已引导扫码登记",
        direction="in",
    )

    assert r.status_code == 201, r.json()
    walk_in = WalkIn.objects.get()
    assert r.json() == {
        "id": walk_in.pk,
        "plate": "豫H54321",
        "driver_name": "赵师傅",
        "phone": "139****5678",
        "persons": 2,
        "note": "未报备，已引导扫码登记",
        "outcome": "sent_to_register",
        "direction": "in",
        "recorded_at": r.json()["recorded_at"],
    }
    assert parse_datetime(r.json()["recorded_at"]) == walk_in.recorded_at
    assert (walk_in.checkpoint, walk_in.staff) == (checkpoint, staff)
    assert (walk_in.plate, walk_in.outcome, walk_in.persons) == ("豫H54321", "sent_to_register", 2)
    assert walk_in.phone == "13912345678"


def test_only_plate_and_outcome_are_needed(staff_client: Any, checkpoint: Any) -> None:
    r = post(staff_client, checkpoint, plate="豫H54321", outcome="turned_back")

    assert r.status_code == 201
    walk_in = WalkIn.objects.get()
    assert (walk_in.persons, walk_in.direction, walk_in.driver_name, walk_in.phone) == (
        1,
        "in",
        "",
        "",
    )


def test_an_outgoing_walk_in_is_recorded(staff_client: Any, checkpoint: Any) -> None:
    r = post(staff_client, checkpoint, plate="豫H54321", outcome="turned_back", direction="out")

    assert r.status_code == 201
    assert WalkIn.objects.get().direction == "out"


def test_a_plate_that_does_not_parse_is_kept(staff_client: Any, checkpoint: Any) -> None:
    # A foreign or damaged plate is still a vehicle that must leave a record.
    r = post(staff_client, checkpoint, plate="ab 1234", outcome="turned_back")

    assert r.status_code == 201
    assert WalkIn.objects.get().plate == "AB1234"


def test_the_same_scan_id_is_recorded_once(staff_client: Any, checkpoint: Any) -> None:
    scan_id = str(uuid.uuid4())

    first = post(staff_client, checkpoint, plate="豫H54321", outcome="turned_back", scan_id=scan_id)
    second = post(
        staff_client, checkpoint, plate="豫H54321", outcome="turned_back", scan_id=scan_id
    )
    other = post(
        staff_client, checkpoint, plate="豫H54321", outcome="turned_back", scan_id=str(uuid.uuid4())
    )

    assert first.status_code == second.status_code == other.status_code == 201
    assert second.json() == first.json()
    assert other.json()["id"] != first.json()["id"]
    assert WalkIn.objects.count() == 2
    assert WalkIn.objects.filter(scan_id=scan_id).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "turned_back"}, "plate"),
        ({"plate": "", "outcome": "turned_back"}, "plate"),
        ({"plate": " ·- ", "outcome": "turned_back"}, "plate"),
        ({"plate": "豫H54321" * 3, "outcome": "turned_back"}, "plate"),
        ({"plate": "豫H54321"}, "outcome"),
        ({"plate": "豫H54321", "outcome": "admitted"}, "outcome"),
        ({"plate": "豫H54321", "outcome": "turned_back", "phone": "12345"}, "phone"),
        ({"plate": "豫H54321", "outcome": "turned_back", "persons": 0}, "persons"),
        ({"plate": "豫H54321", "outcome": "turned_back", "persons": 61}, "persons"),
        ({"plate": "豫H54321", "outcome": "turned_back", "persons": "many"}, "persons"),
        ({"plate": "豫H54321", "outcome": "turned_back", "direction": "up"}, "direction"),
        ({"plate": "豫H54321", "outcome": "turned_back", "scan_id": "not-a-uuid"}, "scan_id"),
        ({"plate": "豫H\ud80054321", "outcome": "turned_back"}, "plate"),
        ({"plate": "豫H54321", "outcome": "turned_back", "note": "x" * 501}, "note"),
    ],
)
def test_bad_input_is_refused_field_by_field(
    staff_client: Any, checkpoint: Any, body: dict[str, Any], field: str
) -> None:
    r = post(staff_client, checkpoint, **body)

    assert r.status_code == 400, r.json()
    assert r.json()["code"] == "validation_error"
    assert list(r.json()["fields"]) == [field]
    assert not WalkIn.objects.exists()


def test_every_fault_is_listed_at_once(staff_client: Any, checkpoint: Any) -> None:
    r = post(staff_client, checkpoint, plate="-", outcome="turned_back", phone="999")

    assert r.status_code == 400
    assert r.json()["fields"] == {
        "plate": ["Enter the number plate."],
        "phone": ["Enter an 11-digit mobile number, for example 13812345678."],
    }
