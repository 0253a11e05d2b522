"""The officials' home and the dashboard link to every page of the command centre; no other role
is shown the links."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory, dispatcher

pytestmark = pytest.mark.django_db

PAGES = [
    "dashboards:dashboard",
    "dashboards:alerts",
    "dashboards:lists",
    "dashboards:exports",
    "dashboards:regions",
    "dashboards:whitelist",
    "dashboards:policy",
    "dashboards:webhooks",
    "dashboards:notifications",
]


def links_of(client: Client, url: str) -> set[str]:
    html = client.get(url).content.decode()
    return {name for name in PAGES if f'href="{reverse(name)}"' in html}


@pytest.mark.parametrize("role", ["official", "admin"])
def test_the_officials_home_and_dashboard_link_to_every_page(role: str, regions: None) -> None:
    client = Client()
    client.force_login(UserFactory(role=role))

    assert links_of(client, reverse("trucks:home")) == set(PAGES)
    assert links_of(client, reverse("dashboards:dashboard")) == set(PAGES)
    for name in PAGES:
        assert client.get(reverse(name)).status_code == 200, name


def test_a_dispatcher_is_shown_none_of_them(regions: None) -> None:
    client = Client()
    client.force_login(dispatcher())

    assert links_of(client, reverse("trucks:home")) == set()
