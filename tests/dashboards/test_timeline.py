"""A trip's timeline for officials (``dashboards.timeline``): the registration in full, then its
events in order, from the records the services write; other roles are refused."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from checkpoints import services as checkpoint_services
from dashboards.timeline import timeline
from tests.factories import (
    CheckpointFactory,
    UserFactory,
    dispatcher,
    driver_user,
    make_trip,
    staff_user,
    valid_id_number,
    valid_phone,
)
from trucks import services as trucks_services
from trucks.models import Pass
from trucks.services import pass_token
from trucks.validators import mask_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def trip(regions: None) -> Any:
    checkpoint = CheckpointFactory(code="CP-A", name="甲站")
    staff = staff_user(checkpoint, first_name="李卡口")
    trip = make_trip(dispatcher(), checkpoint, planned_arrival=timezone.now() + timedelta(hours=1))
    pass_ = Pass.objects.get(trip=trip)
    token = pass_token(pass_)
    # Regraded: the pass's colour, reasons and rule version change (its audit history).
    pass_.colour, pass_.policy_version = "yellow", 2
    pass_.reasons = [{"code": "origin_medium", "text": "出发地为中风险地区"}]
    pass_.save()
    for direction in ("in", "out"):
        checkpoint_services.scan_perform(
            staff=staff,
            checkpoint=checkpoint,
            data=checkpoint_services.ScanInput(token=token, direction=direction),
        )
    return trip


def test_the_events_come_in_order_from_the_records(trip: Any) -> None:
    events = timeline(trip)
    kinds = [e.kind for e in events]
    grading = [k for k in kinds if k in ("registered", "graded", "regraded")]
    assert grading == ["registered", "graded", "regraded"]
    assert "notification" in kinds  # the pass sent to the driver
    scans = [e for e in events if e.kind == "scan"]
    assert len(scans) == 2
    assert scans[0].at <= scans[1].at
    assert any("李卡口" in line for line in scans[0].lines)
    regraded = next(e for e in events if e.kind == "regraded")
    assert "出发地为中风险地区" in regraded.lines
    assert any("2" in line for line in regraded.lines)  # the rule version
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_the_page_shows_the_registration_and_the_events(trip: Any) -> None:
    client = Client()
    client.force_login(UserFactory(role="official"))
    page = client.get(f"/dashboard/trips/{trip.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert trip.reference in text and trip.destination_name in text
    assert trip.driver.id_number in text  # officials see ID numbers in full
    assert text.count('data-event="scan"') == 2
    assert client.get("/dashboard/trips/999999/").status_code == 404


@pytest.mark.parametrize("role", ["driver", "dispatcher", "staff"])
def test_other_roles_are_refused(trip: Any, role: str) -> None:
    user = {
        "driver": driver_user,
        "dispatcher": dispatcher,
        "staff": lambda: staff_user(trip.entry_checkpoint),
    }[role]()
    client = Client()
    client.force_login(user)
    assert client.get(f"/dashboard/trips/{trip.pk}/").status_code == 403


def test_a_scan_made_offline_says_so_and_when_it_arrived(trip: Any) -> None:
    checkpoint = CheckpointFactory(code="CP-B", name="乙站")
    scanned = timezone.now() - timedelta(minutes=40)
    checkpoint_services.scan_perform(
        staff=staff_user(checkpoint),
        checkpoint=checkpoint,
        data=checkpoint_services.ScanInput(
            token=pass_token(Pass.objects.get(trip=trip)),
            direction="out",
            scan_id=uuid.uuid4(),
            scanned_at=scanned,
            offline=checkpoint_services.OfflineVerdict(verdict="admit", reason="ok"),
        ),
    )

    with translation.override("en"):
        scans = [e for e in timeline(trip) if e.kind == "scan"]

    offline = next(e for e in scans if "乙站" in e.lines)
    assert offline.at == scanned
    assert any(line.startswith("Scanned offline, received ") for line in offline.lines)
    assert not any("offline" in line for e in scans if e is not offline for line in e.lines)


def test_a_driver_changed_and_a_plate_corrected_are_on_the_timeline(regions: None) -> None:
    checkpoint = CheckpointFactory(code="CP-C", name="丙站")
    user = dispatcher(first_name="王调度")
    trip = make_trip(user, checkpoint)
    before, plate_before = trip.driver, trip.vehicle.plate
    trucks_services.trip_correct_plate(actor=user, trip=trip, plate="豫HA1234")
    trucks_services.trip_change_driver(
        actor=user,
        trip=trip,
        person=trucks_services.PersonData("赵师傅", valid_id_number(), valid_phone()),
        test_result="negative",
        test_sampled_at=timezone.now() - timedelta(hours=1),
    )
    trip.refresh_from_db()

    with translation.override("en"):
        events = {e.kind: e for e in timeline(trip)}

    plate = events["changed_plate"]
    assert plate.title == "Plate corrected"
    assert plate.lines == [
        f"Before: {plate_before}",
        "After: 豫HA1234",
        "By 王调度",
    ]
    driver = events["changed_driver"]
    assert driver.title == "Driver changed"
    assert driver.lines == [
        f"Before: {before.name} {mask_id_number(before.id_number)}",
        f"After: 赵师傅 {mask_id_number(trip.driver.id_number)}",
        "By 王调度",
    ]
    # The old pass revoked and the new one graded are there too.
    assert "pass_status" in events and "graded" in events
