"""A scan on a connection kept between requests sends no health check of its own (its first
statement checks the connection), and a connection the server dropped between two scans is
replaced: the scan is answered and recorded once, never a 500 (``passcode_portal.dbcheck``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connection, connections
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token

from checkpoints.models import ScanEvent
from tests.checkpoints.scanning import open_trip, scan_url, token_of
from tests.portal.test_dbcheck import backend_pid, drop_from_the_server, pings, reused_connection

__all__ = ["pings", "reused_connection"]  # the fixtures, shared with the unit tests

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # As in production: the account behind a token or a session, the checkpoint and the policy
    # are kept between requests, so a scan's first statement is its own.
    pytest.mark.usefixtures("kept_between_requests"),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            "SQLite is a file, not a server: there is no connection to drop or check, and "
            "Django's SQLite wrapper answers every health check yes; CI runs this on PostgreSQL"
        ),
    ),
]


@pytest.fixture
def kept_between_requests() -> Iterator[None]:
    with override_settings(API_AUTH_CACHE_SECONDS=60, HOT_CACHE_SECONDS=60):
        yield


@pytest.fixture
def tablet(staff: Any, checkpoint: Any) -> Client:
    """The staff member signed in on the scan page, as the tablet sends its scans."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.get(f"/checkpoints/{checkpoint.code}/scan/").status_code == 200
    return client


@pytest.fixture
def api_client(staff: Any) -> Client:
    token = Token.objects.create(user=staff)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def send(client: Client, checkpoint: Any, token: str, *, tablet: bool) -> Any:
    # What every request starts with in production (request_started), which the test client
    # leaves out: a kept connection is due for its health check again.
    close_old_connections()
    headers: dict[str, str] = {"HTTP_ACCEPT": "application/json"}
    if tablet:
        headers["HTTP_X_CSRFTOKEN"] = client.cookies[settings.CSRF_COOKIE_NAME].value
    return client.post(
        scan_url(checkpoint),
        {"token": token, "direction": "in", "scan_id": str(uuid.uuid4())},
        content_type="application/json",
        **headers,
    )


@pytest.fixture(params=["tablet", "api token"])
def caller(
    request: pytest.FixtureRequest, tablet: Client, api_client: Client
) -> tuple[Client, bool]:
    return (tablet, True) if request.param == "tablet" else (api_client, False)


def test_a_scan_on_a_kept_connection_sends_no_health_check(
    regions: None,
    dispatcher: Any,
    checkpoint: Any,
    caller: tuple[Client, bool],
    reused_connection: None,
    pings: list[None],
) -> None:
    client, is_tablet = caller
    first, second = open_trip(dispatcher, checkpoint), open_trip(dispatcher, checkpoint)
    assert send(client, checkpoint, token_of(first), tablet=is_tablet).status_code == 201
    kept = connections[DEFAULT_DB_ALIAS].connection
    pings.clear()

    assert send(client, checkpoint, token_of(second), tablet=is_tablet).status_code == 201
    assert connections[DEFAULT_DB_ALIAS].connection is kept
    assert pings == []


def test_a_connection_dropped_between_two_scans_is_replaced(
    regions: None,
    dispatcher: Any,
    checkpoint: Any,
    caller: tuple[Client, bool],
    reused_connection: None,
) -> None:
    client, is_tablet = caller
    first, second = open_trip(dispatcher, checkpoint), open_trip(dispatcher, checkpoint)
    token = token_of(second)
    assert send(client, checkpoint, token_of(first), tablet=is_tablet).status_code == 201
    old = backend_pid()
    drop_from_the_server(old)

    answer = send(client, checkpoint, token, tablet=is_tablet)

    assert answer.status_code == 201, answer.content
    assert answer.json()["verdict"] == "admit"
    assert ScanEvent.objects.filter(trip=second).count() == 1
    assert backend_pid() != old
