"""passcode_portal.auth.CachedTokenAuthentication: a tablet's token is looked up once per
API_AUTH_CACHE_SECONDS, and a deleted token or deactivated user is refused once that passes.

The cache runs on time.monotonic(), which time-machine (3.6) does not move: it patches the wall
clock only (checked: time.monotonic() advances by microseconds across a one-hour travel). The
cache module's clock is replaced by one the test moves instead."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from passcode_portal import ttlcache
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    clock = Clock()
    monkeypatch.setattr(ttlcache, "time", SimpleNamespace(monotonic=clock.monotonic))
    with override_settings(API_AUTH_CACHE_SECONDS=60):
        yield clock


@pytest.fixture
def tablet(checkpoint: Any) -> tuple[APIClient, Token, str]:
    token = Token.objects.create(user=staff_user(checkpoint))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client, token, f"/api/v1/checkpoints/{checkpoint.code}/scans/"


def token_lookups(queries: CaptureQueriesContext) -> int:
    return sum(Token._meta.db_table in q["sql"] for q in queries.captured_queries)


def test_time_machine_leaves_the_monotonic_clock_alone() -> None:
    # Why the tests below move a clock of their own.
    import time
    from datetime import UTC, datetime, timedelta

    before = time.monotonic()
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=1), tick=False):
        assert time.monotonic() - before < 60


def test_a_token_is_looked_up_once_for_two_requests(clock: Clock, tablet: Any) -> None:
    client, _, url = tablet

    with CaptureQueriesContext(connection) as queries:
        first = client.get(url)
        clock.now += 59
        second = client.get(url)

    assert first.status_code == second.status_code == 200
    assert token_lookups(queries) == 1


def test_without_the_cache_each_request_looks_the_token_up(tablet: Any) -> None:
    client, _, url = tablet

    with CaptureQueriesContext(connection) as queries:
        client.get(url)
        client.get(url)

    assert token_lookups(queries) == 2


def test_a_deleted_token_is_refused_once_the_entry_expires(clock: Clock, tablet: Any) -> None:
    client, token, url = tablet
    assert client.get(url).status_code == 200
    token.delete()

    cached = client.get(url)
    clock.now += 61
    expired = client.get(url)

    assert cached.status_code == 200  # the documented delay, at most API_AUTH_CACHE_SECONDS
    assert expired.status_code == 401
    assert expired.json()["code"] == "authentication_failed"


def test_a_deleted_token_is_refused_at_once_after_clear_all(clock: Clock, tablet: Any) -> None:
    client, token, url = tablet
    assert client.get(url).status_code == 200
    token.delete()

    ttlcache.clear_all()

    assert client.get(url).status_code == 401


def test_a_deactivated_user_is_refused_once_the_entry_expires(clock: Clock, tablet: Any) -> None:
    client, token, url = tablet
    assert client.get(url).status_code == 200
    token.user.is_active = False
    token.user.save(update_fields=["is_active"])

    clock.now += 61

    assert client.get(url).status_code == 401


def test_an_unknown_token_is_refused_and_stays_refused(clock: Clock, tablet: Any) -> None:
    client, _, url = tablet
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    first = client.get(url)
    second = client.get(url)

    assert first.status_code == second.status_code == 401
