"""A client ``scan_id`` names one record made by one account at one checkpoint: sent again from
there it is answered from the record; reused at another checkpoint or by another account it is
refused (409, ``scan_id_conflict``) and the other record is never shown. Scans and walk-ins
alike. (The scan's plain path and PostgreSQL's two-round-trip path have their own tests beside
theirs.)"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from checkpoints.models import ScanEvent, WalkIn
from tests.checkpoints.scanning import open_trip, scan, token_of
from tests.factories import CheckpointFactory, at, staff_user
from trucks import passcode
from trucks.models import Trip

pytestmark = pytest.mark.django_db

CONFLICT = {
    "code": "scan_id_conflict",
    "detail": "This scan id was already used for another record. Send the scan with a new id.",
}


@pytest.fixture
def elsewhere(checkpoint: Any, staff: Any) -> Any:
    """A second checkpoint the same staff member is assigned to."""
    other = CheckpointFactory()
    staff.checkpoint_assignments.create(checkpoint=other)
    return other


@pytest.mark.parametrize("first_token", ["pass", "garbage", "unknown pass"])
@pytest.mark.parametrize("second_token", ["pass", "garbage", "unknown pass"])
def test_a_scan_id_reused_at_another_checkpoint_is_a_conflict(
    staff_client: Any,
    dispatcher: Any,
    checkpoint: Any,
    elsewhere: Any,
    first_token: str,
    second_token: str,
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    tokens = {
        "pass": token_of(trip),
        "garbage": "garbage",
        "unknown pass": passcode.encode(pass_id=999_999, valid_until=at(24)),
    }
    scan_id = str(uuid.uuid4())
    first = scan(staff_client, checkpoint, tokens[first_token], scan_id=scan_id)
    assert first.status_code == 201

    r = scan(staff_client, elsewhere, tokens[second_token], scan_id=scan_id)

    assert r.status_code == 409
    assert r.json() == CONFLICT
    assert trip.driver.name not in r.content.decode()
    assert ScanEvent.objects.count() == 1
    assert ScanEvent.objects.get().checkpoint == checkpoint
    # The same id from where it was made is still a retry.
    again = scan(staff_client, checkpoint, tokens[first_token], scan_id=scan_id)
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])


def test_a_scan_id_reused_by_another_account_is_a_conflict(
    api_client: Any, staff: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    scan_id = str(uuid.uuid4())
    api_client.force_authenticate(staff)
    scan(api_client, checkpoint, token_of(trip), scan_id=scan_id)

    api_client.force_authenticate(staff_user(checkpoint))
    r = scan(api_client, checkpoint, token_of(trip), scan_id=scan_id)

    assert (r.status_code, r.json()) == (409, CONFLICT)
    assert ScanEvent.objects.count() == 1
    assert Trip.objects.get(pk=trip.pk).status == "inside"


def test_a_scan_id_whose_account_was_deleted_is_a_conflict(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    # The record keeps the scan with no account (SET_NULL): nobody may claim its answer.
    gone = staff_user(checkpoint)
    api_client.force_authenticate(gone)
    scan_id = str(uuid.uuid4())
    scan(api_client, checkpoint, "garbage", scan_id=scan_id)
    gone.delete()

    api_client.force_authenticate(staff_user(checkpoint))
    r = scan(api_client, checkpoint, "garbage", scan_id=scan_id)

    assert (r.status_code, r.json()["code"]) == (409, "scan_id_conflict")


def walk_in(client: Any, checkpoint: Any, **body: Any) -> Any:
    values = {"plate": "豫H54321", "outcome": "turned_back", "phone": "13912345678", **body}
    return client.post(
        f"/api/v1/checkpoints/{checkpoint.code}/walk-ins/",
        values,
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_a_walk_in_scan_id_reused_at_another_checkpoint_is_a_conflict(
    staff_client: Any, checkpoint: Any, elsewhere: Any
) -> None:
    scan_id = str(uuid.uuid4())
    first = walk_in(staff_client, checkpoint, scan_id=scan_id, driver_name="赵师傅")
    assert first.status_code == 201

    r = walk_in(staff_client, elsewhere, scan_id=scan_id)

    assert (r.status_code, r.json()) == (409, CONFLICT)
    body = r.content.decode()
    assert "13912345678" not in body and "赵师傅" not in body
    assert WalkIn.objects.get().checkpoint == checkpoint
    again = walk_in(staff_client, checkpoint, scan_id=scan_id)
    assert (again.status_code, again.json()) == (201, first.json())


def test_a_walk_in_scan_id_reused_by_another_account_is_a_conflict(
    api_client: Any, staff: Any, checkpoint: Any
) -> None:
    scan_id = str(uuid.uuid4())
    api_client.force_authenticate(staff)
    walk_in(api_client, checkpoint, scan_id=scan_id)

    api_client.force_authenticate(staff_user(checkpoint))
    r = walk_in(api_client, checkpoint, scan_id=scan_id)

    assert (r.status_code, r.json()) == (409, CONFLICT)
    assert WalkIn.objects.count() == 1


def test_the_walk_in_answer_masks_the_phone_number(staff_client: Any, checkpoint: Any) -> None:
    r = walk_in(staff_client, checkpoint, phone="+86 139 1234 5678")

    assert r.status_code == 201
    assert r.json()["phone"] == "139****5678"
    assert "13912345678" not in r.content.decode()
    # Staff typed it; the record keeps it whole.
    assert WalkIn.objects.get().phone == "13912345678"
