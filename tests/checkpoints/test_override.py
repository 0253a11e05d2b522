"""POST /api/v1/checkpoints/{code}/scans/{id}/override/: a supervisor admits a refused vehicle
with a written reason; the override is recorded beside the refusal and officials are alerted."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from checkpoints.models import Alert, ScanEvent
from tests.checkpoints.scanning import open_trip, scan, token_of
from tests.factories import at, staff_user
from trucks.models import Trip

pytestmark = pytest.mark.django_db

REASON = "运送抗疫医疗物资，经指挥部电话批准放行"


@pytest.fixture
def supervisor(checkpoint: Any) -> Any:
    user = staff_user(first_name="建国", last_name="王")
    user.checkpoint_assignments.create(checkpoint=checkpoint, supervisor=True)
    return user


@pytest.fixture
def red(dispatcher: Any, checkpoint: Any) -> Trip:
    return open_trip(dispatcher, checkpoint, test_result="positive", test_sampled_at=at(-4))


def override(client: Any, checkpoint: Any, pk: int, reason: Any = REASON) -> Any:
    return client.post(
        f"/api/v1/checkpoints/{checkpoint.code}/scans/{pk}/override/",
        {"reason": reason},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_a_supervisor_overrides_a_refused_entry(
    api_client: Any, supervisor: Any, checkpoint: Any, red: Trip
) -> None:
    api_client.force_authenticate(supervisor)
    refused = scan(api_client, checkpoint, token_of(red)).json()

    r = override(api_client, checkpoint, refused["id"], "  " + REASON + "  ")

    assert r.status_code == 200, r.json()
    data = r.json()
    assert data["id"] == refused["id"]
    # The refusal stays on record as it was; the override is beside it.
    assert (data["verdict"], data["reason"], data["overridden"]) == ("refuse", "red_code", True)
    assert data["trip"]["status"] == "inside"
    row = ScanEvent.objects.get(pk=refused["id"])
    assert (row.overridden_by, row.override_reason) == (supervisor, REASON)
    assert row.overridden_at is not None
    red.refresh_from_db()
    assert red.status == "inside"
    alert = Alert.objects.get(kind="override")
    assert (alert.trip, alert.checkpoint, alert.scan_id) == (red, checkpoint, row.pk)
    assert alert.detail == {"reason": REASON, "original_reason": "red_code"}
    assert Alert.objects.filter(kind="red_code").count() == 1


def test_the_overridden_truck_leaves_by_an_exit_scan(
    api_client: Any, supervisor: Any, checkpoint: Any, red: Trip
) -> None:
    api_client.force_authenticate(supervisor)
    token = token_of(red)
    override(api_client, checkpoint, scan(api_client, checkpoint, token).json()["id"])

    r = scan(api_client, checkpoint, token, "out")

    assert (r.json()["verdict"], r.json()["warnings"]) == ("admit", [])
    red.refresh_from_db()
    assert red.status == "exited"


def test_overriding_twice_keeps_the_first(
    api_client: Any, supervisor: Any, checkpoint: Any, red: Trip
) -> None:
    api_client.force_authenticate(supervisor)
    pk = scan(api_client, checkpoint, token_of(red)).json()["id"]
    override(api_client, checkpoint, pk)

    r = override(api_client, checkpoint, pk, "另一个理由，第二次")

    assert r.status_code == 200
    assert ScanEvent.objects.get(pk=pk).override_reason == REASON
    assert Alert.objects.filter(kind="override").count() == 1


@pytest.mark.parametrize("reason", ["", "   ", "好的", None])
def test_a_reason_must_be_written(
    api_client: Any, supervisor: Any, checkpoint: Any, red: Trip, reason: Any
) -> None:
    api_client.force_authenticate(supervisor)
    pk = scan(api_client, checkpoint, token_of(red)).json()["id"]

    r = override(api_client, checkpoint, pk, reason)

    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert list(r.json()["fields"]) == ["reason"]
    row = ScanEvent.objects.get(pk=pk)
    assert (row.overridden_by, row.override_reason) == (None, "")
    red.refresh_from_db()
    assert red.status == "registered"
    assert not Alert.objects.filter(kind="override").exists()


def test_an_admitted_scan_cannot_be_overridden(
    api_client: Any, supervisor: Any, dispatcher: Any, checkpoint: Any
) -> None:
    api_client.force_authenticate(supervisor)
    pk = scan(api_client, checkpoint, token_of(open_trip(dispatcher, checkpoint))).json()["id"]

    r = override(api_client, checkpoint, pk)

    assert r.status_code == 409
    assert r.json()["code"] == "not_refused"
    assert ScanEvent.objects.get(pk=pk).overridden_by is None
    assert not Alert.objects.exists()


def test_an_unregistered_code_can_be_overridden_without_a_trip(
    api_client: Any, supervisor: Any, checkpoint: Any
) -> None:
    api_client.force_authenticate(supervisor)
    pk = scan(api_client, checkpoint, "paper slip, no code").json()["id"]

    r = override(api_client, checkpoint, pk)

    assert r.status_code == 200
    assert (r.json()["reason"], r.json()["overridden"], r.json()["trip"]) == (
        "invalid",
        True,
        None,
    )
    assert Alert.objects.get(kind="override").trip is None


def test_an_overridden_exit_refusal_does_not_move_the_trip(
    api_client: Any, supervisor: Any, dispatcher: Any, checkpoint: Any
) -> None:
    api_client.force_authenticate(supervisor)
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)
    for direction in ("in", "out"):
        scan(api_client, checkpoint, token, direction)
    pk = scan(api_client, checkpoint, token, "out").json()["id"]  # used

    r = override(api_client, checkpoint, pk)

    assert r.status_code == 200
    trip.refresh_from_db()
    assert trip.status == "exited"


def test_the_answer_carries_the_override_beside_the_original_verdict(
    api_client: Any, supervisor: Any, checkpoint: Any, red: Trip
) -> None:
    api_client.force_authenticate(supervisor)
    scan_id = "5f0c2a9e-6b0e-4c1a-9d7e-2f5b8c1d3e4f"
    refused = scan(api_client, checkpoint, token_of(red), scan_id=scan_id).json()
    assert (refused["overridden"], refused["override"]) == (False, None)

    r = override(api_client, checkpoint, refused["id"])
    replayed = scan(api_client, checkpoint, token_of(red), scan_id=scan_id).json()
    listed = api_client.get(f"/api/v1/checkpoints/{checkpoint.code}/scans/").json()

    row = ScanEvent.objects.get(pk=refused["id"])
    expected = {
        "by": "建国 王",
        "at": timezone.localtime(row.overridden_at).isoformat(),
        "reason": REASON,
    }
    assert r.json()["override"] == expected
    assert (r.json()["verdict"], r.json()["reason"]) == ("refuse", "red_code")
    assert replayed["replayed"] is True
    assert replayed["override"] == expected
    assert [(s["id"], s["override"]) for s in listed] == [(refused["id"], expected)]


def test_the_override_names_the_account_when_it_has_no_name(
    api_client: Any, checkpoint: Any, red: Trip
) -> None:
    user = staff_user(username="duty-lead-3")
    user.checkpoint_assignments.create(checkpoint=checkpoint, supervisor=True)
    api_client.force_authenticate(user)
    pk = scan(api_client, checkpoint, token_of(red)).json()["id"]

    assert override(api_client, checkpoint, pk).json()["override"]["by"] == "duty-lead-3"
