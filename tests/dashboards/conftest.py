"""What the management pages' tests share: an official signed in (pages in English, for the
assertions' words), a user of every other role, each to be refused, and the export tests' rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.dashboards.exporting import Rows, make_rows
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


@pytest.fixture
def rows(regions: None, settings: Any, tmp_path: Path) -> Rows:
    """The export tests' rows (``tests.dashboards.exporting``), files written to a fresh
    folder."""
    settings.EXPORTS_DIR = str(tmp_path / "exports")
    return make_rows()
