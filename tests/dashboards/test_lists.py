"""The lists officials act on (overdue trucks, red-code attempts, overrides) and the search for
trips (``dashboards.lists``), against rows made here; other roles are refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from checkpoints.models import Alert, ScanEvent
from tests.dashboards.test_overview import scan, today_at
from tests.factories import (
    CheckpointFactory,
    UserFactory,
    dispatcher,
    driver_user,
    make_trip,
    staff_user,
)
from trucks.models import Trip, TripStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(regions: None) -> dict[str, Any]:
    a = CheckpointFactory(code="CP-A", name="甲站")
    official = UserFactory(role="official", first_name="王科长")
    trip = make_trip(dispatcher(), a, planned_arrival=timezone.now() + timedelta(hours=1))
    other = make_trip(dispatcher(), a, planned_arrival=timezone.now() + timedelta(hours=1))
    Trip.objects.filter(pk=trip.pk).update(status=TripStatus.INSIDE)
    overdue = Alert.objects.create(kind="overdue_arrival", key=f"o:{trip.pk}", trip=trip)
    red = scan(a, other, "in", "refuse", "red_code", at=today_at(9))
    override = scan(
        a,
        trip,
        "in",
        "refuse",
        "plate_mismatch",
        at=today_at(8),
        overridden_by=official,
        overridden_at=today_at(8),
        override_reason="车牌污损，人工核对",
    )
    client = Client()
    client.force_login(official)
    return {
        "client": client,
        "trip": trip,
        "other": other,
        "overdue": overdue,
        "red": red,
        "override": override,
        "a": a,
    }


def listed(answer: Any, pk: int) -> bool:
    return f'data-row="{pk}"' in answer.content.decode()


def test_the_overdue_trucks_with_who_to_call(rows: dict[str, Any]) -> None:
    answer = rows["client"].get("/dashboard/lists/")
    text = answer.content.decode()
    trip = rows["trip"]
    assert answer.status_code == 200 and listed(answer, rows["overdue"].pk)
    assert f"tel:{trip.driver.phone}" in text and f"tel:{trip.company.contact_phone}" in text
    Alert.objects.filter(pk=rows["overdue"].pk).update(resolved_at=timezone.now())
    assert not listed(rows["client"].get("/dashboard/lists/"), rows["overdue"].pk)


def test_red_code_attempts_and_overrides(rows: dict[str, Any]) -> None:
    client = rows["client"]
    red = client.get("/dashboard/lists/", {"list": "red_code"})
    assert listed(red, rows["red"].pk) and not listed(red, rows["override"].pk)
    overrides = client.get("/dashboard/lists/", {"list": "overrides"})
    assert listed(overrides, rows["override"].pk)
    assert "王科长" in overrides.content.decode() and "车牌污损" in overrides.content.decode()
    elsewhere = client.get("/dashboard/lists/", {"list": "red_code", "checkpoint": "CP-X"})
    assert not listed(elsewhere, rows["red"].pk)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert not listed(
        client.get("/dashboard/lists/", {"list": "red_code", "day": yesterday}), rows["red"].pk
    )
    assert client.get("/dashboard/lists/", {"list": "x", "day": "soon"}).status_code == 200


def test_trips_are_found_by_plate_reference_id_number_or_company(rows: dict[str, Any]) -> None:
    client, trip = rows["client"], rows["trip"]
    plate = trip.vehicle.plate
    for q in (plate, plate[1:], trip.reference, trip.driver.id_number, trip.company.name[:4]):
        assert listed(client.get("/dashboard/lists/", {"q": q}), trip.pk), q
    assert not listed(client.get("/dashboard/lists/", {"q": plate[1:]}), rows["other"].pk)
    nothing = client.get("/dashboard/lists/", {"q": "无此行程"})
    assert nothing.status_code == 200 and ScanEvent.objects.exists()


@pytest.mark.parametrize("role", ["driver", "dispatcher", "staff"])
def test_other_roles_are_refused(rows: dict[str, Any], role: str) -> None:
    user = {
        "driver": driver_user,
        "dispatcher": dispatcher,
        "staff": lambda: staff_user(rows["a"]),
    }[role]()
    client = Client()
    client.force_login(user)
    assert client.get("/dashboard/lists/", {"q": rows["trip"].reference}).status_code == 403
    assert Client().get("/dashboard/lists/").status_code == 302
