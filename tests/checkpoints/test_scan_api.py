"""POST /api/v1/checkpoints/{code}/scans/: every reason code of docs/architecture.md, "Verification
outcomes" end to end, the answer's shape, the alerts that refusals raise, and the trip's states from
entry to exit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone, translation

from checkpoints import verification
from checkpoints.models import Alert, ScanEvent
from places.models import Region
from tests.checkpoints.scanning import active_pass, altered, open_trip, pass_of, scan, token_of
from tests.factories import (
    CheckpointFactory,
    at,
    consignee_user,
    make_trip,
    staff_user,
    valid_id_number,
    valid_phone,
    whitelisted_company,
)
from tests.factories import dispatcher as make_dispatcher
from trucks import passcode, services
from trucks.models import Pass, Policy, Trip

pytestmark = pytest.mark.django_db

ANSWER_KEYS = {
    "id",
    "verdict",
    "reason",
    "warnings",
    "message",
    "direction",
    "scanned_at",
    "observed_plate",
    "persons",
    "replayed",
    "landing_test",
    "overridden",
    "override",
    "earlier_refusal",
    "confirmed",
    "priority_lane",
    "offline",
    "conflicts",
    "pass",
    "trip",
}


def english(reason: str) -> str:
    with translation.override("en"):
        return str(verification.MESSAGES[reason])


def status_of(trip: Trip) -> str:
    trip.refresh_from_db()
    return trip.status


# ---------------------------------------------------------------------------------------------
# The answer


def test_it_admits_a_green_pass(
    staff_client: Any, staff: Any, dispatcher: Any, checkpoint: Any
) -> None:
    co_rider = services.PersonData("王五", valid_id_number(), valid_phone())
    trip = open_trip(dispatcher, checkpoint, co_riders=[co_rider], cargo_category="medical")
    pass_ = active_pass(trip)

    r = scan(staff_client, checkpoint, token_of(trip))

    assert r.status_code == 201, r.json()
    data = r.json()
    assert set(data) == ANSWER_KEYS
    scan_row = ScanEvent.objects.get()
    assert data["id"] == scan_row.pk
    assert (data["verdict"], data["reason"], data["warnings"]) == ("admit", "ok", [])
    assert data["message"] == "Valid pass. Admit."
    assert data["direction"] == "in"
    assert data["replayed"] is False
    assert (data["landing_test"], data["overridden"], data["confirmed"]) == ("", False, False)
    assert (data["override"], data["earlier_refusal"]) == (None, None)
    assert data["priority_lane"] is False  # the company is on no whitelist
    assert (data["offline"], data["conflicts"]) == (False, [])
    assert data["pass"] == {
        "id": pass_.pk,
        "colour": "green",
        "colour_reasons": [],
        "status": "active",
        "valid_from": timezone.localtime(pass_.valid_from).isoformat(),
        "valid_until": timezone.localtime(pass_.valid_until).isoformat(),
    }
    id_number = trip.driver.id_number
    assert data["trip"] == {
        "id": trip.pk,
        "reference": trip.reference,
        "status": "inside",
        "plate": trip.vehicle.plate,
        "driver": {"name": "李师傅", "id_number": id_number[:4] + "*" * 10 + id_number[-4:]},
        "persons_expected": 2,
        "entry_checkpoint": checkpoint.code,
        "multi_entry": False,
        "cargo_category": "medical",
    }
    # Staff never see a full ID number, the driver's or a co-rider's.
    assert id_number not in r.content.decode()
    assert co_rider.id_number not in r.content.decode()
    # The scan is recorded as answered, by whom and where.
    assert (scan_row.checkpoint, scan_row.staff, scan_row.trip_pass, scan_row.trip) == (
        checkpoint,
        staff,
        pass_,
        trip,
    )
    assert (scan_row.verdict, scan_row.reason, scan_row.direction) == ("admit", "ok", "in")
    assert status_of(trip) == "inside"
    assert not Alert.objects.exists()


def test_the_message_is_in_the_default_language_without_accept_language(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    with translation.override("zh-hans"):
        expected = str(verification.MESSAGES["ok"])

    r = scan(staff_client, checkpoint, token_of(trip), language=None)

    assert r.status_code == 201
    assert r.json()["message"] == expected
    if expected != english("ok"):  # once the catalogue translates it, it must be used
        assert r.json()["message"] != english("ok")


def test_it_records_the_plate_and_persons_staff_entered(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    typed = " " + trip.vehicle.plate[:2] + "·" + trip.vehicle.plate[2:].lower() + " "

    r = scan(staff_client, checkpoint, token_of(trip), plate=typed, persons=1)

    assert r.status_code == 201
    assert (r.json()["reason"], r.json()["warnings"]) == ("ok", [])
    scan_row = ScanEvent.objects.get()
    assert (scan_row.observed_plate, scan_row.persons) == (trip.vehicle.plate, 1)


def test_persons_counted_differently_is_a_warning(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)

    r = scan(staff_client, checkpoint, token_of(trip), persons=3)

    assert (r.json()["verdict"], r.json()["warnings"]) == ("admit", ["persons_mismatch"])
    assert "The number of persons differs from the registration." in r.json()["message"]
    assert status_of(trip) == "inside"


def test_the_device_time_of_an_offline_scan_is_kept(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    scanned_at = timezone.now() - timedelta(minutes=20)

    r = scan(staff_client, checkpoint, token_of(trip), scanned_at=scanned_at.isoformat())

    assert r.status_code == 201
    assert ScanEvent.objects.get().scanned_at == scanned_at


# ---------------------------------------------------------------------------------------------
# Reasons


def test_a_yellow_pass_is_admitted_with_a_landing_test(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint, test_result="none", test_sampled_at=None)

    r = scan(staff_client, checkpoint, token_of(trip))

    assert r.status_code == 201
    data = r.json()
    assert (data["verdict"], data["reason"]) == ("admit_with_test", "test_required")
    assert data["pass"]["colour"] == "yellow"
    assert data["pass"]["colour_reasons"] == ["no_test"]
    assert data["message"] == english("test_required")
    assert status_of(trip) == "inside"


def test_a_red_pass_is_refused_with_one_alert(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint, test_result="positive", test_sampled_at=at(-5))
    token = token_of(trip)

    first = scan(staff_client, checkpoint, token)
    second = scan(staff_client, checkpoint, token)

    assert first.status_code == second.status_code == 201
    assert (first.json()["verdict"], first.json()["reason"]) == ("refuse", "red_code")
    assert first.json()["message"] == english("red_code")
    assert second.json()["reason"] == "red_code"
    assert status_of(trip) == "registered"
    assert ScanEvent.objects.count() == 2
    alert = Alert.objects.get()
    assert (alert.kind, alert.trip, alert.checkpoint) == ("red_code", trip, checkpoint)
    assert alert.scan_id == first.json()["id"]


def test_a_pass_from_a_high_risk_region_is_red(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    Region.objects.filter(code="320400").update(risk_level="high")
    trip = open_trip(dispatcher, checkpoint)

    r = scan(staff_client, checkpoint, token_of(trip))

    assert r.json()["reason"] == "red_code"
    assert r.json()["pass"]["colour_reasons"] == ["high_risk_origin", "high_risk_travel"]


@pytest.mark.parametrize(
    "token",
    [
        "hello",
        "",
        "https://example.com/pass/1",
        "A" * 117,
        "豫H12345",
    ],
)
def test_garbage_is_invalid_without_an_alert(
    staff_client: Any, checkpoint: Any, token: str
) -> None:
    r = scan(staff_client, checkpoint, token or " ")

    if not token:
        assert r.status_code == 400
        assert r.json()["code"] == "validation_error"
        assert "token" in r.json()["fields"]
        assert not ScanEvent.objects.exists()
        return
    assert r.status_code == 201
    data = r.json()
    assert (data["verdict"], data["reason"], data["warnings"]) == ("refuse", "invalid", [])
    assert data["message"] == english("invalid")
    assert (data["pass"], data["trip"]) == (None, None)
    scan_row = ScanEvent.objects.get()
    assert (scan_row.reason, scan_row.trip_pass, scan_row.checkpoint) == (
        "invalid",
        None,
        checkpoint,
    )
    assert not Alert.objects.exists()


def test_an_altered_token_is_invalid_and_raises_a_forged_alert_once(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    forged = altered(token_of(trip))

    first = scan(staff_client, checkpoint, forged)
    second = scan(staff_client, checkpoint, forged.lower())

    assert first.status_code == 201
    assert (first.json()["verdict"], first.json()["reason"]) == ("refuse", "invalid")
    assert (first.json()["pass"], first.json()["trip"]) == (None, None)
    assert second.json()["reason"] == "invalid"
    alert = Alert.objects.get()
    assert (alert.kind, alert.checkpoint, alert.trip) == ("forged", checkpoint, None)
    assert alert.scan_id == first.json()["id"]
    assert status_of(trip) == "registered"


def test_a_token_naming_another_pass_id_is_forged(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    # Change the pass id in the header and keep the signature: the signature no longer fits.
    trip = open_trip(dispatcher, checkpoint)
    other = open_trip(dispatcher, checkpoint)
    token, other_token = token_of(trip), token_of(other)
    spliced = other_token[:15] + token[15:]

    r = scan(staff_client, checkpoint, spliced)

    assert r.json()["reason"] == "invalid"
    assert Alert.objects.get().kind == "forged"
    assert status_of(trip) == status_of(other) == "registered"


def test_a_well_signed_token_for_no_pass_is_unknown(staff_client: Any, checkpoint: Any) -> None:
    token = passcode.encode(pass_id=999_999, valid_until=at(24))

    r = scan(staff_client, checkpoint, token)

    assert r.status_code == 201
    data = r.json()
    assert (data["verdict"], data["reason"]) == ("refuse", "unknown")
    assert data["message"] == english("unknown")
    assert (data["pass"], data["trip"]) == (None, None)
    assert ScanEvent.objects.get().reason == "unknown"
    assert not Alert.objects.exists()


def test_a_well_signed_token_with_another_window_end_is_unknown(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    pass_ = active_pass(trip)
    token = passcode.encode(pass_id=pass_.pk, valid_until=pass_.valid_until + timedelta(days=1))

    r = scan(staff_client, checkpoint, token)

    assert r.json()["reason"] == "unknown"
    assert status_of(trip) == "registered"


def test_a_revoked_pass_is_refused(staff_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    trip = open_trip(dispatcher, checkpoint)
    old_token = token_of(trip)
    # A new test result that changes nothing keeps the pass; re-issuing revokes the old one.
    services.pass_issue(trip=trip)

    r = scan(staff_client, checkpoint, old_token)
    fresh = scan(staff_client, checkpoint, token_of(trip))

    assert (r.json()["verdict"], r.json()["reason"]) == ("refuse", "revoked")
    assert r.json()["message"] == english("revoked")
    assert r.json()["pass"]["status"] == "revoked"
    assert fresh.json()["reason"] == "ok"


def test_a_cancelled_trip_is_refused(staff_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)
    services.trip_cancel(actor=dispatcher, trip=trip)

    r = scan(staff_client, checkpoint, token)

    assert (r.json()["verdict"], r.json()["reason"]) == ("refuse", "cancelled")
    assert r.json()["message"] == english("cancelled")
    assert r.json()["trip"]["status"] == "cancelled"
    assert status_of(trip) == "cancelled"


def test_an_expired_pass_is_refused(staff_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)
    pass_ = active_pass(trip)

    with time_machine.travel(pass_.valid_until + timedelta(minutes=1), tick=False):
        r = scan(staff_client, checkpoint, token)

    assert (r.json()["verdict"], r.json()["reason"]) == ("refuse", "expired")
    assert r.json()["message"] == english("expired")
    assert status_of(trip) == "registered"


def test_a_pass_is_refused_before_its_window(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint, planned_arrival=at(6), planned_departure=at(30))
    token = token_of(trip)
    pass_ = active_pass(trip)

    early = scan(staff_client, checkpoint, token)
    with time_machine.travel(pass_.valid_from + timedelta(minutes=1), tick=False):
        on_time = scan(staff_client, checkpoint, token)

    assert (early.json()["verdict"], early.json()["reason"]) == ("refuse", "not_yet_valid")
    assert early.json()["message"] == english("not_yet_valid")
    assert on_time.json()["reason"] == "ok"


def test_a_copied_code_is_refused_as_already_inside_with_one_alert(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)

    first = scan(staff_client, checkpoint, token)
    copies = [scan(staff_client, checkpoint, token) for _ in range(3)]

    assert first.json()["reason"] == "ok"
    for i, r in enumerate(copies):
        assert r.status_code == 201
        assert (r.json()["verdict"], r.json()["reason"]) == ("refuse", "already_inside")
        assert r.json()["message"].startswith(english("already_inside"))
        # From the second copy on, the copy refused just before is recalled.
        assert r.json()["warnings"] == ([] if i == 0 else ["refused_recently"])
    alert = Alert.objects.get()
    assert (alert.kind, alert.trip) == ("already_inside", trip)
    assert alert.scan_id == copies[0].json()["id"]
    assert ScanEvent.objects.count() == 4
    assert status_of(trip) == "inside"


def test_a_copied_code_at_another_checkpoint_is_one_alert(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    other = CheckpointFactory()
    api_client.force_authenticate(staff_user(checkpoint, other))
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)

    scan(api_client, checkpoint, token)
    r = scan(api_client, other, token)
    scan(api_client, checkpoint, token)

    assert r.json()["reason"] == "already_inside"
    assert Alert.objects.filter(kind="already_inside").count() == 1


def test_another_plate_is_refused_with_an_alert(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)

    r = scan(staff_client, checkpoint, token, plate="豫H99999", plate_mismatch_confirmed=True)
    scan(staff_client, checkpoint, token, plate="豫h 99999", plate_mismatch_confirmed=True)

    assert r.status_code == 201
    assert (r.json()["verdict"], r.json()["reason"]) == ("refuse", "plate_mismatch")
    assert r.json()["message"] == english("plate_mismatch")
    assert r.json()["trip"]["plate"] == trip.vehicle.plate
    assert status_of(trip) == "registered"
    alert = Alert.objects.get()
    assert (alert.kind, alert.trip, alert.checkpoint) == ("plate_mismatch", trip, checkpoint)
    assert alert.detail["observed_plate"] == "豫H99999"
    # The pass shown on yet another truck is a new cause, and a new alert.
    scan(staff_client, checkpoint, token, plate="豫H88888", plate_mismatch_confirmed=True)
    assert Alert.objects.filter(kind="plate_mismatch").count() == 2
    # The right truck still gets in.
    assert scan(staff_client, checkpoint, token, plate=trip.vehicle.plate).json()["reason"] == "ok"


def test_another_checkpoint_is_a_warning(api_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    other = CheckpointFactory()
    api_client.force_authenticate(staff_user(other))
    trip = open_trip(dispatcher, checkpoint)

    r = scan(api_client, other, token_of(trip))

    assert (r.json()["verdict"], r.json()["reason"]) == ("admit", "ok")
    assert r.json()["warnings"] == ["wrong_checkpoint"]
    assert r.json()["message"] == "Valid pass. Admit. Registered for another checkpoint."
    assert r.json()["trip"]["entry_checkpoint"] == checkpoint.code
    assert status_of(trip) == "inside"


def test_another_checkpoint_is_refused_under_a_strict_policy(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    other = CheckpointFactory()
    api_client.force_authenticate(staff_user(other, checkpoint))
    trip = open_trip(dispatcher, checkpoint)
    version = services.policy_current().version
    Policy.objects.create(version=version + 1, strict_checkpoint=True, note="strict")

    r = scan(api_client, other, token_of(trip))
    here = scan(api_client, checkpoint, token_of(trip))

    assert (r.json()["verdict"], r.json()["reason"]) == ("refuse", "wrong_checkpoint")
    assert r.json()["message"] == english("wrong_checkpoint")
    assert here.json()["reason"] == "ok"


# ---------------------------------------------------------------------------------------------
# The trip from entry to exit


def test_a_trip_goes_inside_arrives_and_exits(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    consignee = consignee_user()
    trip = open_trip(dispatcher, checkpoint, consignee=consignee.company_membership.company_id)
    token = token_of(trip)
    staff = staff_user(checkpoint)
    api_client.force_authenticate(staff)

    entry = scan(api_client, checkpoint, token)
    assert entry.json()["trip"]["status"] == "inside"
    assert status_of(trip) == "inside"

    api_client.force_authenticate(consignee)
    arrival = api_client.post(f"/api/v1/trips/{trip.pk}/arrival/")
    assert arrival.status_code == 200, arrival.json()
    assert arrival.json()["status"] == "arrived"
    assert status_of(trip) == "arrived"

    api_client.force_authenticate(staff)
    exit_ = scan(api_client, checkpoint, token, "out")
    assert exit_.status_code == 201
    assert (exit_.json()["verdict"], exit_.json()["reason"], exit_.json()["warnings"]) == (
        "admit",
        "ok",
        [],
    )
    assert exit_.json()["message"] == "Exit recorded."
    assert exit_.json()["trip"]["status"] == "exited"
    assert exit_.json()["pass"]["status"] == "completed"
    assert status_of(trip) == "exited"
    assert pass_of(trip).status == "completed"

    again = scan(api_client, checkpoint, token)
    assert (again.json()["verdict"], again.json()["reason"]) == ("refuse", "used")
    assert again.json()["message"] == english("used")
    out_again = scan(api_client, checkpoint, token, "out")
    assert out_again.json()["reason"] == "used"
    assert not Alert.objects.exists()


def test_an_exit_without_an_entry_is_admitted_with_a_warning(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)

    r = scan(staff_client, checkpoint, token_of(trip), "out")

    assert (r.json()["verdict"], r.json()["reason"]) == ("admit", "ok")
    assert r.json()["warnings"] == ["not_inside"]
    assert r.json()["message"] == "Exit recorded. No entry was recorded for this truck."
    assert status_of(trip) == "exited"
    assert pass_of(trip).status == "completed"


def test_a_late_exit_is_admitted_with_a_warning(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)
    scan(staff_client, checkpoint, token)

    with time_machine.travel(active_pass(trip).valid_until + timedelta(hours=3), tick=False):
        r = scan(staff_client, checkpoint, token, "out")

    assert (r.json()["verdict"], r.json()["warnings"]) == ("admit", ["late_exit"])
    assert status_of(trip) == "exited"


def test_a_standard_pass_enters_once(staff_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)

    reasons = [
        scan(staff_client, checkpoint, token, direction).json()["reason"]
        for direction in ("in", "out", "in")
    ]

    assert reasons == ["ok", "ok", "used"]
    assert status_of(trip) == "exited"


def test_a_whitelisted_multi_entry_pass_enters_again(staff_client: Any, checkpoint: Any) -> None:
    company = whitelisted_company(reason="民生物资保供")
    trip = open_trip(
        make_dispatcher(company), checkpoint, multi_entry=True, planned_departure=at(72)
    )
    token = token_of(trip)

    answers = [scan(staff_client, checkpoint, token, d).json() for d in ("in", "out", "in", "in")]

    assert [(a["verdict"], a["reason"]) for a in answers] == [
        ("admit", "ok"),
        ("admit", "ok"),
        ("admit", "ok"),
        ("refuse", "already_inside"),
    ]
    assert answers[0]["trip"]["multi_entry"] is True
    assert answers[1]["pass"]["status"] == "active"
    assert status_of(trip) == "inside"
    assert pass_of(trip).status == "active"


def test_a_multi_entry_pass_is_refused_after_its_window(staff_client: Any, checkpoint: Any) -> None:
    company = whitelisted_company()
    trip = open_trip(
        make_dispatcher(company), checkpoint, multi_entry=True, planned_departure=at(72)
    )
    token = token_of(trip)
    scan(staff_client, checkpoint, token)
    scan(staff_client, checkpoint, token, "out")

    with time_machine.travel(active_pass(trip).valid_until + timedelta(minutes=1), tick=False):
        r = scan(staff_client, checkpoint, token)

    assert r.json()["reason"] == "expired"
    assert status_of(trip) == "exited"


def test_the_scan_answers_with_the_current_colour(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    # The colour is not in the token: a pass regraded to red after issue is refused.
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)
    Pass.objects.filter(trip=trip).update(colour="red")

    r = scan(staff_client, checkpoint, token)

    assert r.json()["reason"] == "red_code"
