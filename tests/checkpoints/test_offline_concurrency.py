"""Two tablets, each offline at its own checkpoint, admitted one pass, and their queues reach the
server at the same instant (docs/architecture.md, "Offline"): the uploads are decided one after
the other under the trip's row lock, so exactly one of them conflicts. Run on PostgreSQL, whose
row locks are what is under test (as tests/checkpoints/test_scan_concurrency.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from checkpoints import services
from checkpoints.models import Alert, ScanEvent
from tests.checkpoints.scanning import open_trip, token_of
from tests.checkpoints.test_scan_concurrency import Race, race, together
from tests.factories import CheckpointFactory, staff_user
from tests.factories import dispatcher as make_dispatcher

__all__ = ["race"]  # the fixture

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Row locks (SELECT ... FOR UPDATE) are what is tested; CI runs on PostgreSQL. "
        "SQLite takes the database's write lock per transaction, so uploads cannot interleave; "
        "tests/checkpoints/test_offline_sync.py runs the same uploads one after the other there.",
    ),
    pytest.mark.django_db(transaction=True),
]


def upload(staff: Any, checkpoint: Any, token: str, minutes_ago: int) -> Callable[[], Any]:
    data = services.ScanInput(
        token=token,
        direction="in",
        scan_id=uuid.uuid4(),
        scanned_at=timezone.now() - timedelta(minutes=minutes_ago),
        offline=services.OfflineVerdict(verdict="admit", reason="ok", clock_offset_ms=0),
    )
    return lambda: services.scan_perform(staff=staff, checkpoint=checkpoint, data=data)


def test_two_offline_admissions_uploaded_at_once_make_one_conflict(
    regions: None, race: Race
) -> None:
    here, there = CheckpointFactory(), CheckpointFactory()
    trip = open_trip(make_dispatcher(), here)
    token = token_of(trip)

    outcomes, blocked = together(
        [upload(staff_user(here), here, token, 20), upload(staff_user(there), there, token, 10)],
        race,
    )

    assert blocked, "the second upload never waited for the first one's lock"
    assert sorted(o.conflicts for o in outcomes) == [(), ("already_inside",)]
    assert all(o.scan.offline and o.scan.verdict == "admit" for o in outcomes)
    [alert] = Alert.objects.all()
    conflicting = next(o for o in outcomes if o.conflicts)
    assert (alert.kind, alert.scan_id) == ("offline_conflict", conflicting.scan.pk)
    first = next(o for o in outcomes if not o.conflicts)
    assert alert.detail["entered_at_checkpoint"] == first.scan.checkpoint.code
    trip.refresh_from_db()
    assert (trip.status, trip.entered_at) == ("inside", first.scan.scanned_at)
    assert ScanEvent.objects.filter(trip=trip, offline=True).count() == 2
