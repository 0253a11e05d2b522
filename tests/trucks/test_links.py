"""Signed, expiring links that open a pass without an account."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.urls import reverse

from tests.factories import make_trip
from trucks import links
from trucks.models import Pass

pytestmark = pytest.mark.django_db


@pytest.fixture
def pass_(dispatcher: Any, checkpoint: Any) -> Pass:
    return Pass.objects.get(trip=make_trip(dispatcher, checkpoint))


def test_the_link_opens_its_pass(pass_: Pass) -> None:
    token = links.pass_link_token(pass_)
    assert links.pass_id_from_link(token) == pass_.pk


def test_the_link_is_a_page_on_the_site(pass_: Pass, settings: Any) -> None:
    settings.SITE_URL = "https://pass.example.cn"
    path = links.pass_link_path(pass_)
    token = path.rstrip("/").rsplit("/", 1)[-1]
    assert path == reverse("trucks:pass-link", kwargs={"token": token})
    assert links.pass_id_from_link(token) == pass_.pk
    assert links.pass_link_url(pass_) == "https://pass.example.cn" + path


def test_each_pass_has_its_own_link(pass_: Pass, dispatcher: Any, checkpoint: Any) -> None:
    other = Pass.objects.get(trip=make_trip(dispatcher, checkpoint))
    assert links.pass_link_token(other) != links.pass_link_token(pass_)
    assert links.pass_id_from_link(links.pass_link_token(other)) == other.pk


def test_a_tampered_link_opens_nothing(pass_: Pass) -> None:
    token = links.pass_link_token(pass_)
    for i in range(len(token)):
        replacement = "A" if token[i] != "A" else "B"
        assert links.pass_id_from_link(token[:i] + replacement + token[i + 1 :]) is None
    assert links.pass_id_from_link(token[:-1]) is None
    assert links.pass_id_from_link(token + "A") is None


@pytest.mark.parametrize("token", ["", "garbage", ":", "a:b:c", "../../etc/passwd"])
def test_garbage_opens_nothing(token: str) -> None:
    assert links.pass_id_from_link(token) is None


def test_a_link_signed_for_something_else_opens_nothing(pass_: Pass) -> None:
    expires = int((pass_.valid_until + timedelta(days=1)).timestamp())
    other_salt = signing.dumps([pass_.pk, expires], salt="something.else", compress=True)
    assert links.pass_id_from_link(other_salt) is None


@pytest.mark.parametrize(
    "payload", [{"id": 1}, [1], [1, 2, 3], ["1", 9_999_999_999], [1, "9999999999"], None]
)
def test_a_well_signed_but_strange_payload_opens_nothing(payload: Any) -> None:
    token = signing.dumps(payload, salt="trucks.pass-link", compress=True)
    assert links.pass_id_from_link(token) is None


def test_the_link_works_a_day_past_the_window_and_not_after(pass_: Pass) -> None:
    token = links.pass_link_token(pass_)
    with time_machine.travel(pass_.valid_until + timedelta(hours=23), tick=False):
        assert links.pass_id_from_link(token) == pass_.pk
    with time_machine.travel(pass_.valid_until + timedelta(days=1), tick=False):
        assert links.pass_id_from_link(token) == pass_.pk
    with time_machine.travel(pass_.valid_until + timedelta(days=1, seconds=1), tick=False):
        assert links.pass_id_from_link(token) is None
    with time_machine.travel(pass_.valid_until + timedelta(days=30), tick=False):
        assert links.pass_id_from_link(token) is None


def test_a_link_signed_under_another_secret_key_opens_nothing(pass_: Pass, settings: Any) -> None:
    token = links.pass_link_token(pass_)
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert links.pass_id_from_link(token) is None


def _expires(pass_: Pass) -> int:
    return int((pass_.valid_until + timedelta(days=1)).timestamp())


@pytest.mark.parametrize(
    "payload",
    [
        lambda p, e: [True, e],
        lambda p, e: [False, e],
        lambda p, e: [0, e],
        lambda p, e: [-p.pk, e],
        lambda p, e: [float(p.pk), e],
        lambda p, e: [str(p.pk), e],
        lambda p, e: [2**63, e],
        lambda p, e: [p.pk, True],
        lambda p, e: [p.pk, float(e)],
    ],
    ids=[
        "true",
        "false",
        "zero",
        "negative",
        "float",
        "string",
        "too-big",
        "bool-expiry",
        "float-expiry",
    ],
)
def test_a_well_signed_payload_of_the_wrong_type_opens_nothing(pass_: Pass, payload: Any) -> None:
    token = signing.dumps(payload(pass_, _expires(pass_)), salt="trucks.pass-link", compress=True)
    assert links.pass_id_from_link(token) is None


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_a_link_naming_pass_true_does_not_open_pass_1(
    regions: None, dispatcher: Any, checkpoint: Any, client: Any
) -> None:
    pass_ = Pass.objects.get(trip=make_trip(dispatcher, checkpoint))
    assert pass_.pk == 1  # what the bool True compares equal to
    expires = _expires(pass_)

    def page(payload: list[Any]) -> Any:
        token = signing.dumps(payload, salt="trucks.pass-link", compress=True)
        return client.get(reverse("trucks:pass-link", kwargs={"token": token}))

    assert page([1, expires]).status_code == 200
    refused = page([True, expires])
    assert refused.status_code == 404
    assert "trucks/pass_link_invalid.html" in [t.name for t in refused.templates]
    assert pass_.trip.reference not in refused.content.decode()
