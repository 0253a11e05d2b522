"""The tablet's scan reads its session in the scan's own lock statement: the user its session was
last found to belong to is taken on trust, and nothing is recorded unless the session, read with
the lock, still holds the same data (``passcode_portal.auth.session_on_trust``,
``checkpoints.services.scan_if_session_holds``). Signed out, expired or changed elsewhere, the
scan is answered as the full path answers it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import close_old_connections, connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from checkpoints.models import ScanEvent
from tests.checkpoints.scanning import altered, open_trip, scan_url, token_of
from tests.factories import CheckpointFactory, staff_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            "the session is read with the lock only on PostgreSQL; elsewhere every scan reads it "
            "on its own (tests/checkpoints/test_session_read_each_scan.py); CI runs this on "
            "PostgreSQL"
        ),
    ),
    pytest.mark.usefixtures("kept_between_requests"),
]


@pytest.fixture
def kept_between_requests() -> Iterator[None]:
    # As in production: what a request found about its account is kept for a while.
    with override_settings(API_AUTH_CACHE_SECONDS=60, HOT_CACHE_SECONDS=60):
        yield


@pytest.fixture
def tablet(regions: None, staff: Any, checkpoint: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.get(f"/checkpoints/{checkpoint.code}/scan/").status_code == 200
    return client


def send(client: Client, checkpoint: Any, token: str, *, csrf: bool = True, **body: Any) -> Any:
    close_old_connections()  # as each request starts in production
    headers = {"HTTP_ACCEPT": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}
    if csrf:
        headers["HTTP_X_CSRFTOKEN"] = client.cookies[settings.CSRF_COOKIE_NAME].value
    return client.post(
        scan_url(checkpoint),
        {"token": token, "direction": "in", "scan_id": str(uuid.uuid4()), **body},
        content_type="application/json",
        **headers,
    )


def session_read(sql: str) -> bool:
    """The statement a session is read with on its own (not the lock statement's subquery)."""
    return sql.startswith("SELECT session_data FROM")


def session_of(client: Client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


@pytest.fixture
def trips(regions: None, dispatcher: Any, checkpoint: Any) -> list[Any]:
    return [open_trip(dispatcher, checkpoint) for _ in range(3)]


def test_a_known_session_is_read_with_the_lock_and_the_answer_is_the_same(
    tablet: Client, checkpoint: Any, trips: list[Any]
) -> None:
    first = send(tablet, checkpoint, token_of(trips[0]))
    token = token_of(trips[1])
    with CaptureQueriesContext(connection) as ctx:
        second = send(tablet, checkpoint, token)

    assert (first.status_code, second.status_code) == (201, 201)
    # The two statements of the scan (each prepared first on a new connection), no more.
    statements = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("PREPARE")]
    assert [sql.split(" (")[0] for sql in statements] == [
        "BEGIN; EXECUTE scan_lock_next",
        "EXECUTE scan_write_100_inside_id",
    ]
    assert set(first.json()) == set(second.json())
    assert second.json()["verdict"] == "admit"
    for header in ("Content-Type", "Vary", "X-Frame-Options", "Content-Language"):
        assert first.headers.get(header) == second.headers.get(header), header
    assert "Cookie" in second.headers["Vary"]
    assert ScanEvent.objects.filter(trip=trips[1]).count() == 1


def test_a_session_signed_out_elsewhere_is_refused_and_nothing_recorded(
    tablet: Client, checkpoint: Any, trips: list[Any]
) -> None:
    send(tablet, checkpoint, token_of(trips[0]))
    token = token_of(trips[1])
    session_of(tablet).delete()  # another worker's sign-out

    answer = send(tablet, checkpoint, token)

    assert answer.status_code == 401  # signed out: DRF asks for credentials
    assert not ScanEvent.objects.filter(trip=trips[1]).exists()


def test_an_expired_session_is_refused_and_nothing_recorded(
    tablet: Client, checkpoint: Any, trips: list[Any]
) -> None:
    send(tablet, checkpoint, token_of(trips[0]))
    token = token_of(trips[1])
    Session.objects.filter(pk=session_of(tablet).pk).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    assert send(tablet, checkpoint, token).status_code == 401
    assert not ScanEvent.objects.filter(trip=trips[1]).exists()


def test_a_session_changed_elsewhere_is_read_in_full_and_the_scan_recorded_once(
    tablet: Client, checkpoint: Any, trips: list[Any], staff: Any
) -> None:
    send(tablet, checkpoint, token_of(trips[0]))
    token = token_of(trips[1])
    stored = session_of(tablet)
    data = stored.get_decoded()
    data["seen_elsewhere"] = True
    Session.objects.filter(pk=stored.pk).update(
        session_data=Session.objects.encode(data)  # type: ignore[attr-defined]
    )

    with CaptureQueriesContext(connection) as ctx:
        answer = send(tablet, checkpoint, token)

    assert answer.status_code == 201
    assert any(session_read(q["sql"]) for q in ctx.captured_queries)
    assert ScanEvent.objects.filter(trip=trips[1], staff=staff).count() == 1
    # The session as it now is was found again: the next scan takes it on trust.
    with CaptureQueriesContext(connection) as ctx:
        assert send(tablet, checkpoint, token_of(trips[2])).status_code == 201
    assert not any(session_read(q["sql"]) for q in ctx.captured_queries)


def test_a_scan_without_the_csrf_token_is_refused_on_trust_too(
    tablet: Client, checkpoint: Any, trips: list[Any]
) -> None:
    send(tablet, checkpoint, token_of(trips[0]))

    answer = send(tablet, checkpoint, token_of(trips[1]), csrf=False)

    assert answer.status_code == 403
    assert "CSRF" in answer.json()["detail"]
    assert not ScanEvent.objects.filter(trip=trips[1]).exists()


def test_uncommon_scans_on_trust_are_answered_by_the_full_path_once(
    tablet: Client, checkpoint: Any, trips: list[Any]
) -> None:
    send(tablet, checkpoint, token_of(trips[0]))
    scan_id = str(uuid.uuid4())

    forged = send(tablet, checkpoint, altered(token_of(trips[1])))
    first = send(tablet, checkpoint, token_of(trips[2]), scan_id=scan_id)
    again = send(tablet, checkpoint, token_of(trips[2]), scan_id=scan_id)

    assert (forged.status_code, forged.json()["reason"]) == (201, "invalid")
    assert ScanEvent.objects.filter(reason="invalid").count() == 1
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["replayed"] is True
    assert ScanEvent.objects.filter(scan_id=scan_id).count() == 1


def test_staff_of_another_checkpoint_is_refused_on_trust_as_in_full(
    regions: None, dispatcher: Any, checkpoint: Any
) -> None:
    elsewhere = staff_user(CheckpointFactory(code="JZ-OTHER"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(elsewhere)
    assert client.get("/checkpoints/JZ-OTHER/scan/").status_code == 200
    trip, other = open_trip(dispatcher, checkpoint), open_trip(dispatcher, checkpoint)
    # Found once at its own checkpoint, so taken on trust from then on.
    assert send(client, "JZ-OTHER", token_of(other)).status_code == 201

    answer = send(client, checkpoint, token_of(trip))

    assert answer.status_code == 403
    assert answer.json()["code"] == "not_assigned"
    assert not ScanEvent.objects.filter(checkpoint=checkpoint).exists()


def test_a_session_signed_out_elsewhere_is_asked_to_sign_in_even_where_it_may_not_scan(
    regions: None, dispatcher: Any, checkpoint: Any, tablet: Client, trips: list[Any]
) -> None:
    CheckpointFactory(code="JZ-OTHER")
    send(tablet, checkpoint, token_of(trips[0]))
    token = token_of(trips[1])
    session_of(tablet).delete()

    # Not assigned there; but signed out first of all, and that is the answer.
    assert send(tablet, "JZ-OTHER", token).status_code == 401
    assert send(tablet, "NO-SUCH-SITE", token).status_code == 401
