"""A plate that differs from the registered one is checked again before it refuses anything:
without ``plate_mismatch_confirmed`` it is answered 409 ``plate_mismatch_unconfirmed`` with both
plates and nothing is recorded; confirmed, it refuses and alerts, and undoes an admitted entry or
exit. A pass refused at a checkpoint and scanned there again soon after is answered with the
``refused_recently`` warning and the earlier refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from checkpoints.models import Alert, ScanEvent
from tests.checkpoints.scanning import open_trip, pass_of, scan, token_of
from tests.factories import (
    CheckpointFactory,
    at,
    consignee_user,
    staff_user,
    whitelisted_company,
)
from tests.factories import dispatcher as make_dispatcher
from trucks.models import PassStatus, Trip, TripStatus

pytestmark = pytest.mark.django_db

WRONG = "豫H99999"


def confirm(client: Any, checkpoint: Any, pk: int, **body: Any) -> Any:
    return client.post(
        f"/api/v1/checkpoints/{checkpoint.code}/scans/{pk}/confirm/",
        body,
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def status_of(trip: Trip) -> tuple[str, str]:
    trip.refresh_from_db()
    return trip.status, pass_of(trip).status


@pytest.fixture
def trip(dispatcher: Any, checkpoint: Any) -> Trip:
    return open_trip(dispatcher, checkpoint)


def recheck(trip: Trip, observed: str = WRONG) -> dict[str, str]:
    plate = trip.vehicle.plate
    return {
        "code": "plate_mismatch_unconfirmed",
        "detail": (
            f"The plate entered, {observed}, is not the registered plate {plate}. Check it "
            "again: correct it, or confirm that the plates differ."
        ),
        "registered_plate": plate,
        "observed_plate": observed,
    }


# ---------------------------------------------------------------------------------------------
# Confirming plate and persons after the scan


def test_a_differing_plate_is_sent_back_with_both_plates_and_changes_nothing(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    entry = scan(staff_client, checkpoint, token_of(trip)).json()

    r = confirm(staff_client, checkpoint, entry["id"], plate=" 豫h·99999 ", persons=1)

    assert r.status_code == 409
    assert r.json() == recheck(trip)
    row = ScanEvent.objects.get(pk=entry["id"])
    assert (row.verdict, row.reason, row.observed_plate, row.confirmed_at) == (
        "admit",
        "ok",
        "",
        None,
    )
    assert status_of(trip) == ("inside", "active")
    assert not Alert.objects.exists()


def test_the_plate_entered_again_rightly_confirms_the_entry(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    entry = scan(staff_client, checkpoint, token_of(trip)).json()
    assert confirm(staff_client, checkpoint, entry["id"], plate=WRONG).status_code == 409

    # Typed again, in full-width characters this time: the same plate, no difference.
    plate = trip.vehicle.plate
    wide = plate[0] + "".join(chr(ord(c) + 0xFEE0) for c in plate[1:])
    r = confirm(staff_client, checkpoint, entry["id"], plate=wide, persons=1)

    assert r.status_code == 200
    assert (r.json()["verdict"], r.json()["reason"], r.json()["confirmed"]) == ("admit", "ok", True)
    assert status_of(trip) == ("inside", "active")
    assert not Alert.objects.exists()


def test_a_difference_confirmed_refuses_and_alerts(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    entry = scan(staff_client, checkpoint, token_of(trip)).json()

    r = confirm(staff_client, checkpoint, entry["id"], plate=WRONG, plate_mismatch_confirmed=True)

    assert r.status_code == 200
    assert (r.json()["verdict"], r.json()["reason"]) == ("refuse", "plate_mismatch")
    assert r.json()["trip"]["status"] == "registered"
    assert status_of(trip) == ("registered", "active")
    assert Alert.objects.get().kind == "plate_mismatch"


@pytest.mark.parametrize("value", ["maybe", 2, None])
def test_the_confirmation_must_be_true_or_false(
    staff_client: Any, checkpoint: Any, trip: Trip, value: Any
) -> None:
    entry = scan(staff_client, checkpoint, token_of(trip)).json()

    r = confirm(staff_client, checkpoint, entry["id"], plate=WRONG, plate_mismatch_confirmed=value)

    assert r.status_code == 400
    assert list(r.json()["fields"]) == ["plate_mismatch_confirmed"]
    assert ScanEvent.objects.get(pk=entry["id"]).reason == "ok"


def exit_scanned(client: Any, checkpoint: Any, trip: Trip, *, enter: bool = True) -> int:
    if enter:
        assert scan(client, checkpoint, token_of(trip)).json()["reason"] == "ok"
    out = scan(client, checkpoint, token_of(trip), "out").json()
    assert out["verdict"] == "admit"
    assert status_of(trip) == ("exited", "completed")
    pk: int = out["id"]
    return pk


def test_a_wrong_plate_confirmed_on_an_exit_keeps_the_truck_inside(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    pk = exit_scanned(staff_client, checkpoint, trip)

    r = confirm(staff_client, checkpoint, pk, plate=WRONG, plate_mismatch_confirmed=True)

    assert r.status_code == 200
    data = r.json()
    assert (data["verdict"], data["reason"]) == ("refuse", "plate_mismatch")
    assert (data["trip"]["status"], data["pass"]["status"]) == ("inside", "active")
    assert status_of(trip) == ("inside", "active")
    assert trip.exited_at is None and trip.entered_at is not None
    assert Alert.objects.get().kind == "plate_mismatch"
    # The registered truck leaves later, through the same pass.
    later = scan(staff_client, checkpoint, token_of(trip), "out").json()
    assert (later["verdict"], later["reason"]) == ("admit", "ok")
    assert status_of(trip) == ("exited", "completed")


def test_a_wrong_plate_confirmed_on_an_exit_after_arrival_keeps_the_arrival(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    consignee = consignee_user()
    trip = open_trip(dispatcher, checkpoint, consignee=consignee.company_membership.company.pk)
    scan(staff_client, checkpoint, token_of(trip))
    Trip.objects.filter(pk=trip.pk).update(status=TripStatus.ARRIVED, arrived_at=timezone.now())
    pk = exit_scanned(staff_client, checkpoint, trip, enter=False)

    confirm(staff_client, checkpoint, pk, plate=WRONG, plate_mismatch_confirmed=True)

    assert status_of(trip) == ("arrived", "active")


def test_a_wrong_plate_confirmed_on_an_exit_without_entry_leaves_it_registered(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    pk = exit_scanned(staff_client, checkpoint, trip, enter=False)

    confirm(staff_client, checkpoint, pk, plate=WRONG, plate_mismatch_confirmed=True)

    assert status_of(trip) == ("registered", "active")


def test_a_wrong_plate_confirmed_on_a_late_exit_leaves_the_pass_expired(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    scan(staff_client, checkpoint, token_of(trip))
    with time_machine.travel(pass_of(trip).valid_until + timedelta(minutes=5), tick=False):
        pk = exit_scanned(staff_client, checkpoint, trip, enter=False)

        confirm(staff_client, checkpoint, pk, plate=WRONG, plate_mismatch_confirmed=True)

    assert status_of(trip) == ("inside", PassStatus.EXPIRED)


def test_a_multi_entry_exit_undone_keeps_the_exit_before(
    staff_client: Any, checkpoint: Any
) -> None:
    company = whitelisted_company()
    trip = open_trip(
        make_dispatcher(company), checkpoint, multi_entry=True, planned_departure=at(72)
    )
    token = token_of(trip)
    for direction in ("in", "out"):
        scan(staff_client, checkpoint, token, direction)
    trip.refresh_from_db()
    first_exit = trip.exited_at
    assert first_exit is not None
    scan(staff_client, checkpoint, token, "in")
    pk = scan(staff_client, checkpoint, token, "out").json()["id"]

    confirm(staff_client, checkpoint, pk, plate=WRONG, plate_mismatch_confirmed=True)

    assert status_of(trip) == ("inside", "active")
    assert trip.exited_at == first_exit


def test_a_multi_entry_reentry_undone_is_out_again(staff_client: Any, checkpoint: Any) -> None:
    """A whitelisted truck that had been in and out is refused on its next entry for another
    plate: it is out, as it was, with the time of its earlier entry, not "never entered"."""
    company = whitelisted_company()
    trip = open_trip(
        make_dispatcher(company), checkpoint, multi_entry=True, planned_departure=at(72)
    )
    token = token_of(trip)
    for direction in ("in", "out"):
        scan(staff_client, checkpoint, token, direction)
    trip.refresh_from_db()
    first_entry, first_exit = trip.entered_at, trip.exited_at
    pk = scan(staff_client, checkpoint, token, "in").json()["id"]

    confirm(staff_client, checkpoint, pk, plate=WRONG, plate_mismatch_confirmed=True)

    assert status_of(trip) == ("exited", "active")
    assert (trip.entered_at, trip.exited_at) == (first_entry, first_exit)


# ---------------------------------------------------------------------------------------------
# A plate entered with the scan itself


def test_a_scan_with_a_differing_plate_is_not_recorded(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    r = scan(staff_client, checkpoint, token_of(trip), plate="豫h 99999", scan_id=None)

    assert r.status_code == 409
    assert r.json() == recheck(trip)
    assert not ScanEvent.objects.exists()
    assert not Alert.objects.exists()
    assert status_of(trip) == ("registered", "active")


def test_a_scan_with_a_difference_confirmed_is_refused(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    r = scan(staff_client, checkpoint, token_of(trip), plate=WRONG, plate_mismatch_confirmed=True)

    assert r.status_code == 201
    assert (r.json()["verdict"], r.json()["reason"]) == ("refuse", "plate_mismatch")
    assert Alert.objects.get().kind == "plate_mismatch"


# ---------------------------------------------------------------------------------------------
# A refusal recalled by the next scan at the checkpoint


def refused_by_plate(client: Any, checkpoint: Any, trip: Trip) -> dict[str, Any]:
    entry = scan(client, checkpoint, token_of(trip)).json()
    refused: dict[str, Any] = confirm(
        client, checkpoint, entry["id"], plate=WRONG, plate_mismatch_confirmed=True
    ).json()
    assert refused["reason"] == "plate_mismatch"
    return refused


def test_a_pass_refused_here_is_admitted_again_with_a_warning(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    refused = refused_by_plate(staff_client, checkpoint, trip)

    r = scan(staff_client, checkpoint, token_of(trip))

    assert r.status_code == 201
    data = r.json()
    assert (data["verdict"], data["reason"], data["warnings"]) == (
        "admit",
        "ok",
        ["refused_recently"],
    )
    assert data["earlier_refusal"] == {
        "id": refused["id"],
        "reason": "plate_mismatch",
        "scanned_at": refused["scanned_at"],
    }
    assert data["message"] == (
        "Valid pass. Admit. This pass was refused at this checkpoint a short while ago: check "
        "why before admitting."
    )
    assert ScanEvent.objects.get(pk=data["id"]).earlier_refusal_id == refused["id"]


def test_any_refusal_is_recalled_and_so_is_the_latest(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    red = open_trip(dispatcher, checkpoint, test_result="positive", test_sampled_at=at(-3))
    first = scan(staff_client, checkpoint, token_of(red)).json()
    second = scan(staff_client, checkpoint, token_of(red)).json()
    third = scan(staff_client, checkpoint, token_of(red)).json()

    assert first["warnings"] == [] and first["earlier_refusal"] is None
    assert (second["reason"], second["warnings"]) == ("red_code", ["refused_recently"])
    assert second["earlier_refusal"]["id"] == first["id"]
    assert third["earlier_refusal"]["id"] == second["id"]


def test_the_warning_lasts_thirty_minutes(staff_client: Any, checkpoint: Any, trip: Trip) -> None:
    refused = refused_by_plate(staff_client, checkpoint, trip)
    refused_at = ScanEvent.objects.get(pk=refused["id"]).scanned_at

    with time_machine.travel(refused_at + timedelta(minutes=29), tick=False):
        within = scan(staff_client, checkpoint, token_of(trip)).json()
    Trip.objects.filter(pk=trip.pk).update(status=TripStatus.REGISTERED)
    with time_machine.travel(refused_at + timedelta(minutes=31), tick=False):
        after = scan(staff_client, checkpoint, token_of(trip)).json()

    assert (within["reason"], within["warnings"]) == ("ok", ["refused_recently"])
    assert (after["reason"], after["warnings"], after["earlier_refusal"]) == ("ok", [], None)


def test_a_refusal_elsewhere_or_overridden_is_not_recalled(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    elsewhere = CheckpointFactory()
    supervisor = staff_user()
    supervisor.checkpoint_assignments.create(checkpoint=checkpoint, supervisor=True)
    supervisor.checkpoint_assignments.create(checkpoint=elsewhere)
    api_client.force_authenticate(supervisor)
    red = open_trip(dispatcher, checkpoint, test_result="positive", test_sampled_at=at(-3))
    refused = scan(api_client, checkpoint, token_of(red)).json()

    there = scan(api_client, elsewhere, token_of(red)).json()
    api_client.post(
        f"/api/v1/checkpoints/{checkpoint.code}/scans/{refused['id']}/override/",
        {"reason": "医疗物资，指挥部批准放行"},
        format="json",
    )
    Trip.objects.filter(pk=red.pk).update(status=TripStatus.REGISTERED)
    here = scan(api_client, checkpoint, token_of(red)).json()

    assert (there["reason"], there["warnings"]) == ("red_code", ["wrong_checkpoint"])
    assert (here["reason"], here["warnings"], here["earlier_refusal"]) == ("red_code", [], None)


def test_the_recalled_refusal_is_in_the_replay_and_the_list(
    staff_client: Any, checkpoint: Any, trip: Trip
) -> None:
    refused_by_plate(staff_client, checkpoint, trip)
    scan_id = "a3a0b1d4-55e1-4d7e-9a51-61b0b0c1f00d"

    first = scan(staff_client, checkpoint, token_of(trip), scan_id=scan_id).json()
    again = scan(staff_client, checkpoint, token_of(trip), scan_id=scan_id).json()
    listed = staff_client.get(f"/api/v1/checkpoints/{checkpoint.code}/scans/").json()

    assert again["replayed"] is True
    assert again["earlier_refusal"] == first["earlier_refusal"] is not None
    assert again["warnings"] == first["warnings"] == ["refused_recently"]
    assert listed[0]["earlier_refusal"] == first["earlier_refusal"]
