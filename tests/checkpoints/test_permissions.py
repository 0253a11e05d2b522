"""Who may use the checkpoint endpoints (docs/architecture.md, "Roles and access"): staff at their
own checkpoints only. Everyone else is refused, and nothing changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from checkpoints.models import Alert, ScanEvent, WalkIn
from tests.checkpoints.scanning import open_trip, scan, token_of
from tests.factories import (
    CheckpointFactory,
    UserFactory,
    consignee_user,
    driver_user,
    staff_user,
)
from trucks.models import Trip

pytestmark = pytest.mark.django_db


@dataclass
class World:
    checkpoint: Any
    other_checkpoint: Any
    staff: Any
    trip: Any
    token: str
    scan_pk: int
    other_scan_pk: int


@pytest.fixture
def world(dispatcher: Any, checkpoint: Any, api_client: Any) -> World:
    other = CheckpointFactory()
    staff = staff_user(checkpoint)
    trip = open_trip(dispatcher, checkpoint, test_result="none", test_sampled_at=None)
    token = token_of(trip)
    api_client.force_authenticate(staff)
    scan_pk = scan(api_client, checkpoint, token).json()["id"]
    other_staff = staff_user(other)
    api_client.force_authenticate(other_staff)
    other_trip = open_trip(dispatcher, other)
    other_scan_pk = scan(api_client, other, token_of(other_trip)).json()["id"]
    api_client.force_authenticate(None)
    return World(checkpoint, other, staff, trip, token, scan_pk, other_scan_pk)


def call(
    client: Any, world: World, endpoint: str, code: str | None = None, pk: int | None = None
) -> Any:
    code = code or world.checkpoint.code
    pk = pk or world.scan_pk
    base = f"/api/v1/checkpoints/{code}"
    if endpoint == "scan":
        return client.post(
            f"{base}/scans/", {"token": world.token, "direction": "out"}, format="json"
        )
    if endpoint == "scans":
        return client.get(f"{base}/scans/")
    if endpoint == "confirm":
        return client.post(
            f"{base}/scans/{pk}/confirm/",
            {"plate": "豫H99999", "plate_mismatch_confirmed": True},
            format="json",
        )
    if endpoint == "landing-test":
        return client.post(f"{base}/scans/{pk}/landing-test/")
    if endpoint == "landing-test-result":
        return client.post(
            f"{base}/scans/{pk}/landing-test-result/", {"result": "positive"}, format="json"
        )
    if endpoint == "override":
        return client.post(
            f"{base}/scans/{pk}/override/", {"reason": "医疗物资，指挥部批准"}, format="json"
        )
    if endpoint == "lookup":
        return client.get(f"{base}/lookup/", {"plate": world.trip.vehicle.plate})
    assert endpoint == "walk-in"
    return client.post(
        f"{base}/walk-ins/",
        {"plate": "豫H77777", "outcome": "turned_back", "scan_id": str(uuid.uuid4())},
        format="json",
    )


ENDPOINTS = [
    "scan",
    "scans",
    "confirm",
    "landing-test",
    "landing-test-result",
    "override",
    "lookup",
    "walk-in",
]
SCAN_ENDPOINTS = ["confirm", "landing-test", "landing-test-result", "override"]


def assert_nothing_changed(world: World) -> None:
    assert ScanEvent.objects.count() == 2
    row = ScanEvent.objects.get(pk=world.scan_pk)
    assert (row.verdict, row.reason, row.observed_plate) == ("admit_with_test", "test_required", "")
    assert (row.landing_test, row.confirmed_at, row.overridden_by) == ("", None, None)
    assert not WalkIn.objects.exists()
    assert not Alert.objects.exists()
    assert Trip.objects.get(pk=world.trip.pk).status == "inside"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_staff_of_the_checkpoint_may_use_it(api_client: Any, world: World, endpoint: str) -> None:
    supervisor = staff_user()
    supervisor.checkpoint_assignments.create(checkpoint=world.checkpoint, supervisor=True)
    if endpoint == "landing-test-result":
        api_client.force_authenticate(world.staff)
        call(api_client, world, "landing-test")
    api_client.force_authenticate(supervisor if endpoint == "override" else world.staff)
    if endpoint == "override":
        call(api_client, world, "confirm")  # refused now: plate mismatch

    r = call(api_client, world, endpoint)

    assert r.status_code in (200, 201), r.json()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_staff_of_another_checkpoint_is_refused(
    api_client: Any, world: World, endpoint: str
) -> None:
    api_client.force_authenticate(staff_user(world.other_checkpoint))

    r = call(api_client, world, endpoint)

    assert r.status_code == 403
    assert r.json()["code"] == "not_assigned"
    assert_nothing_changed(world)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("role", ["driver", "dispatcher", "consignee", "official", "staff"])
def test_other_roles_are_refused(
    api_client: Any, world: World, endpoint: str, role: str, dispatcher: Any
) -> None:
    users = {
        "driver": driver_user,
        "dispatcher": lambda: dispatcher,
        "consignee": consignee_user,
        "official": lambda: UserFactory(role="official"),
        "staff": staff_user,  # staff of no checkpoint
    }
    api_client.force_authenticate(users[role]())

    r = call(api_client, world, endpoint)

    assert r.status_code == 403
    assert_nothing_changed(world)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_is_refused(api_client: Any, world: World, endpoint: str) -> None:
    r = call(api_client, world, endpoint)

    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"
    assert_nothing_changed(world)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_unknown_or_closed_checkpoint_is_absent(
    api_client: Any, world: World, endpoint: str
) -> None:
    closed = CheckpointFactory(active=False)
    api_client.force_authenticate(staff_user(closed))

    unknown = call(api_client, world, endpoint, code="NO-SUCH-CP")
    closed_answer = call(api_client, world, endpoint, code=closed.code)

    assert unknown.status_code == closed_answer.status_code == 404
    assert unknown.json()["code"] == "not_found"
    assert_nothing_changed(world)


@pytest.mark.parametrize("endpoint", SCAN_ENDPOINTS)
def test_a_scan_of_another_checkpoint_is_absent(
    api_client: Any, world: World, endpoint: str
) -> None:
    supervisor = staff_user()
    supervisor.checkpoint_assignments.create(checkpoint=world.checkpoint, supervisor=True)
    api_client.force_authenticate(supervisor)

    r = call(api_client, world, endpoint, pk=world.other_scan_pk)
    missing = call(api_client, world, endpoint, pk=999_999)

    assert r.status_code == missing.status_code == 404
    other = ScanEvent.objects.get(pk=world.other_scan_pk)
    assert (other.landing_test, other.confirmed_at, other.overridden_by) == ("", None, None)
    assert_nothing_changed(world)


def test_only_a_supervisor_overrides(api_client: Any, world: World) -> None:
    api_client.force_authenticate(world.staff)
    call(api_client, world, "confirm")  # a plate mismatch: a refusal to override

    r = call(api_client, world, "override")

    assert r.status_code == 403
    assert r.json()["code"] == "not_supervisor"
    row = ScanEvent.objects.get(pk=world.scan_pk)
    assert (row.overridden_by, row.override_reason) == (None, "")
    assert not Alert.objects.filter(kind="override").exists()


def test_a_supervisor_elsewhere_is_not_a_supervisor_here(api_client: Any, world: World) -> None:
    user = staff_user(world.checkpoint)
    user.checkpoint_assignments.create(checkpoint=world.other_checkpoint, supervisor=True)
    api_client.force_authenticate(world.staff)
    call(api_client, world, "confirm")
    api_client.force_authenticate(user)

    r = call(api_client, world, "override")

    assert r.status_code == 403
    assert ScanEvent.objects.get(pk=world.scan_pk).overridden_by is None


def test_staff_list_only_their_own_scans(api_client: Any, world: World) -> None:
    colleague = staff_user(world.checkpoint)
    api_client.force_authenticate(colleague)

    mine = api_client.get(f"/api/v1/checkpoints/{world.checkpoint.code}/scans/")
    api_client.force_authenticate(world.staff)
    theirs = api_client.get(f"/api/v1/checkpoints/{world.checkpoint.code}/scans/")

    assert mine.status_code == theirs.status_code == 200
    assert mine.json() == []
    assert [s["id"] for s in theirs.json()] == [world.scan_pk]
    assert theirs.json()[0]["trip"]["driver"]["id_number"].count("*") == 10
