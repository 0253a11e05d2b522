"""GET /api/v1/checkpoints/{code}/bundle/ (docs/architecture.md, "Offline"): the passes a tablet
scans with when the network is gone. Its shape and rows; which passes it holds (those that ended
less than a day ago whatever their status, and those of trucks in the city) and that it holds no
personal data beyond plates; deltas after a cursor holding exactly the rows changed since (and
those of the margin); a full bundle for an old cursor or a new key set; a malformed cursor
refused by name; gzip; the same queries however many passes; staff of the checkpoint only."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from checkpoints import bundle
from places.models import Checkpoint
from tests.checkpoints.scanning import active_pass, open_trip, pass_of, scan, token_of
from tests.factories import (
    CheckpointFactory,
    UserFactory,
    driver_user,
    staff_user,
    valid_id_number,
    valid_phone,
    whitelisted_company,
)
from tests.factories import dispatcher as make_dispatcher
from tests.lifecycle import bulk_passes
from trucks import passcode, services
from trucks.models import Pass, Trip
from trucks.services.passes import revoke_active_passes

pytestmark = pytest.mark.django_db

FIELDS = [
    "id",
    "colour",
    "status",
    "valid_from",
    "valid_until",
    "trip_status",
    "plate",
    "persons",
    "multi_entry",
    "entry_checkpoint",
    "reference",
    "priority_lane",
]


def url(checkpoint: Checkpoint | str) -> str:
    code = checkpoint if isinstance(checkpoint, str) else checkpoint.code
    return f"/api/v1/checkpoints/{code}/bundle/"


def get(client: Any, checkpoint: Checkpoint, since: str | None = None, **headers: Any) -> Any:
    params = {"since": since} if since is not None else {}
    r = client.get(url(checkpoint), params, HTTP_ACCEPT_LANGUAGE="en", **headers)
    assert r.status_code == 200, r.content[:500]
    return r.json()


def rows(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {row[0]: dict(zip(body["fields"], row, strict=True)) for row in body["passes"]}


def epoch(when: datetime) -> int:
    return int(when.timestamp())


def test_the_bundle_holds_each_pass_as_a_row_of_plain_values(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    co_riders = [
        services.PersonData("王五", valid_id_number(), valid_phone()),
        services.PersonData("赵六", valid_id_number(), valid_phone()),
    ]
    trip = open_trip(dispatcher, checkpoint, co_riders=co_riders)
    pass_ = active_pass(trip)
    before = timezone.now()

    body = get(staff_client, checkpoint)

    assert set(body) == {
        "format",
        "full",
        "cursor",
        "generated_at",
        "server_time_ms",
        "checkpoint",
        "policy",
        "keys",
        "max_pass_id",
        "fields",
        "passes",
    }
    assert (body["format"], body["full"], body["fields"]) == (1, True, FIELDS)
    assert isinstance(body["cursor"], str) and body["cursor"]
    assert body["checkpoint"] == {"id": checkpoint.pk, "code": checkpoint.code}
    assert body["policy"] == {"strict_checkpoint": False, "offline_max_age_minutes": 15}
    assert abs(body["server_time_ms"] / 1000 - before.timestamp()) < 5
    generated = datetime.fromisoformat(body["generated_at"])
    assert body["generated_at"].endswith("Z") and abs(generated - before) < timedelta(seconds=5)
    assert body["max_pass_id"] == pass_.pk
    assert body["keys"] == [
        {"kid": key["kid"], "x": key["x"], "active": key["active"]}
        for key in passcode.public_jwks()["keys"]
    ]
    assert body["passes"] == [
        [
            pass_.pk,
            "green",
            "active",
            epoch(pass_.valid_from),
            epoch(pass_.valid_until),
            "registered",
            trip.vehicle.plate,
            3,  # the driver and two co-riders
            False,
            checkpoint.pk,
            trip.reference,
            False,
        ]
    ]


def test_a_key_in_the_bundle_checks_a_token(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    token = token_of(open_trip(dispatcher, checkpoint))
    key = get(staff_client, checkpoint)["keys"][0]

    raw = base64.b32decode(passcode.normalise(token) + "===")
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(key["x"] + "=="))
    public.verify(raw[9:73], b"TP1" + raw[:9])  # raises if the key does not check it
    assert raw[0] == int(key["kid"]) and key["active"] is True


def test_the_priority_lane_and_the_policy_are_the_ones_in_force(
    staff_client: Any, checkpoint: Checkpoint
) -> None:
    lane = whitelisted_company(priority_lane=True)
    trip = open_trip(make_dispatcher(lane), checkpoint)
    services.policy_publish(actor=None, offline_max_age_minutes=45, strict_checkpoint=True)

    body = get(staff_client, checkpoint)

    assert rows(body)[pass_of(trip).pk]["priority_lane"] is True
    assert body["policy"] == {"strict_checkpoint": True, "offline_max_age_minutes": 45}


def test_revoked_cancelled_used_and_inside_passes_are_held_old_ones_are_not(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    cancelled = open_trip(dispatcher, checkpoint)
    services.trip_cancel(actor=dispatcher, trip=cancelled)
    revoked = open_trip(dispatcher, checkpoint)
    revoke_active_passes(trip=revoked, reason="检疫要求", now=timezone.now())
    used = open_trip(dispatcher, checkpoint)
    scan(staff_client, checkpoint, token_of(used), "in")
    scan(staff_client, checkpoint, token_of(used), "out")
    inside = open_trip(dispatcher, checkpoint)
    scan(staff_client, checkpoint, token_of(inside), "in")
    waiting = open_trip(dispatcher, checkpoint)

    now = get(staff_client, checkpoint)

    held = {p["id"]: (p["status"], p["trip_status"]) for p in rows(now).values()}
    assert held == {
        pass_of(cancelled).pk: ("revoked", "cancelled"),
        pass_of(revoked).pk: ("revoked", "registered"),
        pass_of(used).pk: ("completed", "exited"),
        pass_of(inside).pk: ("active", "inside"),
        pass_of(waiting).pk: ("active", "registered"),
    }
    # A day and more after every window ended: only the truck still in the city is held.
    later = pass_of(inside).valid_until + timedelta(hours=25)
    with time_machine.travel(later, tick=False):
        then = get(staff_client, checkpoint)
    assert list(rows(then)) == [pass_of(inside).pk]
    # Within the day, all still are.
    with time_machine.travel(later - timedelta(hours=2), tick=False):
        assert set(rows(get(staff_client, checkpoint))) == set(held)


def test_no_driver_names_id_numbers_or_phones_are_in_the_bundle(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    rider = services.PersonData("王小五", valid_id_number(), valid_phone())
    trip = open_trip(dispatcher, checkpoint, co_riders=[rider])
    scan(staff_client, checkpoint, token_of(open_trip(dispatcher, checkpoint)), "in")

    r = staff_client.get(url(checkpoint))

    text = r.content.decode()
    personal = [rider.name, rider.id_number, rider.phone]
    for trip_ in Trip.objects.select_related("driver"):
        personal += [trip_.driver.name, trip_.driver.id_number, trip_.driver.phone]
    assert not [value for value in personal if value in text]
    assert trip.vehicle.plate in text


def test_a_delta_holds_exactly_the_rows_changed_since_the_cursor_and_the_margin(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        untouched = open_trip(dispatcher, checkpoint)
        to_cancel = open_trip(dispatcher, checkpoint)
        to_enter = open_trip(dispatcher, checkpoint)
        to_revoke = open_trip(dispatcher, checkpoint)
    with time_machine.travel(start + timedelta(minutes=9), tick=False):
        # Stamped a minute before the cursor, committed (say) after it: the margin holds it.
        late = open_trip(dispatcher, checkpoint)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        full = get(staff_client, checkpoint)
    assert len(full["passes"]) == 5
    with time_machine.travel(start + timedelta(minutes=15), tick=False):
        services.trip_cancel(actor=dispatcher, trip=to_cancel)
        scan(staff_client, checkpoint, token_of(to_enter), "in")
        revoke_active_passes(trip=to_revoke, reason="检疫要求", now=timezone.now())
        issued = open_trip(dispatcher, checkpoint)
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        delta = get(staff_client, checkpoint, since=full["cursor"])

    assert delta["full"] is False
    changed = rows(delta)
    assert set(changed) == {pass_of(t).pk for t in (to_cancel, to_enter, to_revoke, late, issued)}
    assert pass_of(untouched).pk not in changed
    assert changed[pass_of(to_cancel).pk]["trip_status"] == "cancelled"
    assert changed[pass_of(to_enter).pk]["trip_status"] == "inside"
    assert changed[pass_of(to_revoke).pk]["status"] == "revoked"
    assert delta["cursor"] != full["cursor"]
    # Nothing since (the changes were made more than the margin before the cursor): an empty
    # delta, with the keys and the policy all the same.
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        quiet = get(staff_client, checkpoint, since=delta["cursor"])
    assert (quiet["full"], quiet["passes"]) == (False, [])
    assert quiet["keys"] == full["keys"] and quiet["policy"] == full["policy"]


def test_a_regrade_and_a_new_priority_lane_are_in_the_delta(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    start = timezone.now()
    company = make_dispatcher().company_membership.company
    with time_machine.travel(start, tick=False):
        regraded = open_trip(dispatcher, checkpoint)
        laned = open_trip(make_dispatcher(company), checkpoint)
        open_trip(dispatcher, checkpoint)
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        full = get(staff_client, checkpoint)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        services.trip_set_test_result(
            actor=dispatcher,
            trip=regraded,
            result="positive",
            sampled_at=timezone.now() - timedelta(hours=1),
        )
        whitelisted_company(company, priority_lane=True)

        delta = get(staff_client, checkpoint, since=full["cursor"])

    changed = rows(delta)
    assert set(changed) == {pass_of(regraded).pk, pass_of(laned).pk}
    assert changed[pass_of(regraded).pk]["colour"] == "red"
    assert changed[pass_of(laned).pk]["priority_lane"] is True


def test_a_hundred_changes_make_a_delta_of_a_hundred_rows(
    staff_client: Any, checkpoint: Checkpoint
) -> None:
    now = timezone.now()
    start = now - timedelta(minutes=30)
    window = {"valid_from": now - timedelta(hours=1), "valid_until": now + timedelta(days=1)}
    passes = bulk_passes(300, checkpoint=checkpoint, issued_at=start - timedelta(hours=1), **window)
    Trip.objects.update(updated_at=start - timedelta(hours=1))
    with time_machine.travel(start, tick=False):
        full = get(staff_client, checkpoint)
    changed = [p.pk for p in passes[::3]]
    Pass.objects.filter(pk__in=changed).update(
        status="revoked", revoked_at=start + timedelta(minutes=10)
    )

    delta = get(staff_client, checkpoint, since=full["cursor"])

    assert len(full["passes"]) == 300
    assert sorted(rows(delta)) == sorted(changed) and len(changed) == 100


def test_an_old_cursor_a_cursor_ahead_or_a_new_key_set_give_a_full_bundle(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any, settings: Any
) -> None:
    open_trip(dispatcher, checkpoint)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        cursor = get(staff_client, checkpoint)["cursor"]
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        assert get(staff_client, checkpoint, since=cursor)["full"] is False
    with time_machine.travel(start + timedelta(hours=24, minutes=1), tick=False):
        assert get(staff_client, checkpoint, since=cursor)["full"] is True
    with time_machine.travel(start - timedelta(minutes=5), tick=False):
        assert get(staff_client, checkpoint, since=cursor)["full"] is True

    another = Ed25519PrivateKey.generate().public_key()
    raw = another.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    settings.PASS_VERIFY_KEYS = [f"7:{base64.b64encode(raw).decode()}"]
    rotated = get(staff_client, checkpoint, since=cursor)

    assert rotated["full"] is True and len(rotated["passes"]) == 1
    assert len(rotated["keys"]) == 2 and "7" in {key["kid"] for key in rotated["keys"]}


@pytest.mark.parametrize(
    "since",
    ["yesterday", "123", "1796160600123.zz", "1796160600123.0123456789ab.x", "-5.0123456789ab"],
)
def test_a_malformed_cursor_is_refused_by_name(
    staff_client: Any, checkpoint: Checkpoint, since: str
) -> None:
    english = staff_client.get(url(checkpoint), {"since": since}, HTTP_ACCEPT_LANGUAGE="en")
    chinese = staff_client.get(url(checkpoint), {"since": since}, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert english.status_code == chinese.status_code == 400
    assert english.json()["code"] == "validation_error"
    assert english.json()["fields"]["since"] == [
        "This is not a cursor this server gave. Send the cursor of the last bundle, or none for "
        "a full bundle."
    ]
    assert chinese.json()["detail"] == "部分内容填写有误。"
    assert list(chinese.json()["fields"]) == ["since"]


def test_an_empty_cursor_is_a_full_bundle(staff_client: Any, checkpoint: Checkpoint) -> None:
    assert get(staff_client, checkpoint, since="")["full"] is True


def test_the_bundle_is_gzipped_when_the_tablet_accepts_it(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    for _ in range(3):
        open_trip(dispatcher, checkpoint)

    r = staff_client.get(url(checkpoint), HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    plain = staff_client.get(url(checkpoint))

    assert r.status_code == 200 and r["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in r["Vary"]
    body = json.loads(gzip.decompress(r.content))
    assert body["passes"] == plain.json()["passes"] and len(body["passes"]) == 3
    assert not plain.has_header("Content-Encoding")


def test_the_queries_do_not_grow_with_the_passes(
    staff_client: Any, checkpoint: Checkpoint, dispatcher: Any
) -> None:
    now = timezone.now()
    window = {"valid_from": now - timedelta(hours=1), "valid_until": now + timedelta(days=1)}
    staff_client.get(url(checkpoint))  # the user's posts, read once per user

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(url(checkpoint)).status_code == 200
        return len(captured)

    bulk_passes(3, checkpoint=checkpoint, **window)
    few = queries()
    bulk_passes(200, checkpoint=checkpoint, company=whitelisted_company(), **window)
    many = queries()

    # The checkpoint, the policy and the priority lanes (kept a few seconds in production, not
    # in tests), the highest pass id, and the passes in two reads.
    assert few == many <= 6


@pytest.mark.parametrize("role", ["another checkpoint", "driver", "dispatcher", "official", "none"])
def test_others_are_refused(
    api_client: Any, checkpoint: Checkpoint, dispatcher: Any, role: str
) -> None:
    open_trip(dispatcher, checkpoint)
    user = {
        "another checkpoint": lambda: staff_user(CheckpointFactory()),
        "driver": driver_user,
        "dispatcher": lambda: dispatcher,
        "official": lambda: UserFactory(role="official"),
        "none": staff_user,  # staff posted nowhere
    }[role]()
    api_client.force_authenticate(user)

    r = api_client.get(url(checkpoint), HTTP_ACCEPT_LANGUAGE="en")

    assert r.status_code == 403
    assert r.json()["code"] == "not_assigned"
    assert "passes" not in r.json()


def test_anonymous_is_refused(api_client: Any, checkpoint: Checkpoint) -> None:
    r = api_client.get(url(checkpoint))

    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"


def test_an_unknown_checkpoint_is_absent(api_client: Any, checkpoint: Checkpoint) -> None:
    api_client.force_authenticate(staff_user(checkpoint))

    assert api_client.get(url("NO-SUCH-CP")).status_code == 404


def test_a_token_signs_the_tablet_in(api_client: Any, checkpoint: Checkpoint, staff: Any) -> None:
    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=staff).key

    r = api_client.get(url(checkpoint), HTTP_AUTHORIZATION=f"Token {key}")

    assert r.status_code == 200 and r.json()["full"] is True


def test_a_cursor_reads_back_its_time_and_keys() -> None:
    at = datetime(2026, 12, 1, 13, 30, 0, 123000, tzinfo=UTC)
    cursor = bundle.Cursor(at=at, keys="0123456789ab")

    assert bundle.cursor_parse(cursor.text) == cursor
    assert bundle.cursor_parse(cursor.text + "0") is None
