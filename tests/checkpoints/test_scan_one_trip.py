"""On PostgreSQL, outside any transaction (as in a real request), a scan takes two round trips:
BEGIN with the lock, COMMIT with the write. These tests run outside a test transaction so that
path is the one taken, and check it answers and records exactly as the transactional path does."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from checkpoints.models import Alert, ScanEvent
from checkpoints.services import ScanInput, scan_perform
from passcode_portal.errors import DomainError
from passcode_portal.rows import named_row
from tests.checkpoints.scanning import open_trip, pass_of, token_of
from tests.factories import CheckpointFactory, staff_user
from trucks import passcode
from trucks.models import PassStatus, Trip, TripStatus

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the two-round-trip scan is PostgreSQL's; SQLite takes the transactional path",
    ),
]


def scan(staff: Any, checkpoint: Any, token: str, direction: str = "in", **extra: Any) -> Any:
    data = ScanInput(token=token, direction=direction, **extra)
    return scan_perform(staff=staff, checkpoint=checkpoint, data=data)


def test_an_entry_and_an_exit_take_the_short_path(
    regions: None, dispatcher: Any, checkpoint: Any, staff: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)

    with CaptureQueriesContext(connection) as ctx:
        entry = scan(staff, checkpoint, token_of(trip))
    exit_ = scan(staff, checkpoint, token_of(trip), "out")

    assert any(q["sql"].startswith("BEGIN; EXECUTE scan_lock_next") for q in ctx.captured_queries)
    assert any(q["sql"].endswith("; COMMIT") for q in ctx.captured_queries)
    assert (entry.scan.verdict, entry.scan.reason) == ("admit", "ok")
    assert (exit_.scan.verdict, exit_.scan.reason) == ("admit", "ok")
    recorded = ScanEvent.objects.order_by("pk")
    assert [s.pk for s in recorded] == [entry.scan.pk, exit_.scan.pk]
    assert Trip.objects.get(pk=trip.pk).status == TripStatus.EXITED
    assert pass_of(trip).status == PassStatus.COMPLETED
    assert not connection.in_atomic_block
    with connection.cursor() as cursor:
        # In autocommit each statement is its own transaction, so its start is the statement's;
        # a transaction the scan had left open would have started earlier.
        cursor.execute("SELECT now() = statement_timestamp() AS autocommitted")
        assert named_row(cursor).autocommitted is True


def test_a_copied_code_is_refused_with_one_alert(
    regions: None, dispatcher: Any, checkpoint: Any, staff: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    scan(staff, checkpoint, token_of(trip))

    second = scan(staff, checkpoint, token_of(trip))
    third = scan(staff, checkpoint, token_of(trip))

    assert second.scan.reason == third.scan.reason == "already_inside"
    assert Alert.objects.filter(kind="already_inside").count() == 1
    assert ScanEvent.objects.count() == 3


def test_a_repeated_scan_id_and_an_unknown_pass_fall_back_and_answer_right(
    regions: None, dispatcher: Any, checkpoint: Any, staff: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    scan_id = uuid.uuid4()
    first = scan(staff, checkpoint, token_of(trip), scan_id=scan_id)
    again = scan(staff, checkpoint, token_of(trip), scan_id=scan_id)
    unknown = scan(
        staff,
        checkpoint,
        passcode.encode(pass_id=999_999, valid_until=pass_of(trip).valid_until),
    )

    assert again.replayed and again.scan.pk == first.scan.pk
    assert unknown.scan.reason == "unknown"
    assert ScanEvent.objects.count() == 2
    # Nothing was left half done by the short path's rollbacks.
    assert Trip.objects.get(pk=trip.pk).status == TripStatus.INSIDE


@pytest.mark.parametrize("where", ["another checkpoint", "another account"])
def test_a_scan_id_used_elsewhere_is_a_conflict_and_leaves_nothing_open(
    regions: None, dispatcher: Any, checkpoint: Any, staff: Any, where: str
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    other = open_trip(dispatcher, checkpoint)
    scan_id = uuid.uuid4()
    scan(staff, checkpoint, token_of(trip), scan_id=scan_id)
    if where == "another checkpoint":
        elsewhere, by = CheckpointFactory(), staff
        staff.checkpoint_assignments.create(checkpoint=elsewhere)
    else:
        elsewhere, by = checkpoint, staff_user(checkpoint)

    with CaptureQueriesContext(connection) as ctx, pytest.raises(DomainError) as raised:
        scan(by, elsewhere, token_of(other), scan_id=scan_id)

    assert (raised.value.code, raised.value.status) == ("scan_id_conflict", 409)
    # The short path was tried, found the id taken and rolled back.
    assert any(q["sql"].startswith("BEGIN; EXECUTE scan_lock_next") for q in ctx.captured_queries)
    assert ScanEvent.objects.count() == 1
    assert Trip.objects.get(pk=other.pk).status == TripStatus.REGISTERED
    assert not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("SELECT now() = statement_timestamp() AS autocommitted")
        assert named_row(cursor).autocommitted is True


def test_a_refusal_shortly_before_is_recalled_on_the_short_path(
    regions: None, dispatcher: Any, checkpoint: Any, staff: Any
) -> None:
    red = open_trip(dispatcher, checkpoint, test_result="positive")
    token = token_of(red)
    with override_settings(HOT_CACHE_SECONDS=60):  # the policy stays read, as in a server
        first = scan(staff, checkpoint, token)
        with CaptureQueriesContext(connection) as ctx:
            second = scan(staff, checkpoint, token)

    # Still two round trips: the earlier refusal came with the lock.
    assert [q["sql"].split(" (")[0] for q in ctx.captured_queries] == [
        "BEGIN; EXECUTE scan_lock_next",
        "EXECUTE scan_write_001_id",
    ]
    assert (second.scan.reason, second.scan.warnings) == ("red_code", ["refused_recently"])
    earlier = second.scan.earlier_refusal
    assert earlier is not None
    assert (earlier.pk, earlier.reason) == (first.scan.pk, "red_code")
    assert earlier.scanned_at == ScanEvent.objects.get(pk=first.scan.pk).scanned_at
    assert ScanEvent.objects.get(pk=second.scan.pk).earlier_refusal_id == first.scan.pk


def test_a_differing_plate_unconfirmed_is_rolled_back_on_the_short_path(
    regions: None, dispatcher: Any, checkpoint: Any, staff: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)

    with pytest.raises(DomainError) as raised:
        scan(staff, checkpoint, token_of(trip), plate="豫H99999")

    assert (raised.value.code, raised.value.status) == ("plate_mismatch_unconfirmed", 409)
    assert raised.value.extra == {
        "registered_plate": trip.vehicle.plate,
        "observed_plate": "豫H99999",
    }
    assert not ScanEvent.objects.exists()
    assert not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("SELECT now() = statement_timestamp() AS autocommitted")
        assert named_row(cursor).autocommitted is True
    confirmed = scan(
        staff, checkpoint, token_of(trip), plate="豫H99999", plate_mismatch_confirmed=True
    )
    assert confirmed.scan.reason == "plate_mismatch"
