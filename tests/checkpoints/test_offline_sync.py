"""Scans a tablet decided offline, sent once back online (POST /api/v1/checkpoints/{code}/scans/
with ``offline``; docs/architecture.md, "Offline"): recorded as the tablet decided them, at the
time they happened; what happened at the gate applied to the trip; conflicts with the server's
own decision at that time raised once each (``offline_conflict``), and clocks far off
(``offline_clock``); a refusal changing nothing; a scan sent again answered from its record and
raising nothing again; bad bodies refused field by field, in Chinese and English; hand-over and
the officials' figures picking up a scan that arrives late with an earlier time."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from checkpoints.models import Alert, ScanEvent
from checkpoints.scan_bodies import scan_input_fast
from dashboards import rollups
from dashboards.models import ScanDay
from handover import scan_events
from handover.models import WebhookDelivery, WebhookSubscription
from places.models import Checkpoint
from tests.checkpoints.scanning import active_pass, open_trip, pass_of, scan, scan_url, token_of
from tests.factories import CheckpointFactory, at, make_trip, staff_user
from trucks import services
from trucks.models import Pass, Trip
from trucks.services.passes import revoke_active_passes

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def offline_body(
    token: str,
    direction: str = "in",
    *,
    verdict: str = "admit",
    reason: str = "ok",
    warnings: tuple[str, ...] = (),
    offset_ms: int | None = 0,
    scanned_at: datetime | None = None,
    scan_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    when = scanned_at or timezone.now() - 10 * MINUTE
    offline: dict[str, Any] = {"verdict": verdict, "reason": reason, "warnings": list(warnings)}
    if offset_ms is not None:
        offline["clock_offset_ms"] = offset_ms
    return {
        "token": token,
        "direction": direction,
        "scan_id": str(scan_id or uuid.uuid4()),
        "scanned_at": when.isoformat(),
        "offline": offline,
    }


def sync(client: Any, checkpoint: Checkpoint, body: dict[str, Any], language: str = "en") -> Any:
    return client.post(scan_url(checkpoint), body, format="json", HTTP_ACCEPT_LANGUAGE=language)


def alerts() -> list[tuple[str, str]]:
    return sorted(Alert.objects.values_list("kind", "detail__reason"))


def test_an_offline_admission_is_recorded_as_the_tablet_gave_it_and_the_trip_goes_inside(
    staff_client: Any, staff: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    device_time = timezone.now() - 20 * MINUTE
    body = offline_body(
        token_of(trip),
        warnings=("persons_mismatch",),
        offset_ms=-90_000,
        scanned_at=device_time,
    )
    assert scan_input_fast(body) is None  # not the plain scan: the serializer reads it

    r = sync(staff_client, checkpoint, body)

    assert r.status_code == 201, r.json()
    answer = r.json()
    assert (answer["offline"], answer["conflicts"], answer["replayed"]) == (True, [], False)
    assert (answer["verdict"], answer["reason"]) == ("admit", "ok")
    assert answer["warnings"] == ["persons_mismatch"]
    assert answer["trip"]["status"] == "inside" and answer["pass"]["id"] == pass_of(trip).pk
    happened = device_time - timedelta(milliseconds=90_000)
    assert datetime.fromisoformat(answer["scanned_at"]) == happened
    row = ScanEvent.objects.get()
    assert (row.offline, row.clock_offset_ms, row.staff, row.scan_id) == (
        True,
        -90_000,
        staff,
        uuid.UUID(body["scan_id"]),
    )
    assert (row.verdict, row.reason, row.warnings) == ("admit", "ok", ["persons_mismatch"])
    assert row.scanned_at == happened and row.received_at > happened + 10 * MINUTE
    trip.refresh_from_db()
    assert (trip.status, trip.entered_at) == ("inside", happened)
    assert not Alert.objects.exists()


def test_an_online_scan_says_it_was_not_offline(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    answer = scan(staff_client, checkpoint, token_of(open_trip(dispatcher, checkpoint))).json()

    assert (answer["offline"], answer["conflicts"]) == (False, [])
    assert ScanEvent.objects.get().offline is False


def test_an_offline_exit_closes_the_trip(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    with time_machine.travel(timezone.now() - 30 * MINUTE, tick=False):
        scan(staff_client, checkpoint, token_of(trip), "in")
    when = timezone.now() - 5 * MINUTE

    r = sync(staff_client, checkpoint, offline_body(token_of(trip), "out", scanned_at=when))

    assert r.status_code == 201 and r.json()["conflicts"] == []
    trip.refresh_from_db()
    assert (trip.status, trip.exited_at, pass_of(trip).status) == ("exited", when, "completed")


def test_an_entry_made_offline_before_an_exit_recorded_online_is_no_conflict(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    # The tablet at the entry was offline; the exit elsewhere was online, with no entry known.
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)
    entered = timezone.now() - 30 * MINUTE
    assert scan(staff_client, checkpoint, token, "out").json()["warnings"] == ["not_inside"]

    r = sync(staff_client, checkpoint, offline_body(token, scanned_at=entered))

    assert r.json()["conflicts"] == []
    assert Trip.objects.get(pk=trip.pk).status == "exited"  # it has left: nothing undone
    assert not Alert.objects.exists()


def test_a_second_admission_at_another_checkpoint_is_one_conflict(
    staff_client: Any, api_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    other = CheckpointFactory(code="JZ-G207-S", name="焦作南站")
    elsewhere = api_client.__class__()
    elsewhere.force_authenticate(staff_user(other))
    token = token_of(trip)

    first = sync(staff_client, checkpoint, offline_body(token, scanned_at=at(-0.5)))
    second = sync(elsewhere, other, offline_body(token, scanned_at=at(-0.25)))

    assert first.json()["conflicts"] == []
    assert second.status_code == 201
    assert (second.json()["verdict"], second.json()["conflicts"]) == ("admit", ["already_inside"])
    [alert] = Alert.objects.all()
    assert (alert.kind, alert.checkpoint, alert.trip_id) == ("offline_conflict", other, trip.pk)
    assert alert.scan_id == second.json()["id"]
    assert alert.detail == {
        "reason": "already_inside",
        "offline_verdict": "admit",
        "offline_reason": "ok",
        "entered_at_checkpoint": checkpoint.code,
    }
    assert Trip.objects.get(pk=trip.pk).entered_at == datetime.fromisoformat(
        first.json()["scanned_at"]
    )


def test_the_second_to_arrive_conflicts_even_when_it_happened_first(
    staff_client: Any, api_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    other = CheckpointFactory()
    elsewhere = api_client.__class__()
    elsewhere.force_authenticate(staff_user(other))
    token = token_of(trip)

    later = sync(staff_client, checkpoint, offline_body(token, scanned_at=at(-0.25)))
    earlier = sync(elsewhere, other, offline_body(token, scanned_at=at(-0.5)))

    assert (later.json()["conflicts"], earlier.json()["conflicts"]) == ([], ["already_inside"])
    assert alerts() == [("offline_conflict", "already_inside")]


@pytest.mark.parametrize(("when", "conflicts"), [(-30, ["revoked"]), (-5, [])])
def test_a_revocation_conflicts_only_if_it_came_before_the_scan(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any, when: int, conflicts: list[str]
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)
    revoked_at = timezone.now() + when * MINUTE
    with time_machine.travel(revoked_at, tick=False):
        revoke_active_passes(trip=trip, reason="检疫要求", now=timezone.now())

    r = sync(staff_client, checkpoint, offline_body(token, scanned_at=timezone.now() - 10 * MINUTE))

    assert r.json()["conflicts"] == conflicts
    if conflicts:
        alert = Alert.objects.get(kind="offline_conflict")
        assert datetime.fromisoformat(alert.detail["revoked_at"]) == revoked_at
    else:
        assert not Alert.objects.exists()
    # Admitted at the gate all the same: the truck is inside.
    assert Trip.objects.get(pk=trip.pk).status == "inside"


@pytest.mark.parametrize(("when", "conflicts"), [(-30, ["cancelled"]), (-5, [])])
def test_a_cancellation_conflicts_only_if_it_came_before_the_scan(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any, when: int, conflicts: list[str]
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)
    with time_machine.travel(timezone.now() + when * MINUTE, tick=False):
        services.trip_cancel(actor=dispatcher, trip=trip)

    r = sync(staff_client, checkpoint, offline_body(token, scanned_at=timezone.now() - 10 * MINUTE))

    assert r.json()["conflicts"] == conflicts
    assert [kind for kind, _ in alerts()] == (["offline_conflict"] if conflicts else [])
    assert Trip.objects.get(pk=trip.pk).status == "cancelled"  # a closed trip stays closed


def test_red_at_the_time_is_a_conflict_red_since_is_not(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    with time_machine.travel(timezone.now() - HOUR, tick=False):  # issued before the scans
        red = open_trip(dispatcher, checkpoint, test_result="positive")
        green_then = open_trip(dispatcher, checkpoint)
    assert active_pass(red).colour == "red"
    scanned = timezone.now() - 10 * MINUTE
    with time_machine.travel(timezone.now() - 5 * MINUTE, tick=False):
        services.trip_set_test_result(
            actor=dispatcher, trip=green_then, result="positive", sampled_at=at(-1)
        )
    assert active_pass(green_then).colour == "red"

    was_red = sync(staff_client, checkpoint, offline_body(token_of(red), scanned_at=scanned))
    was_green = sync(
        staff_client, checkpoint, offline_body(token_of(green_then), scanned_at=scanned)
    )

    assert (was_red.json()["conflicts"], was_green.json()["conflicts"]) == (["red_code"], [])
    assert alerts() == [("offline_conflict", "red_code")]


def test_green_since_but_red_at_the_time_is_a_conflict(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    with time_machine.travel(timezone.now() - HOUR, tick=False):
        trip = open_trip(dispatcher, checkpoint, test_result="positive")
    scanned = timezone.now() - 10 * MINUTE
    with time_machine.travel(timezone.now() - 5 * MINUTE, tick=False):
        services.trip_set_test_result(
            actor=dispatcher, trip=trip, result="negative", sampled_at=at(-1)
        )
    assert active_pass(trip).colour == "green"

    r = sync(staff_client, checkpoint, offline_body(token_of(trip), scanned_at=scanned))

    assert r.json()["conflicts"] == ["red_code"]


def test_any_other_refusal_of_the_server_is_a_conflict_too(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    early = make_trip(dispatcher, checkpoint)  # its window opens in some hours
    with time_machine.travel(timezone.now() - HOUR, tick=False):
        used = open_trip(dispatcher, checkpoint)
        scan(staff_client, checkpoint, token_of(used), "in")
        scan(staff_client, checkpoint, token_of(used), "out")

    not_yet = sync(staff_client, checkpoint, offline_body(token_of(early), scanned_at=at(-0.1)))
    again = sync(staff_client, checkpoint, offline_body(token_of(used), scanned_at=at(-0.01)))

    assert not_yet.json()["conflicts"] == ["not_yet_valid"]
    assert again.json()["conflicts"] == ["used"]
    assert alerts() == [("offline_conflict", "not_yet_valid"), ("offline_conflict", "used")]
    assert Trip.objects.get(pk=early.pk).status == "inside"  # let in at the gate


@pytest.mark.parametrize(
    ("offset_ms", "device_minutes_ago", "far_off"),
    [
        (-1_200, 10, False),
        (4 * 60_000, 10, False),
        (-6 * 60_000, 10, True),  # the clock five minutes and more off
        (0, -10, True),  # it happened in the future
        (0, 25 * 60, True),  # more than a day ago
        (None, 10, False),  # no offset measured
    ],
)
def test_a_clock_far_off_raises_an_alert(
    staff_client: Any,
    checkpoint: Checkpoint,
    dispatcher: Any,
    offset_ms: int | None,
    device_minutes_ago: int,
    far_off: bool,
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    device = timezone.now() - device_minutes_ago * MINUTE
    body = offline_body(token_of(trip), offset_ms=offset_ms, scanned_at=device)

    r = sync(staff_client, checkpoint, body)

    assert r.status_code == 201
    row = ScanEvent.objects.get()
    assert row.scanned_at <= row.received_at  # never later than it reached the server
    clock = Alert.objects.filter(kind="offline_clock")
    assert clock.exists() is far_off
    if far_off:
        assert clock.get().detail["clock_offset_ms"] == offset_ms
        assert clock.get().scan == row


@pytest.mark.parametrize(
    ("reason", "alert"),
    [("red_code", "red_code"), ("already_inside", "already_inside"), ("expired", None)],
)
def test_a_refusal_changes_nothing_and_raises_what_it_raises_online(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any, reason: str, alert: str | None
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    body = offline_body(token_of(trip), verdict="refuse", reason=reason)

    r = sync(staff_client, checkpoint, body)

    assert r.status_code == 201
    assert (r.json()["verdict"], r.json()["reason"], r.json()["conflicts"]) == (
        "refuse",
        reason,
        [],
    )
    trip.refresh_from_db()
    assert (trip.status, trip.entered_at, pass_of(trip).status) == ("registered", None, "active")
    assert list(Alert.objects.values_list("kind", "key")) == (
        [(alert, f"{alert}:{pass_of(trip).pk}")] if alert else []
    )


def test_an_unknown_pass_or_a_forged_code_admitted_offline_conflict(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    from trucks import passcode

    ghost = passcode.encode(pass_id=999_999, valid_until=at(10))
    forged = token_of(open_trip(dispatcher, checkpoint))
    forged = forged[:60] + ("B" if forged[60] != "B" else "C") + forged[61:]

    unknown = sync(staff_client, checkpoint, offline_body(ghost))
    bad = sync(staff_client, checkpoint, offline_body(forged))

    assert (unknown.json()["conflicts"], bad.json()["conflicts"]) == (["unknown"], ["invalid"])
    assert unknown.json()["trip"] is None and bad.json()["pass"] is None
    assert sorted(Alert.objects.values_list("kind", flat=True)) == [
        "forged",
        "offline_conflict",
        "offline_conflict",
    ]


def test_a_scan_sent_again_is_answered_from_its_record_and_raises_nothing_again(
    staff_client: Any, api_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    scan(staff_client, checkpoint, token_of(trip))  # inside already: the offline one conflicts
    body = offline_body(token_of(trip), offset_ms=-10 * 60_000)

    first = sync(staff_client, checkpoint, body)
    again = sync(staff_client, checkpoint, body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["replayed"] is True
    assert {k: v for k, v in again.json().items() if k != "replayed"} == {
        k: v for k, v in first.json().items() if k != "replayed"
    }
    assert again.json()["conflicts"] == ["already_inside"] and again.json()["offline"] is True
    assert ScanEvent.objects.filter(offline=True).count() == 1
    assert sorted(Alert.objects.values_list("kind", flat=True)) == [
        "offline_clock",
        "offline_conflict",
    ]
    listed = staff_client.get(scan_url(checkpoint)).json()
    assert [(s["offline"], s["conflicts"]) for s in listed] == [
        (True, ["already_inside"]),
        (False, []),
    ]


MISSING = object()


def changed(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = {**body, "offline": {**body["offline"]}}
    for name, value in changes.items():
        target = out["offline"] if name in ("verdict", "reason", "warnings", "offset") else out
        key = "clock_offset_ms" if name == "offset" else name
        if value is MISSING:
            target.pop(key)
        else:
            target[key] = value
    return out


@pytest.mark.parametrize(
    ("changes", "english", "chinese"),
    [
        ({"scan_id": MISSING}, {"scan_id": ["Enter the client scan id."]}, "请填写客户端扫码 ID。"),
        ({"scan_id": None}, {"scan_id": ["Enter the client scan id."]}, "请填写客户端扫码 ID。"),
        ({"scanned_at": MISSING}, {"scanned_at": ["Enter the scan time."]}, "请填写扫码时间。"),
        (
            {"verdict": "maybe"},
            {"offline": {"verdict": ["The verdict is not one of the choices."]}},
            "核验结果不在可选范围内。",
        ),
        ({"reason": MISSING}, {"offline": {"reason": ["Enter the reason."]}}, "请填写原因。"),
        (
            {"reason": "red_code"},
            {
                "offline": {
                    "reason": [
                        "The reason red_code is not one the verdict admit can have for this "
                        "direction."
                    ]
                }
            },
            None,
        ),
        (
            {"direction": "out", "verdict": "admit_with_test", "reason": "test_required"},
            {
                "offline": {
                    "reason": [
                        "The reason test_required is not one the verdict admit_with_test can "
                        "have for this direction."
                    ]
                }
            },
            None,
        ),
        (
            {"warnings": ["nope"]},
            {"offline": {"warnings": {"0": ["The warning is not one of the choices."]}}},
            None,
        ),
        (
            {"warnings": "late_exit"},
            {"offline": {"warnings": ["The list of warnings is not valid."]}},
            None,
        ),
        (
            {"offset": 8 * 24 * 3600 * 1000},
            {"offline": {"clock_offset_ms": ["The device clock offset can be at most 604800000."]}},
            None,
        ),
        (
            {"offset": -8 * 24 * 3600 * 1000},
            {
                "offline": {
                    "clock_offset_ms": ["The device clock offset must be at least -604800000."]
                }
            },
            None,
        ),
        (
            {"offset": "soon"},
            {"offline": {"clock_offset_ms": ["The device clock offset is not valid."]}},
            None,
        ),
        (
            {"offline": "yes"},
            {"offline": {"non_field_errors": ["The offline verdict is not valid."]}},
            None,
        ),
    ],
)
def test_a_bad_offline_body_is_refused_by_field_in_the_users_language(
    staff_client: Any,
    checkpoint: Checkpoint,
    dispatcher: Any,
    changes: dict[str, Any],
    english: dict[str, Any],
    chinese: str | None,
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    body = changed(offline_body(token_of(trip)), **changes)

    en = sync(staff_client, checkpoint, body, language="en")
    zh = sync(staff_client, checkpoint, body, language="zh-hans")

    assert en.status_code == zh.status_code == 400, en.json()
    assert en.json()["code"] == "validation_error"
    assert en.json()["fields"] == english
    assert zh.json()["detail"] == "部分内容填写有误。"
    assert set(zh.json()["fields"]) == set(english)
    if chinese is not None:
        assert chinese in str(zh.json()["fields"])
    assert not ScanEvent.objects.exists()
    assert Trip.objects.get(pk=trip.pk).status == "registered"


def test_every_warning_and_every_possible_outcome_is_accepted(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    from checkpoints.models import Warning
    from checkpoints.verification import OUTCOMES

    token = token_of(open_trip(dispatcher, checkpoint))
    for direction, verdict, reason in sorted(OUTCOMES):
        body = offline_body(token, direction, verdict="refuse", reason=reason)
        body["offline"].update(verdict=verdict, warnings=list(Warning.values))
        assert sync(staff_client, checkpoint, body).status_code == 201, (direction, verdict)


def test_hand_over_and_the_figures_pick_up_a_scan_that_arrives_late(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    WebhookSubscription.objects.create(
        name="常州", url="https://hub.example.cn/hooks/", secret="s", event_types=["trip.entered"]
    )
    trip = open_trip(dispatcher, checkpoint)
    scan(staff_client, checkpoint, token_of(open_trip(dispatcher, checkpoint)))
    later = timezone.now() + timedelta(seconds=11)
    with time_machine.travel(later, tick=False):
        assert scan_events.scan_events_emit() == 1  # the online entry; the cursor moves past it
    rollups.count_new()
    yesterday = timezone.now() - timedelta(hours=20)

    with time_machine.travel(later, tick=False):
        late = sync(staff_client, checkpoint, offline_body(token_of(trip), scanned_at=yesterday))
    with time_machine.travel(later + timedelta(seconds=11), tick=False):
        assert scan_events.scan_events_emit() == 1

    delivery = WebhookDelivery.objects.order_by("pk").last()
    assert delivery is not None and delivery.payload["scan"]["id"] == late.json()["id"]
    assert datetime.fromisoformat(delivery.payload["occurred_at"]) == yesterday
    assert rollups.count_new() == 1  # the late scan; everything else was counted before
    day = timezone.localtime(yesterday).date()
    on_that_day = [
        s for s in ScanEvent.objects.all() if timezone.localtime(s.scanned_at).date() == day
    ]
    assert late.json()["id"] in {s.pk for s in on_that_day}
    assert sum(ScanDay.objects.filter(day=day).values_list("n", flat=True)) == len(on_that_day)
    assert not Pass.objects.filter(counted=False).exists()
