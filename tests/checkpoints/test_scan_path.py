"""One scan path for the tablet page and for API clients: POST /api/v1/checkpoints/{code}/scans/
goes through the whole of Django's middleware, as every request does, and ``ScanApi`` answers the
plain scan (``plain_scan``) without the rest of DRF's request cycle, exactly as that cycle answers
it; anything else it leaves to DRF. These tests call the project's real WSGI application, as
gunicorn does, with an API token or with the tablet page's session and CSRF token."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from checkpoints.apis import ScanApi
from checkpoints.models import Alert, ScanEvent
from checkpoints.scan_bodies import scan_input_fast
from checkpoints.serializers import ScanInputSerializer
from passcode_portal.throttling import CounterRateThrottle
from tests.checkpoints.scanning import open_trip, scan_url, token_of
from tests.factories import CheckpointFactory, staff_user
from tests.wsgi import Answer, Tablet, wsgi_post
from trucks.models import Trip, TripStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keep_the_test_transaction")]


@pytest.fixture
def key(staff: User) -> str:
    return str(Token.objects.create(user=staff).key)


@pytest.fixture
def tablet(staff: User) -> Tablet:
    return Tablet(staff)


@pytest.fixture
def drf_only() -> Any:
    """Within the block, every scan takes DRF's full request cycle (``plain_scan`` declines)."""

    class Block:
        def __enter__(self) -> None:
            self.patch = pytest.MonkeyPatch()
            self.patch.setattr(ScanApi, "plain_scan", lambda self, request, code: None)

        def __exit__(self, *exc: object) -> None:
            self.patch.undo()

    return Block()


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether ``plain_scan`` answered each scan sent (True) or left it to DRF (False)."""
    seen: list[bool] = []
    plain_scan = ScanApi.plain_scan

    def spy(self: ScanApi, request: Any, code: str) -> Any:
        answer = plain_scan(self, request, code)
        seen.append(answer is not None)
        return answer

    monkeypatch.setattr(ScanApi, "plain_scan", spy)
    return seen


def same_answer(plain: Answer, full: Answer) -> None:
    assert plain.status_code == full.status_code
    assert plain.headers == full.headers
    assert plain.body == full.body


# --- The plain scan, as an API client and the tablet page send it ----------------------------


def test_a_token_scan_is_admitted_and_answered_as_drf_answers_it(
    dispatcher: User, checkpoint: Any, key: str, drf_only: Any, answered: list[bool]
) -> None:
    plain_trip, full_trip = open_trip(dispatcher, checkpoint), open_trip(dispatcher, checkpoint)

    plain = wsgi_post(
        scan_url(checkpoint),
        {"token": token_of(plain_trip), "direction": "in"},
        key=key,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answered == [True]
    with drf_only:
        full = wsgi_post(
            scan_url(checkpoint),
            {"token": token_of(full_trip), "direction": "in"},
            key=key,
            HTTP_ACCEPT_LANGUAGE="en",
        )

    assert plain.status_code == full.status_code == 201
    assert plain.headers == full.headers
    assert plain.headers["Content-Type"] == "application/json"
    assert plain.headers["Content-Language"] == "en"
    assert plain.headers["Allow"] == "GET, POST, HEAD, OPTIONS"
    body, other = plain.json(), full.json()
    assert set(body) == set(other)
    assert (body["verdict"], body["reason"], body["message"]) == (
        other["verdict"],
        other["reason"],
        other["message"],
    )
    assert body["trip"]["status"] == "inside"
    assert Trip.objects.get(pk=plain_trip.pk).status == TripStatus.INSIDE


def test_the_tablet_pages_scan_is_admitted_and_answered_as_drf_answers_it(
    dispatcher: User, checkpoint: Any, tablet: Tablet, drf_only: Any, answered: list[bool]
) -> None:
    # As static/js/scan.js sends it: a scan_id and the time the device scanned.
    def body(trip: Trip) -> dict[str, Any]:
        return {
            "token": token_of(trip),
            "direction": "in",
            "scan_id": str(uuid.uuid4()),
            # new Date().toISOString(), a moment ago
            "scanned_at": (timezone.now() - timedelta(seconds=5))
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        }

    plain_trip, full_trip = open_trip(dispatcher, checkpoint), open_trip(dispatcher, checkpoint)

    plain = tablet.post(scan_url(checkpoint), body(plain_trip), HTTP_ACCEPT_LANGUAGE="en")
    assert answered == [True]
    with drf_only:
        full = tablet.post(scan_url(checkpoint), body(full_trip), HTTP_ACCEPT_LANGUAGE="en")

    assert plain.status_code == full.status_code == 201, plain.body
    assert plain.headers == full.headers
    assert "Cookie" in plain.headers["Vary"]
    assert plain.json()["reason"] == full.json()["reason"] == "ok"
    assert ScanEvent.objects.count() == 2


def test_a_scan_speaks_chinese_by_default(dispatcher: User, checkpoint: Any, key: str) -> None:
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


def test_a_red_code_raises_its_alert(dispatcher: User, checkpoint: Any, tablet: Tablet) -> None:
    trip = open_trip(dispatcher, checkpoint, test_result="positive")

    answer = tablet.post(scan_url(checkpoint), {"token": token_of(trip), "direction": "in"})

    assert answer.json()["reason"] == "red_code"
    assert Alert.objects.filter(kind="red_code", trip=trip).count() == 1


# --- Refusals: the same answer whichever part of the view gives it ---------------------------


def test_a_scan_id_from_another_checkpoint_is_the_same_conflict(
    dispatcher: User, checkpoint: Any, staff: User, key: str, drf_only: Any, answered: list[bool]
) -> None:
    elsewhere = CheckpointFactory()
    staff.checkpoint_assignments.create(checkpoint=elsewhere)
    trip = open_trip(dispatcher, checkpoint)
    body = {"token": token_of(trip), "direction": "in", "scan_id": str(uuid.uuid4())}
    assert wsgi_post(scan_url(checkpoint), body, key=key).status_code == 201

    plain = wsgi_post(scan_url(elsewhere), body, key=key, HTTP_ACCEPT_LANGUAGE="en")
    assert answered == [True, True]
    with drf_only:
        full = wsgi_post(scan_url(elsewhere), body, key=key, HTTP_ACCEPT_LANGUAGE="en")

    same_answer(plain, full)
    assert plain.status_code == 409
    assert plain.json()["code"] == "scan_id_conflict"
    assert trip.reference not in plain.body.decode()
    assert ScanEvent.objects.count() == 1


def test_a_differing_plate_is_sent_back_the_same(
    dispatcher: User, checkpoint: Any, tablet: Tablet, drf_only: Any, answered: list[bool]
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    body = {"token": token_of(trip), "direction": "in", "plate": "豫H99999"}

    plain = tablet.post(scan_url(checkpoint), body, HTTP_ACCEPT_LANGUAGE="en")
    assert answered == [True]
    with drf_only:
        full = tablet.post(scan_url(checkpoint), body, HTTP_ACCEPT_LANGUAGE="en")

    same_answer(plain, full)
    assert plain.status_code == 409
    assert (plain.json()["registered_plate"], plain.json()["observed_plate"]) == (
        trip.vehicle.plate,
        "豫H99999",
    )
    assert not ScanEvent.objects.exists()


@pytest.mark.parametrize("case", ["unknown checkpoint", "another checkpoint's staff"])
def test_a_checkpoint_refused_is_the_same_refusal(
    dispatcher: User, checkpoint: Any, case: str, drf_only: Any, answered: list[bool]
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    if case == "unknown checkpoint":
        url, user = scan_url("NO-SUCH-1"), staff_user(checkpoint)
    else:
        url, user = scan_url(checkpoint), staff_user(CheckpointFactory())
    key = Token.objects.create(user=user).key
    body = {"token": token_of(trip), "direction": "in"}

    plain = wsgi_post(url, body, key=key, HTTP_ACCEPT_LANGUAGE="en")
    assert answered == [True]
    with drf_only:
        full = wsgi_post(url, body, key=key, HTTP_ACCEPT_LANGUAGE="en")

    same_answer(plain, full)
    assert plain.status_code == (404 if case == "unknown checkpoint" else 403)
    assert Trip.objects.get(pk=trip.pk).status == TripStatus.REGISTERED


def test_a_wrong_token_is_refused_with_401(checkpoint: Any, answered: list[bool]) -> None:
    answer = wsgi_post(scan_url(checkpoint), {"token": "X", "direction": "in"}, key="nope")

    assert answered == [False]
    assert answer.status_code == 401
    assert answer.json()["code"] == "authentication_failed"
    assert answer.headers["WWW-Authenticate"] == "Token"


def test_a_signed_out_tablet_is_refused_with_401(
    checkpoint: Any, staff: User, tablet: Tablet, answered: list[bool]
) -> None:
    Session.objects.all().delete()

    answer = tablet.post(scan_url(checkpoint), {"token": "X", "direction": "in"})

    assert answered == [False]
    assert answer.status_code == 401
    assert answer.json()["code"] == "not_authenticated"
    assert not ScanEvent.objects.exists()


@pytest.mark.parametrize("csrf", ["", "wrong"])
def test_the_tablet_without_its_csrf_token_is_refused(
    checkpoint: Any, tablet: Tablet, csrf: str
) -> None:
    headers = tablet.headers(csrf=csrf if csrf == "" else "x" * 32)

    answer = wsgi_post(
        scan_url(checkpoint),
        {"token": "X", "direction": "in"},
        **headers,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert answer.status_code == 403
    assert answer.json()["code"] == "permission_denied"
    assert answer.json()["detail"].startswith("CSRF Failed")
    assert not ScanEvent.objects.exists()


def test_the_tablet_from_another_origin_is_refused(checkpoint: Any, tablet: Tablet) -> None:
    headers = tablet.headers(origin="https://evil.example")

    answer = wsgi_post(scan_url(checkpoint), {"token": "X", "direction": "in"}, **headers)

    assert answer.status_code == 403
    assert answer.json()["code"] == "permission_denied"
    assert not ScanEvent.objects.exists()


def test_the_rate_limit_applies(
    checkpoint: Any, key: str, monkeypatch: pytest.MonkeyPatch, answered: list[bool]
) -> None:
    monkeypatch.setattr(CounterRateThrottle, "THROTTLE_RATES", {"scan": "2/min"})

    answers = [
        wsgi_post(
            scan_url(checkpoint),
            {"token": "garbage", "direction": "in"},
            key=key,
            HTTP_ACCEPT_LANGUAGE="en",
        )
        for _ in range(3)
    ]

    assert answered == [True, True, False]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].json() == {
        "code": "throttled",
        "detail": answers[2].json()["detail"],
    }
    assert answers[2].json()["detail"].startswith("Request was throttled.")
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert ScanEvent.objects.count() == 2


# --- Bodies and headers DRF reads otherwise ---------------------------------------------------

BODY = {"token": "X", "direction": "in"}


@pytest.mark.parametrize(
    "data",
    [
        json.dumps(BODY).encode("utf-16"),  # with its byte order mark
        json.dumps(BODY).encode("utf-16-le"),
        json.dumps(BODY).encode("utf-8-sig"),  # UTF-8 behind a byte order mark
        b"\xff" + json.dumps(BODY).encode(),
        b"{not json",
    ],
    ids=["utf-16", "utf-16-le", "utf-8 bom", "not utf-8", "not json"],
)
@pytest.mark.parametrize("caller", ["token", "tablet"])
def test_a_body_that_is_not_utf_8_json_is_a_parse_error(
    checkpoint: Any, key: str, tablet: Tablet, data: bytes, caller: str, answered: list[bool]
) -> None:
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"} if caller == "token" else tablet.headers()

    answer = wsgi_post(scan_url(checkpoint), data, **headers, HTTP_ACCEPT_LANGUAGE="en")

    assert answered == [False]
    assert answer.status_code == 400, answer.body
    assert answer.json()["code"] == "parse_error"
    assert not ScanEvent.objects.exists()


def test_a_body_in_the_character_set_it_names_is_read_in_it(checkpoint: Any, key: str) -> None:
    # As DRF reads every JSON body: in the charset of its Content-Type.
    data = json.dumps(BODY).encode("utf-16")

    answer = wsgi_post(
        scan_url(checkpoint), data, key=key, CONTENT_TYPE="application/json; charset=utf-16"
    )

    assert answer.status_code == 201, answer.body
    assert answer.json()["reason"] == "invalid"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"token": "", "direction": "in"}, "validation_error"),
        ({"token": "X", "direction": "sideways"}, "validation_error"),
        ({"token": "X", "direction": "in", "persons": -1}, "validation_error"),
        ({"token": "X", "direction": "in", "scanned_at": "soon"}, "validation_error"),
        (
            {"token": "X", "direction": "in", "scanned_at": "1999-12-31T23:59:59Z"},
            "validation_error",
        ),
        ([BODY], "validation_error"),
    ],
)
def test_a_body_the_hand_check_declines_gets_drfs_precise_answer(
    checkpoint: Any, tablet: Tablet, body: Any, code: str, answered: list[bool]
) -> None:
    answer = tablet.post(scan_url(checkpoint), body, HTTP_ACCEPT_LANGUAGE="en")

    assert answered == [False]
    assert answer.status_code == 400
    assert answer.json()["code"] == code
    assert not ScanEvent.objects.exists()


def test_an_html_only_client_gets_drfs_406(checkpoint: Any, key: str, answered: list[bool]) -> None:
    answer = wsgi_post(scan_url(checkpoint), BODY, key=key, HTTP_ACCEPT="text/html")

    assert answered == [False]
    assert answer.status_code == 406
    assert not ScanEvent.objects.exists()


def test_another_content_type_gets_drfs_415(checkpoint: Any, key: str) -> None:
    answer = wsgi_post(
        scan_url(checkpoint), b"token=X&direction=in", key=key, CONTENT_TYPE="text/plain"
    )

    assert answer.status_code == 415
    assert not ScanEvent.objects.exists()


# --- The tablet's scan time, read by hand as the serializer reads it --------------------------

times = (
    st.sampled_from(
        [
            "2026-12-01T03:04:05.678Z",
            "2026-12-01T11:04:05+08:00",
            "2026-12-01T03:04:05",
            "2026-12-01 03:04:05Z",
            "2026-12-01",
            "2026-13-01T03:04:05Z",
            "1999-12-31T23:59:59Z",
            "2100-01-01T00:00:00Z",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "soon",
            "",
            "\ud800",
        ]
    )
    | st.text(max_size=30)
    | st.integers()
    | st.floats()
    | st.none()
    | st.booleans()
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scanned_at=times)
def test_the_hand_check_reads_the_scan_time_as_the_serializer_does(scanned_at: Any) -> None:
    body = {"token": "X" * 117, "direction": "in", "scanned_at": scanned_at}

    fast = scan_input_fast(body)
    serializer = ScanInputSerializer(data=body)

    # Only what the serializer refuses is declined, and what it takes is read alike.
    assert (fast is not None) == serializer.is_valid(), (scanned_at, serializer.errors)
    if fast is not None:
        assert fast == serializer.to_scan_input()
