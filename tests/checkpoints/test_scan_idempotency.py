"""A scan's client ``scan_id``: the same scan sent again (a retry, an offline sync) is recorded
once and answered as it was the first time (docs/architecture.md, "Verification outcomes")."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from checkpoints.models import Alert, ScanEvent
from tests.checkpoints.scanning import altered, open_trip, scan, token_of
from tests.factories import at
from trucks import passcode
from trucks.models import Trip

pytestmark = pytest.mark.django_db


def without_replayed(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "replayed"}


def test_the_same_scan_twice_is_recorded_once(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    token, scan_id = token_of(trip), str(uuid.uuid4())

    first = scan(staff_client, checkpoint, token, scan_id=scan_id)
    second = scan(staff_client, checkpoint, token, scan_id=scan_id)

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["replayed"] is False
    assert second.json()["replayed"] is True
    assert without_replayed(second.json()) == without_replayed(first.json())
    assert second.json()["reason"] == "ok"  # not already_inside: it is the same scan
    assert ScanEvent.objects.get().scan_id == uuid.UUID(scan_id)
    assert not Alert.objects.exists()
    trip.refresh_from_db()
    assert trip.status == "inside"


def test_a_second_scan_with_another_id_is_a_new_scan(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)

    scan(staff_client, checkpoint, token, scan_id=str(uuid.uuid4()))
    r = scan(staff_client, checkpoint, token, scan_id=str(uuid.uuid4()))

    assert (r.status_code, r.json()["reason"], r.json()["replayed"]) == (
        201,
        "already_inside",
        False,
    )
    assert ScanEvent.objects.count() == 2


@pytest.mark.parametrize("kind", ["refused", "invalid", "unknown"])
def test_refusals_are_replayed_too(
    staff_client: Any, dispatcher: Any, checkpoint: Any, kind: str
) -> None:
    if kind == "refused":
        token = token_of(
            open_trip(dispatcher, checkpoint, test_result="positive", test_sampled_at=at(-3))
        )
    elif kind == "invalid":
        token = "not a pass code"
    else:
        token = passcode.encode(pass_id=999_999, valid_until=at(24))
    scan_id = str(uuid.uuid4())

    first = scan(staff_client, checkpoint, token, scan_id=scan_id)
    second = scan(staff_client, checkpoint, token, scan_id=scan_id)

    assert (first.status_code, second.status_code) == (201, 200)
    assert without_replayed(second.json()) == without_replayed(first.json())
    assert second.json()["replayed"] is True
    assert ScanEvent.objects.count() == 1
    assert Alert.objects.count() == (1 if kind == "refused" else 0)


def test_a_replayed_forged_scan_raises_no_second_alert(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    token = token_of(open_trip(dispatcher, checkpoint))
    forged = altered(token)
    scan_id = str(uuid.uuid4())

    first = scan(staff_client, checkpoint, forged, scan_id=scan_id)
    second = scan(staff_client, checkpoint, forged, scan_id=scan_id)

    assert first.json()["reason"] == second.json()["reason"] == "invalid"
    assert ScanEvent.objects.count() == 1
    assert Alert.objects.get().kind == "forged"


@pytest.mark.parametrize("second_token", ["garbage", "other pass", "unknown pass"])
def test_a_reused_scan_id_answers_the_first_scan(
    staff_client: Any, dispatcher: Any, checkpoint: Any, second_token: str
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    other = open_trip(dispatcher, checkpoint)
    tokens = {
        "garbage": "garbage",
        "other pass": token_of(other),
        "unknown pass": passcode.encode(pass_id=999_999, valid_until=at(24)),
    }
    scan_id = str(uuid.uuid4())

    first = scan(staff_client, checkpoint, token_of(trip), scan_id=scan_id)
    second = scan(staff_client, checkpoint, tokens[second_token], "out", scan_id=scan_id)

    assert second.status_code == 200
    assert second.json()["replayed"] is True
    assert without_replayed(second.json()) == without_replayed(first.json())
    assert second.json()["trip"]["id"] == trip.pk
    assert ScanEvent.objects.count() == 1
    assert Trip.objects.get(pk=other.pk).status == "registered"
    assert Trip.objects.get(pk=trip.pk).status == "inside"


def test_a_scan_id_first_used_for_garbage_answers_garbage(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    scan_id = str(uuid.uuid4())

    scan(staff_client, checkpoint, "garbage", scan_id=scan_id)
    r = scan(staff_client, checkpoint, token_of(trip), scan_id=scan_id)

    assert (r.status_code, r.json()["reason"], r.json()["replayed"]) == (200, "invalid", True)
    assert Trip.objects.get(pk=trip.pk).status == "registered"
