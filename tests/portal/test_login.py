"""Signing in and out through the pages, and the throttle on failed attempts (django-axes)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def english() -> Client:
    return Client(headers={"accept-language": "en"})


def test_the_login_page_shows_the_form() -> None:
    response = english().get("/accounts/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body and 'name="password"' in body


def test_it_signs_in_with_username_and_password() -> None:
    user = UserFactory(role="driver")
    client = english()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_it_returns_to_the_page_asked_for() -> None:
    user = UserFactory(role="dispatcher")
    response = english().post(
        "/accounts/login/?next=/trips/new/",
        {"username": user.username, "password": PASSWORD, "next": "/trips/new/"},
    )
    assert response["Location"] == "/trips/new/"


def test_a_wrong_password_is_refused_with_a_message_and_the_username_kept() -> None:
    user = UserFactory()
    response = english().post("/accounts/login/", {"username": user.username, "password": "x"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "correct username and password" in body
    assert f'value="{user.username}"' in body


def test_after_five_failures_the_sixth_attempt_is_locked_out() -> None:
    user = UserFactory()
    client = english()
    for _attempt in range(5):
        client.post("/accounts/login/", {"username": user.username, "password": "wrong"})
    # Even the right password is refused while locked out.
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed sign-in attempts" in body
    assert "<html" in body


def test_sign_out_is_a_post() -> None:
    client = english()
    client.force_login(UserFactory(role="driver"))
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302
