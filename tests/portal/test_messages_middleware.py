"""Messages are kept as Django keeps them; a request that never uses them never builds their
storage (``passcode_portal.middleware.LazyMessageMiddleware``)."""

from __future__ import annotations

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import Client
from django.utils.functional import empty

COOKIE = CookieStorage.cookie_name

pytestmark = [pytest.mark.urls("tests.portal.messages_urls"), pytest.mark.django_db]


def test_a_message_added_before_a_redirect_is_shown_once_after_it() -> None:
    client = Client()
    assert client.get("/add/").status_code == 302
    assert client.get("/shown/").json() == {"messages": ["保存好了"]}
    assert client.get("/shown/").json() == {"messages": []}


def test_a_request_that_uses_no_message_builds_no_storage_and_leaves_the_cookie() -> None:
    client = Client()
    client.get("/add/")
    before = client.cookies[COOKIE].value
    response = client.get("/quiet/")
    assert response.wsgi_request._messages._wrapped is empty  # type: ignore[attr-defined]
    assert COOKIE not in response.cookies
    # The message is still there for the next page that shows messages.
    assert client.cookies[COOKIE].value == before
    assert client.get("/shown/").json() == {"messages": ["保存好了"]}


def test_a_request_that_shows_messages_gets_djangos_storage() -> None:
    response = Client().get("/shown/")
    assert isinstance(response.wsgi_request._messages._wrapped, FallbackStorage)  # type: ignore[attr-defined]
