"""POST /api/v1/auth/token/: a token for username and password; failures are counted and locked
out by django-axes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.throttling import ScopedRateThrottle

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    # The "auth" throttle counts requests in the cache, which outlives a test's transaction.
    cache.clear()
    yield
    cache.clear()


def test_it_gives_a_token(api_client: Any) -> None:
    user = UserFactory()

    r = api_client.post(URL, {"username": user.username, "password": PASSWORD}, format="json")

    assert r.status_code == 200
    assert r.json() == {"token": Token.objects.get(user=user).key}


def test_it_gives_the_same_token_twice(api_client: Any) -> None:
    user = UserFactory()
    body = {"username": user.username, "password": PASSWORD}

    assert api_client.post(URL, body, format="json").json() == api_client.post(URL, body).json()


def test_the_token_authenticates(api_client: Any) -> None:
    user = UserFactory(role="dispatcher")
    key = api_client.post(URL, {"username": user.username, "password": PASSWORD}).json()["token"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert api_client.get("/api/v1/trips/").status_code == 200


def test_it_refuses_a_wrong_password(api_client: Any) -> None:
    user = UserFactory()

    r = api_client.post(URL, {"username": user.username, "password": "wrong"}, format="json")

    assert r.status_code == 400
    assert r.json()["code"] == "invalid_credentials"
    assert r.json()["detail"]
    assert not Token.objects.exists()


def test_it_refuses_an_inactive_user(api_client: Any) -> None:
    user = UserFactory(is_active=False)

    r = api_client.post(URL, {"username": user.username, "password": PASSWORD}, format="json")

    assert r.status_code == 400


@pytest.mark.parametrize(
    "body", [{}, {"username": "a"}, {"username": ["a"], "password": "b"}, {"password": "x"}]
)
def test_it_refuses_incomplete_input(api_client: Any, body: dict[str, Any]) -> None:
    r = api_client.post(URL, body, format="json")

    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert r.json()["fields"]


def test_it_locks_out_after_five_failures(api_client: Any) -> None:
    user = UserFactory()
    for _ in range(5):
        api_client.post(URL, {"username": user.username, "password": "wrong"}, format="json")

    r = api_client.post(URL, {"username": user.username, "password": PASSWORD}, format="json")

    assert r.status_code == 429
    assert r.json()["code"] == "locked_out"
    assert not Token.objects.exists()


def test_a_stale_token_header_does_not_stop_a_sign_in(api_client: Any) -> None:
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION="Token stale")

    r = api_client.post(URL, {"username": user.username, "password": PASSWORD}, format="json")

    assert r.status_code == 200


def test_it_is_throttled(api_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The rates are read into the class when DRF loads; patch them there.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "2/min"})

    codes = [
        api_client.post(URL, {"username": f"nobody{i}", "password": "x"}).status_code
        for i in range(3)
    ]

    assert codes == [400, 400, 429]
