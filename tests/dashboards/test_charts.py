"""The dashboard's chart series (``dashboards.charts``), against the day of
``test_overview.world`` counted by hand, and who may read them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dashboards import charts
from dashboards.periods import Period
from places.models import Checkpoint
from tests.dashboards.test_overview import world
from tests.factories import staff_user
from trucks.models import Trip

__all__ = ["world"]  # the fixture

pytestmark = pytest.mark.django_db


def test_entries_and_exits_by_the_hour_at_each_checkpoint(world: dict[str, Any]) -> None:
    a, b = charts.hourly_by_checkpoint(timezone.localdate())
    assert (a["code"], b["code"]) == ("CP-A", "CP-B")
    assert [h for h, n in enumerate(a["entries"]) if n] == [8, 11]
    assert [h for h, n in enumerate(a["exits"]) if n] == [15]
    assert [h for h, n in enumerate(b["entries"]) if n] == [10]  # the override
    assert sum(b["exits"]) == 0


def test_fourteen_days_of_registrations_against_entries(world: dict[str, Any]) -> None:
    today = timezone.localdate()
    trend = charts.trend(today)
    assert trend["days"][0] == (today - timedelta(days=13)).isoformat()
    assert trend["days"][-1] == today.isoformat()
    assert (trend["registrations"][-1], trend["entries"][-1]) == (3, 3)
    assert (trend["registrations"][-2], trend["entries"][-2]) == (0, 1)  # yesterday's scan
    assert sum(trend["registrations"]) == 3 and sum(trend["entries"]) == 4


def test_where_the_trucks_come_from_with_the_risk_level(world: dict[str, Any]) -> None:
    trip = world["trips"][0]
    rows = charts.origins(Period(timezone.localdate(), timezone.localdate()))
    assert rows == [
        {
            "code": trip.origin_region_id,
            "name": trip.origin_region.full_name,
            "risk_level": trip.origin_region.risk_level,
            "trips": Trip.objects.count(),
        }
    ]


def test_the_charts_are_for_officials_only(world: dict[str, Any]) -> None:
    official = Client()
    official.force_login(world["official"])
    answer = official.get("/dashboard/charts/", {"checkpoint": "CP-B"})
    assert answer.status_code == 200
    assert [row["code"] for row in answer.json()["hourly"]] == ["CP-B"]
    staff = Client()
    staff.force_login(staff_user(world["a"]))
    assert staff.get("/dashboard/charts/").status_code == 403
    assert Client().get("/dashboard/charts/").status_code == 302
    bad = official.get("/dashboard/charts/", {"from": "someday"})
    assert bad.status_code == 400


def test_the_map_has_the_checkpoints_with_coordinates(world: dict[str, Any]) -> None:
    Checkpoint.objects.filter(code="CP-A").update(latitude="35.27710", longitude="113.24140")
    client = Client()
    client.force_login(world["official"])
    page = client.get("/dashboard/")
    sites = page.context["charts"]["sites"]
    assert sites == [{"code": "CP-A", "name": "甲站", "lat": 35.2771, "lon": 113.2414}]
    assert page.context["outline_url"] == ""  # no outline set: plain coordinates


def test_the_outline_is_the_deployments_own_file(
    world: dict[str, Any], tmp_path: Path, settings: Any
) -> None:
    client = Client()
    client.force_login(world["official"])
    assert client.get("/dashboard/map-outline.geojson").status_code == 404
    outline = tmp_path / "outline.geojson"
    outline.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    settings.DASHBOARD_MAP_GEOJSON = str(outline)
    answer = client.get("/dashboard/map-outline.geojson")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/geo+json"
    assert b"".join(answer.streaming_content) == outline.read_bytes()
    assert client.get("/dashboard/").context["outline_url"] == "/dashboard/map-outline.geojson"
    staff = Client()
    staff.force_login(staff_user(world["a"]))
    assert staff.get("/dashboard/map-outline.geojson").status_code == 403
