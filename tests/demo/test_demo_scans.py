"""`manage.py load_demo_scans`, after `load_demo`: the demo's trips that are inside, arrived or
exited carry the scans that put them there, made by the real scan service; a red code and a
copied code raised alerts; the staff account supervises a checkpoint; and it is safe to run
twice."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from checkpoints.models import Alert, ScanEvent, WalkIn
from demo import contents
from demo import scans as checkpoints_demo
from places.models import StaffAssignment
from trucks.models import PassStatus, Trip, TripStatus

pytestmark = pytest.mark.django_db


def load(*commands: str) -> str:
    out = io.StringIO()
    for command in commands:
        call_command(command, "--force", stdout=out)
    return out.getvalue()


@pytest.fixture
def output() -> str:
    return load("load_demo", "load_demo_scans")


def trip(label: str) -> Trip:
    spec = next(s for s in contents.TRIPS if s.label == label)
    return Trip.objects.get(vehicle__plate=spec.plate, cargo_description=spec.cargo_description)


def test_the_trips_inside_arrived_and_exited_have_their_scans(output: str) -> None:
    for label, status in [
        ("inside", TripStatus.INSIDE),
        ("arrived", TripStatus.ARRIVED),
        ("completed", TripStatus.EXITED),
    ]:
        t = trip(label)
        assert t.status == status, label
        entry = t.scans.filter(direction="in", verdict="admit").get()
        assert entry.reason == "ok" and entry.staff is not None
        assert entry.staff.username == "staff"
        assert entry.checkpoint_id == t.entry_checkpoint_id
        assert entry.observed_plate == t.vehicle.plate
        assert t.planned_arrival - entry.scanned_at < timedelta(hours=1)
    completed = trip("completed")
    exit_scan = completed.scans.get(direction="out")
    assert exit_scan.verdict == "admit"
    assert exit_scan.scanned_at > completed.scans.get(direction="in").scanned_at
    assert completed.passes.get().status == PassStatus.COMPLETED
    # The arrived one was confirmed through the service, which saves the trip: its history
    # holds the moment (the consignee page reads its arrival time from there).
    assert trip("arrived").history.filter(status=TripStatus.ARRIVED).exists()


def test_a_red_code_and_a_copied_code_raised_alerts(output: str) -> None:
    red = Alert.objects.get(kind=Alert.Kind.RED_CODE)
    assert red.trip == trip("red (high-risk travel)")
    assert red.scan is not None and red.scan.reason == "red_code"
    copied = Alert.objects.get(kind=Alert.Kind.ALREADY_INSIDE)
    assert copied.trip == trip("inside")
    assert copied.checkpoint is not None
    assert copied.checkpoint != copied.trip.entry_checkpoint
    assert Alert.objects.filter(resolved_at__isnull=True).count() == 2
    assert "red_code" in output and "already_inside" in output


def test_a_walk_in_is_recorded(output: str) -> None:
    walk_in = WalkIn.objects.get()
    assert walk_in.outcome == WalkIn.Outcome.TURNED_BACK
    assert walk_in.staff is not None and walk_in.staff.username == "staff"


def test_staff_supervises_one_checkpoint(output: str) -> None:
    supervised = StaffAssignment.objects.filter(user__username="staff", supervisor=True)
    assert list(supervised.values_list("checkpoint__code", flat=True)) == ["JZ-G55-N"]
    assert "JZ-G55-N" in output


def test_the_consignee_sees_the_inside_truck_with_its_entry(output: str, client: Client) -> None:
    client.force_login(User.objects.get(username="consignee"))
    r = client.get("/checkpoints/arrivals/")
    assert r.status_code == 200
    (row,) = r.context["inside"]
    assert row.pk == trip("inside").pk and row.entered_at is not None
    assert [t.pk for t in r.context["arrived"]] == [trip("arrived").pk]


def _counts() -> dict[str, Any]:
    models = [
        *apps.get_app_config("trucks").get_models(),
        *apps.get_app_config("checkpoints").get_models(),
        User,
        Group,
    ]
    counts: dict[str, Any] = {m._meta.label: m._default_manager.count() for m in models}
    counts["statuses"] = sorted(Trip.objects.values_list("pk", "status"))
    return counts


def test_running_it_twice_adds_nothing(output: str) -> None:
    before = _counts()
    again = load("load_demo_scans")
    assert _counts() == before
    assert "nothing recorded" in again
    # And load_demo again after it leaves the scanned trips as they are.
    load("load_demo", "load_demo_scans")
    assert _counts() == before


def test_it_asks_for_load_demo_first() -> None:
    with pytest.raises(CommandError, match="load_demo"):
        load("load_demo_scans")
    assert not ScanEvent.objects.exists()


def test_it_refuses_when_debug_is_off_unless_forced(settings: Any) -> None:
    load("load_demo")
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("load_demo_scans", stdout=io.StringIO())
    assert not ScanEvent.objects.exists()


def test_a_trip_changed_before_its_scans_were_loaded_is_left_alone() -> None:
    load("load_demo")
    Trip.objects.filter(pk=trip("inside").pk).update(status=TripStatus.ARRIVED)

    output = load("load_demo_scans")

    assert "Skipped inside" in output
    assert trip("inside").status == TripStatus.ARRIVED
    assert not trip("inside").scans.filter(verdict="admit").exists()
    assert checkpoints_demo.missing() == []
