"""passcode_portal.auth.CachedSessionAuthentication: the user of the tablet page's session is
loaded once per API_AUTH_CACHE_SECONDS, as a token's is; the session itself is read on every
request, so signing out takes effect at once, and a deactivated user or a session from before a
password change is refused once the entry expires. (The clock: test_token_auth_cache.)"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
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
def tablet(checkpoint: Any) -> tuple[APIClient, User, str]:
    user = staff_user(checkpoint)
    client = APIClient()
    client.force_login(user)
    return client, user, f"/api/v1/checkpoints/{checkpoint.code}/scans/"


def user_lookups(queries: CaptureQueriesContext) -> int:
    table = connection.ops.quote_name(User._meta.db_table)
    return sum(f"FROM {table} WHERE" in q["sql"] for q in queries.captured_queries)


def test_the_sessions_user_is_loaded_once_for_two_requests(clock: Clock, tablet: Any) -> None:
    client, _, url = tablet

    with CaptureQueriesContext(connection) as queries:
        first = client.get(url)
        clock.now += 59
        second = client.get(url)

    assert first.status_code == second.status_code == 200
    assert user_lookups(queries) == 1


def test_without_the_cache_each_request_loads_the_user(tablet: Any) -> None:
    client, _, url = tablet

    with CaptureQueriesContext(connection) as queries:
        client.get(url)
        client.get(url)

    assert user_lookups(queries) == 2


def test_a_signed_out_session_is_refused_at_once(clock: Clock, tablet: Any) -> None:
    client, _, url = tablet
    assert client.get(url).status_code == 200

    Session.objects.all().delete()

    refused = client.get(url)
    assert refused.status_code == 401
    assert refused.json()["code"] == "not_authenticated"


def test_a_deactivated_user_is_refused_once_the_entry_expires(clock: Clock, tablet: Any) -> None:
    client, user, url = tablet
    assert client.get(url).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])

    cached = client.get(url)
    clock.now += 61
    expired = client.get(url)

    assert cached.status_code == 200  # the documented delay, at most API_AUTH_CACHE_SECONDS
    assert expired.status_code == 401


def test_a_session_from_before_a_password_change_is_refused_once_the_entry_expires(
    clock: Clock, tablet: Any
) -> None:
    client, user, url = tablet
    assert client.get(url).status_code == 200
    user.set_password("a new password 1")
    user.save()

    cached = client.get(url)
    clock.now += 61
    expired = client.get(url)

    assert cached.status_code == 200  # the documented delay, at most API_AUTH_CACHE_SECONDS
    assert expired.status_code == 401
    assert not Session.objects.exists()  # flushed, as Django's get_user does on any page


def test_signing_in_again_after_a_password_change_is_accepted_at_once(
    clock: Clock, tablet: Any
) -> None:
    client, user, url = tablet
    assert client.get(url).status_code == 200
    user.set_password("a new password 1")
    user.save()

    again = APIClient()
    again.force_login(User.objects.get(pk=user.pk))

    assert again.get(url).status_code == 200


def test_a_session_without_its_hash_is_flushed(clock: Clock, tablet: Any) -> None:
    client, _, url = tablet
    assert client.get(url).status_code == 200
    session = Session.objects.get()
    data = session.get_decoded()
    del data["_auth_user_hash"]
    session.session_data = Session.objects.encode(data)
    session.save()

    assert client.get(url).status_code == 401
    assert not Session.objects.exists()
