"""What a session is taken on trust with (``passcode_portal.auth.session_on_trust``): the data
the session held when its user was found from it, and only then."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.http import HttpRequest
from django.test import Client, override_settings

from passcode_portal import ttlcache
from passcode_portal.auth import session_on_trust, user_for_session
from passcode_portal.sessions import SessionStore
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def kept() -> Iterator[None]:
    ttlcache.clear_all()
    with override_settings(API_AUTH_CACHE_SECONDS=60):
        yield
    ttlcache.clear_all()


def signed_in_request(user: Any) -> HttpRequest:
    client = Client()
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    request = HttpRequest()
    request.COOKIES[settings.SESSION_COOKIE_NAME] = key
    request.session = SessionStore(key)
    return request


def test_a_session_its_user_was_found_from_is_taken_on_trust_with_its_data(
    checkpoint: Any,
) -> None:
    staff = staff_user(checkpoint)
    request = signed_in_request(staff)
    assert session_on_trust(request) is None  # not found yet in this process

    assert user_for_session(request) == staff

    trusted = session_on_trust(request)
    assert trusted is not None
    user, check = trusted
    assert user == staff
    stored = Session.objects.get(session_key=check.key)
    assert check.data == stored.session_data


def test_a_session_the_request_changed_is_not_taken_on_trust(checkpoint: Any) -> None:
    request = signed_in_request(staff_user(checkpoint))
    request.session["language_seen"] = "en"  # changed before its user is found

    assert user_for_session(request) is not None
    assert session_on_trust(request) is None


def test_nothing_is_taken_on_trust_when_nothing_may_be_kept(checkpoint: Any) -> None:
    request = signed_in_request(staff_user(checkpoint))
    with override_settings(API_AUTH_CACHE_SECONDS=0):
        assert user_for_session(request) is not None
        assert session_on_trust(request) is None
