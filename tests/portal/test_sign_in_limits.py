"""Failed sign-ins are limited per user name and address (AXES_FAILURE_LIMIT) and per address
whatever the user names (AXES_IP_FAILURE_LIMIT), on the sign-in page and the token endpoint
alike: spraying many user names from one address locks that address out, and only it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ATTACKER = "198.51.100.66"
OTHER = "203.0.113.7"
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _fresh_throttle(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The token endpoint's own rate limit (20 a minute) would answer a spray before the lock-out
    # does; lift it here to see the lock-out. The rates are read into the class when DRF loads.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "10000/min"})
    cache.clear()
    yield
    cache.clear()


def sign_in(username: str, password: str, address: str, **headers: str) -> Any:
    client = Client(headers={"accept-language": "en"})
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def token(username: str, password: str, address: str, **headers: str) -> Any:
    return APIClient().post(
        TOKEN_URL,
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE="en",
        **headers,
    )


def spray(attempt: Any, address: str, count: int, **headers: str) -> list[int]:
    """One wrong password on each of ``count`` user names."""
    return [
        attempt(f"driver{i:03d}", "Passw0rd!", address, **headers).status_code for i in range(count)
    ]


@pytest.fixture
def victim() -> User:
    return UserFactory(role="dispatcher")


def test_the_sign_in_page_locks_out_an_address_spraying_user_names(victim: User) -> None:
    limit = settings.AXES_IP_FAILURE_LIMIT

    # The failure that reaches the limit is answered with the lock-out already.
    assert spray(sign_in, ATTACKER, limit) == [200] * (limit - 1) + [429]

    refused = sign_in(victim.username, PASSWORD, ATTACKER)
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.content.decode()
    # Another address is not locked out, for the same account.
    assert sign_in(victim.username, PASSWORD, OTHER).status_code == 302


def test_the_token_endpoint_locks_out_an_address_spraying_user_names(victim: User) -> None:
    limit = settings.AXES_IP_FAILURE_LIMIT

    assert spray(token, ATTACKER, limit) == [400] * (limit - 1) + [429]

    refused = token(victim.username, PASSWORD, ATTACKER)
    assert refused.status_code == 429
    assert refused.json()["code"] == "locked_out"
    assert not Token.objects.filter(user=victim).exists()
    assert token(victim.username, PASSWORD, OTHER).status_code == 200


def test_one_address_is_counted_across_the_page_and_the_endpoint(victim: User) -> None:
    half = settings.AXES_IP_FAILURE_LIMIT // 2
    spray(sign_in, ATTACKER, half)
    spray(token, ATTACKER, settings.AXES_IP_FAILURE_LIMIT - half)

    assert sign_in(victim.username, PASSWORD, ATTACKER).status_code == 429


def test_signing_in_to_an_own_account_does_not_reset_the_address(victim: User) -> None:
    own = UserFactory()
    spray(sign_in, ATTACKER, settings.AXES_IP_FAILURE_LIMIT - 1)
    assert sign_in(own.username, PASSWORD, ATTACKER).status_code == 302

    sign_in("driver999", "Passw0rd!", ATTACKER)

    assert sign_in(victim.username, PASSWORD, ATTACKER).status_code == 429


def test_behind_the_proxy_only_the_spraying_client_is_locked_out(
    victim: User, settings: Any
) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.2"

    spray(sign_in, proxy, settings.AXES_IP_FAILURE_LIMIT, HTTP_X_FORWARDED_FOR=ATTACKER)

    locked = sign_in(victim.username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=ATTACKER)
    assert locked.status_code == 429
    assert sign_in(victim.username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=OTHER).status_code == 302
    assert token(victim.username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=OTHER).status_code == 200


def test_a_depot_behind_one_address_is_not_locked_out_by_everyday_mistakes() -> None:
    # Twelve drivers behind one NAT address each mistype their password twice, then sign in.
    drivers = [UserFactory(role="driver") for _ in range(12)]
    for driver in drivers:
        for _mistake in range(2):
            assert sign_in(driver.username, "wrong", ATTACKER).status_code == 200
    for driver in drivers:
        assert sign_in(driver.username, PASSWORD, ATTACKER).status_code == 302


def test_one_user_name_is_still_locked_out_after_five_failures(victim: User) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(victim.username, "wrong", ATTACKER)

    assert sign_in(victim.username, PASSWORD, ATTACKER).status_code == 429
    # Only that user name from that address: the address may still sign in to others.
    assert sign_in(UserFactory().username, PASSWORD, ATTACKER).status_code == 302
    assert sign_in(victim.username, PASSWORD, OTHER).status_code == 302
