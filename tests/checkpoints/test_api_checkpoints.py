"""GET /api/v1/checkpoints/: the checkpoints a trip may name as its entry."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import CheckpointFactory, driver_user

pytestmark = pytest.mark.django_db


def test_it_lists_active_checkpoints(api_client: Any, checkpoint: Any) -> None:
    CheckpointFactory(code="JZ-CLOSED", active=False)
    api_client.force_authenticate(driver_user())

    r = api_client.get("/api/v1/checkpoints/", HTTP_ACCEPT_LANGUAGE="en")

    assert r.status_code == 200
    assert r.json()["results"] == [
        {
            "code": "JZ-G55-N",
            "name": "二广高速焦作北站",
            "kind": "highway_exit",
            "kind_display": "Highway exit",
            "region": "410800",
        }
    ]


def test_it_requires_authentication(api_client: Any, checkpoint: Any) -> None:
    r = api_client.get("/api/v1/checkpoints/")

    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"
