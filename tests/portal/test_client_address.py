"""The client address that throttles and sign-in lock-outs count by: REMOTE_ADDR, or behind
TRUSTED_PROXIES reverse proxies (DRF's NUM_PROXIES) the address the outermost one wrote into
X-Forwarded-For; never what a client writes there itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.throttling import BaseThrottle

from passcode_portal.throttling import client_ip

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"
PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def behind_one_proxy(settings: Any) -> None:
    # What TRUSTED_PROXIES=1 sets (tests/portal/test_deploy.py checks the reading).
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def token_attempts(api_client: Any, forwarded_for: list[str], remote: str = PROXY) -> list[int]:
    """Wrong passwords, each for another user name: no lock-out (AXES_FAILURE_LIMIT per user
    name, AXES_IP_FAILURE_LIMIT per address) answers before the rate limit does."""
    return [
        api_client.post(
            URL,
            {"username": f"nobody{i}", "password": "wrong"},
            format="json",
            REMOTE_ADDR=remote,
            HTTP_X_FORWARDED_FOR=header,
        ).status_code
        for i, header in enumerate(forwarded_for)
    ]


def test_forged_forwarded_addresses_share_one_allowance(api_client: Any) -> None:
    # The token endpoint allows 20 requests a minute per client (THROTTLE_AUTH).
    codes = token_attempts(api_client, [f"198.51.100.{i}" for i in range(25)], "192.0.2.9")

    assert codes == [400] * 20 + [429] * 5


@pytest.mark.usefixtures("behind_one_proxy")
def test_behind_one_proxy_each_client_has_its_own_allowance(api_client: Any) -> None:
    codes = token_attempts(api_client, [f"203.0.113.{i}" for i in range(25)])

    assert codes == [400] * 25


@pytest.mark.usefixtures("behind_one_proxy")
def test_behind_one_proxy_an_entry_the_client_wrote_does_not_help(api_client: Any) -> None:
    codes = token_attempts(api_client, [f"198.51.100.{i}, 203.0.113.7" for i in range(25)])

    assert codes == [400] * 20 + [429] * 5


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "", "192.0.2.9"),
        (0, "203.0.113.7", "192.0.2.9"),
        (1, "", "192.0.2.9"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (1, "2001:db8::7", "2001:db8::7"),
        (2, "198.51.100.1, 203.0.113.7, 10.0.0.5", "203.0.113.7"),
        # Headers our proxies cannot have written: the nearest proxy's address.
        (2, "203.0.113.7", "192.0.2.9"),
        (1, "not-an-address", "192.0.2.9"),
        (1, "198.51.100.1, ", "192.0.2.9"),
    ],
)
def test_the_client_address(settings: Any, proxies: int, forwarded_for: str, expected: str) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.9", **headers)

    assert client_ip(request) == expected
    # django-axes reads the same address.
    assert get_client_ip_address(request) == expected


def test_drf_reads_the_same_number_of_proxies(settings: Any) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7")

    assert BaseThrottle().get_ident(request) == client_ip(request) == "203.0.113.7"


@pytest.mark.usefixtures("behind_one_proxy")
def test_a_failed_sign_in_is_recorded_under_the_clients_address(client: Any) -> None:
    client.post(
        "/accounts/login/",
        {"username": "someone", "password": "wrong"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7",
    )

    assert list(AccessAttempt.objects.values_list("username", "ip_address")) == [
        ("someone", "203.0.113.7")
    ]
