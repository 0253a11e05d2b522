"""Every message of the walk-in, confirm and override forms names its field, so that each reads on
its own where the tablet shows it ("Enter the number plate.", never "This field may not be
blank.")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from checkpoints.models import ScanEvent, WalkIn
from tests.checkpoints.scanning import open_trip, scan, token_of
from tests.factories import at, staff_user

pytestmark = pytest.mark.django_db

# What Django and DRF say of any field: none of it may reach the tablet.
STOCK = (
    "This field",
    "this field",
    "is not a valid choice",
    "Ensure this",
    "A valid integer",
    "Must be a valid",
    "Remove the invalid characters.",
)


def post(client: Any, url: str, body: Any) -> Any:
    # json.dumps escapes what UTF-8 cannot carry (a lone surrogate), as a tablet's JSON may.
    return client.post(
        url, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )


def fields_of(r: Any) -> dict[str, list[str]]:
    assert r.status_code == 400, r.json()
    assert r.json()["code"] == "validation_error"
    fields: dict[str, list[str]] = r.json()["fields"]
    for messages in fields.values():
        for message in messages:
            assert not any(stock in message for stock in STOCK), message
    return fields


OK = {"plate": "豫H54321", "outcome": "turned_back"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"outcome": "turned_back"}, {"plate": ["Enter the number plate."]}),
        ({**OK, "plate": ""}, {"plate": ["Enter the number plate."]}),
        ({**OK, "plate": None}, {"plate": ["Enter the number plate."]}),
        ({**OK, "plate": " ·- "}, {"plate": ["Enter the number plate."]}),
        (
            {**OK, "plate": "豫H54321" * 3},
            {"plate": ["The number plate can have at most 16 characters."]},
        ),
        (
            {**OK, "plate": "豫H\ud80054321"},
            {"plate": ["Remove the invalid characters from the number plate."]},
        ),
        ({"plate": "豫H54321"}, {"outcome": ["Enter the outcome."]}),
        ({**OK, "outcome": "admitted"}, {"outcome": ["The outcome is not one of the choices."]}),
        (
            {**OK, "driver_name": "赵" * 51},
            {"driver_name": ["The driver's name can have at most 50 characters."]},
        ),
        (
            {**OK, "phone": "12345"},
            {"phone": ["Enter an 11-digit mobile number, for example 13812345678."]},
        ),
        (
            {**OK, "phone": "1" * 21},
            {"phone": ["The driver's phone can have at most 20 characters."]},
        ),
        ({**OK, "persons": 0}, {"persons": ["The number of persons must be at least 1."]}),
        ({**OK, "persons": 61}, {"persons": ["The number of persons can be at most 60."]}),
        ({**OK, "persons": "many"}, {"persons": ["The number of persons is not valid."]}),
        ({**OK, "note": "x" * 501}, {"note": ["The note can have at most 500 characters."]}),
        ({**OK, "direction": "up"}, {"direction": ["The direction is not one of the choices."]}),
        ({**OK, "scan_id": "not-a-uuid"}, {"scan_id": ["The client scan id is not valid."]}),
        (
            {"plate": "", "outcome": "", "persons": -1},
            {
                "plate": ["Enter the number plate."],
                "outcome": ["The outcome is not one of the choices."],
                "persons": ["The number of persons must be at least 1."],
            },
        ),
    ],
)
def test_the_walk_in_messages_name_their_fields(
    staff_client: Any, checkpoint: Any, body: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    r = post(staff_client, f"/api/v1/checkpoints/{checkpoint.code}/walk-ins/", body)

    assert fields_of(r) == expected
    assert not WalkIn.objects.exists()


@pytest.fixture
def entry(staff_client: Any, dispatcher: Any, checkpoint: Any) -> int:
    pk: int = scan(staff_client, checkpoint, token_of(open_trip(dispatcher, checkpoint))).json()[
        "id"
    ]
    return pk


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"plate": ["Enter the plate read on the truck."]}),
        ({"plate": ""}, {"plate": ["Enter the plate read on the truck."]}),
        ({"plate": " · "}, {"plate": ["Enter the number plate you read on the truck."]}),
        (
            {"plate": "豫H1234567890ABCDEF"},
            {"plate": ["The plate read on the truck can have at most 16 characters."]},
        ),
        (
            {"plate": "豫H12345", "persons": 99},
            {"persons": ["The number of persons counted can be at most 60."]},
        ),
        (
            {"plate": "豫H12345", "persons": "two"},
            {"persons": ["The number of persons counted is not valid."]},
        ),
        (
            {"plate": "豫H12345", "plate_mismatch_confirmed": "perhaps"},
            {"plate_mismatch_confirmed": ["The confirmation that the plates differ is not valid."]},
        ),
    ],
)
def test_the_confirm_messages_name_their_fields(
    staff_client: Any, checkpoint: Any, entry: int, body: dict[str, Any], expected: Any
) -> None:
    r = post(staff_client, f"/api/v1/checkpoints/{checkpoint.code}/scans/{entry}/confirm/", body)

    assert fields_of(r) == expected
    assert ScanEvent.objects.get(pk=entry).confirmed_at is None


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("", "Enter the reason for admitting the vehicle."),
        (None, "Enter the reason for admitting the vehicle."),
        ("好的", "Write why the vehicle is admitted."),
        ("x" * 501, "The reason for admitting the vehicle can have at most 500 characters."),
        (
            "批准\ud800放行",
            "Remove the invalid characters from the reason for admitting the vehicle.",
        ),
    ],
)
def test_the_override_messages_name_their_field(
    api_client: Any, dispatcher: Any, checkpoint: Any, reason: Any, expected: str
) -> None:
    supervisor = staff_user()
    supervisor.checkpoint_assignments.create(checkpoint=checkpoint, supervisor=True)
    api_client.force_authenticate(supervisor)
    red = open_trip(dispatcher, checkpoint, test_result="positive", test_sampled_at=at(-3))
    pk = scan(api_client, checkpoint, token_of(red)).json()["id"]

    r = post(
        api_client,
        f"/api/v1/checkpoints/{checkpoint.code}/scans/{pk}/override/",
        {"reason": reason},
    )

    assert fields_of(r) == {"reason": [expected]}
    assert ScanEvent.objects.get(pk=pk).overridden_by is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"direction": "in"}, {"token": ["Enter the pass code."]}),
        ({"token": "", "direction": "in"}, {"token": ["Enter the pass code."]}),
        ({"token": "X", "direction": "up"}, {"direction": ["The direction is not one of"]}),
        ({"token": "X", "direction": "in", "persons": 99}, {"persons": ["The number of"]}),
        ({"token": "X", "direction": "in", "scan_id": "no"}, {"scan_id": ["The client scan id"]}),
        (
            {"token": "X", "direction": "in", "scanned_at": "soon"},
            {"scanned_at": ["The scan time"]},
        ),
    ],
)
def test_a_scan_body_names_each_field_at_fault(
    staff_client: Any, checkpoint: Any, body: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    fields = fields_of(post(staff_client, f"/api/v1/checkpoints/{checkpoint.code}/scans/", body))

    for name, [start] in expected.items():
        assert fields[name][0].startswith(start), fields
    assert not ScanEvent.objects.exists()
