"""The scan's fast route (passcode_portal.fastroutes + checkpoints.fastpath) answers token scans
in front of Django's middleware and DRF, exactly as the full path does, and hands everything
else to Django. These tests call the project's real WSGI application, as gunicorn does."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from rest_framework.authtoken.models import Token

from checkpoints import fastpath
from checkpoints.models import Alert, ScanEvent
from tests.checkpoints.scanning import open_trip, scan, scan_url, token_of
from tests.factories import CheckpointFactory, staff_user
from tests.wsgi import wsgi_post
from trucks.models import Trip, TripStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keep_the_test_transaction")]


@pytest.fixture
def key(staff: User) -> str:
    return str(Token.objects.create(user=staff).key)


def test_it_admits_a_pass_and_answers_as_the_full_path_does(
    dispatcher: User, checkpoint: Any, key: str, staff_client: Any
) -> None:
    fast_trip = open_trip(dispatcher, checkpoint)
    full_trip = open_trip(dispatcher, checkpoint)

    fast = wsgi_post(
        scan_url(checkpoint),
        {"token": token_of(fast_trip), "direction": "in"},
        key=key,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    full = scan(staff_client, checkpoint, token_of(full_trip))

    assert fast.status_code == full.status_code == 201
    body = fast.json()
    assert set(body) == set(full.json())
    assert (body["verdict"], body["reason"], body["message"]) == (
        full.json()["verdict"],
        full.json()["reason"],
        full.json()["message"],
    )
    assert body["trip"]["status"] == "inside"
    assert Trip.objects.get(pk=fast_trip.pk).status == TripStatus.INSIDE
    assert fast.headers["Content-Type"] == "application/json"
    assert fast.headers["X-Content-Type-Options"] == "nosniff"
    assert fast.headers["Content-Language"] == "en"


def test_it_speaks_chinese_by_default(dispatcher: User, checkpoint: Any, key: str) -> None:
    trip = open_trip(dispatcher, checkpoint)

    answer = wsgi_post(scan_url(checkpoint), {"token": token_of(trip), "direction": "in"}, key=key)

    assert answer.status_code == 201
    assert answer.headers["Content-Language"] == "zh-hans"
    assert answer.json()["message"] != "Valid pass. Admit."


def test_a_repeated_scan_id_is_answered_from_the_record(
    dispatcher: User, checkpoint: Any, key: str
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    body = {"token": token_of(trip), "direction": "in", "scan_id": str(uuid.uuid4())}

    first = wsgi_post(scan_url(checkpoint), body, key=key)
    again = wsgi_post(scan_url(checkpoint), body, key=key)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["replayed"] is True
    assert ScanEvent.objects.count() == 1


def test_a_scan_id_from_another_checkpoint_is_a_conflict_as_on_the_full_path(
    dispatcher: User, checkpoint: Any, staff: User, key: str, staff_client: Any
) -> None:
    elsewhere = CheckpointFactory()
    staff.checkpoint_assignments.create(checkpoint=elsewhere)
    trip = open_trip(dispatcher, checkpoint)
    scan_id = str(uuid.uuid4())
    body = {"token": token_of(trip), "direction": "in", "scan_id": scan_id}
    assert wsgi_post(scan_url(checkpoint), body, key=key).status_code == 201

    fast = wsgi_post(scan_url(elsewhere), body, key=key, HTTP_ACCEPT_LANGUAGE="en")
    other_account = wsgi_post(
        scan_url(checkpoint),
        body,
        key=Token.objects.create(user=staff_user(checkpoint)).key,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    # Last: Django's test client hooks up again the receiver that closes connections.
    full = scan(staff_client, elsewhere, token_of(trip), scan_id=scan_id)

    assert fast.status_code == full.status_code == other_account.status_code == 409
    assert fast.json() == full.json() == other_account.json()
    assert fast.json()["code"] == "scan_id_conflict"
    assert fast.headers["Content-Language"] == "en"
    assert trip.reference not in fast.body.decode()
    assert ScanEvent.objects.count() == 1


def test_a_differing_plate_is_sent_back_as_on_the_full_path(
    dispatcher: User, checkpoint: Any, key: str, staff_client: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    body = {"token": token_of(trip), "direction": "in", "plate": "豫H99999"}

    fast = wsgi_post(scan_url(checkpoint), body, key=key, HTTP_ACCEPT_LANGUAGE="en")
    confirmed = wsgi_post(scan_url(checkpoint), {**body, "plate_mismatch_confirmed": True}, key=key)
    again = wsgi_post(scan_url(checkpoint), {"token": token_of(trip), "direction": "in"}, key=key)
    full = scan(staff_client, checkpoint, token_of(trip), plate="豫H99999")

    assert fast.status_code == full.status_code == 409
    assert fast.json() == full.json()
    assert (fast.json()["registered_plate"], fast.json()["observed_plate"]) == (
        trip.vehicle.plate,
        "豫H99999",
    )
    assert confirmed.json()["reason"] == "plate_mismatch"
    assert (again.json()["reason"], again.json()["warnings"]) == ("ok", ["refused_recently"])
    assert again.json()["earlier_refusal"]["id"] == confirmed.json()["id"]
    assert ScanEvent.objects.count() == 2


def test_a_red_code_raises_its_alert(dispatcher: User, checkpoint: Any, key: str) -> None:
    trip = open_trip(dispatcher, checkpoint, test_result="positive")

    answer = wsgi_post(scan_url(checkpoint), {"token": token_of(trip), "direction": "in"}, key=key)

    assert answer.json()["reason"] == "red_code"
    assert Alert.objects.filter(kind="red_code", trip=trip).count() == 1


def test_a_wrong_token_is_refused_with_401(checkpoint: Any) -> None:
    answer = wsgi_post(scan_url(checkpoint), {"token": "X", "direction": "in"}, key="nope")

    assert answer.status_code == 401
    assert answer.json()["code"] == "authentication_failed"
    assert answer.headers["WWW-Authenticate"] == "Token"


def test_staff_of_another_checkpoint_is_refused(dispatcher: User, checkpoint: Any) -> None:
    other = staff_user(CheckpointFactory())
    trip = open_trip(dispatcher, checkpoint)
    key = Token.objects.create(user=other).key

    answer = wsgi_post(scan_url(checkpoint), {"token": token_of(trip), "direction": "in"}, key=key)

    assert answer.status_code == 403
    assert answer.json()["code"] == "not_assigned"
    assert Trip.objects.get(pk=trip.pk).status == TripStatus.REGISTERED


def test_an_unknown_checkpoint_is_404(key: str) -> None:
    answer = wsgi_post(scan_url("NO-SUCH-1"), {"token": "X", "direction": "in"}, key=key)

    assert answer.status_code == 404


def test_the_rate_limit_applies(dispatcher: User, checkpoint: Any, key: str) -> None:
    rates = {"auth": "20/min", "scan": "2/min"}
    with override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": rates}):
        answers = [
            wsgi_post(scan_url(checkpoint), {"token": "garbage", "direction": "in"}, key=key)
            for _ in range(3)
        ]

    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].json()["code"] == "throttled"
    assert int(answers[2].headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        (b"{not json", {}),
        ({"token": "", "direction": "in"}, {}),
        ({"token": "X", "direction": "sideways"}, {}),
        ({"token": "X", "direction": "in", "persons": -1}, {}),
    ],
)
def test_what_it_declines_django_answers_in_full(
    checkpoint: Any, key: str, body: Any, extra: dict[str, str]
) -> None:
    answer = wsgi_post(scan_url(checkpoint), body, key=key, **extra)

    assert answer.status_code == 400
    assert answer.json()["code"] in {"validation_error", "parse_error"}
    assert not ScanEvent.objects.exists()


def test_it_declines_browser_sessions(checkpoint: Any, key: str) -> None:
    # A request with a session cookie goes through Django, whose CSRF check then applies.
    environ = {
        "PATH_INFO": scan_url(checkpoint),
        "CONTENT_TYPE": "application/json",
        "HTTP_AUTHORIZATION": f"Token {key}",
    }
    body = json.dumps({"token": "garbage", "direction": "in"}).encode()
    assert fastpath.scan(environ, body) is not None
    assert fastpath.scan({**environ, "HTTP_COOKIE": "sessionid=abc"}, body) is None
