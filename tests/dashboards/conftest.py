"""What the management pages' tests share: an official signed in (pages in English, for the
assertions' words), and a user of every other role, each to be refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import UserFactory, consignee_user, dispatcher, driver_user, staff_user

OTHER_ROLES = ["driver", "dispatcher", "consignee", "staff"]


@pytest.fixture
def official(db: None) -> Any:
    return UserFactory(role="official", username="duty", first_name="值班员")


@pytest.fixture
def official_client(official: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(official)
    return client


def signed_in_as(role: str, checkpoint: Any) -> Client:
    """A client signed in as a user of ``role`` (staff posted at ``checkpoint``)."""
    user = {
        "driver": driver_user,
        "dispatcher": dispatcher,
        "consignee": consignee_user,
        "staff": lambda: staff_user(checkpoint),
    }[role]()
    client = Client()
    client.force_login(user)
    return client
