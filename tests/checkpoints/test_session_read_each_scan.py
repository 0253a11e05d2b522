"""Where a scan cannot read the session with its lock (SQLite, or inside a caller's
transaction, as in this test on any database), a tablet's scan reads its session on its own,
every time, even with a session this process has found before: nothing is taken on trust that
nothing would confirm (``checkpoints.services.sessions_confirmable``)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from checkpoints import services
from checkpoints.models import ScanEvent
from tests.checkpoints.scanning import open_trip, scan_url, token_of

pytestmark = pytest.mark.django_db  # inside the test's transaction, on every database


@override_settings(API_AUTH_CACHE_SECONDS=60, HOT_CACHE_SECONDS=60)
def test_each_scan_reads_the_session_when_no_lock_could_confirm_it(
    regions: None, dispatcher: Any, checkpoint: Any, staff: Any
) -> None:
    assert not services.sessions_confirmable()
    tablet = Client(enforce_csrf_checks=True)
    tablet.force_login(staff)
    assert tablet.get(f"/checkpoints/{checkpoint.code}/scan/").status_code == 200
    csrf = tablet.cookies[settings.CSRF_COOKIE_NAME].value
    reads = []
    for trip in (open_trip(dispatcher, checkpoint), open_trip(dispatcher, checkpoint)):
        with CaptureQueriesContext(connection) as ctx:
            answer = tablet.post(
                scan_url(checkpoint),
                {"token": token_of(trip), "direction": "in", "scan_id": str(uuid.uuid4())},
                content_type="application/json",
                HTTP_ACCEPT="application/json",
                HTTP_X_CSRFTOKEN=csrf,
            )
        assert answer.status_code == 201
        reads.append(sum(q["sql"].startswith("SELECT session_data FROM") for q in ctx))
    assert reads == [1, 1]
    assert ScanEvent.objects.count() == 2
    # Each scan counted once by the rate limit: none was tried on trust and then again in full.
    # (Counted per minute: the two scans may fall either side of a minute's end.)
    window = int(time.time() // 60)
    counted = [cache.get(f"throttle:scan:{staff.pk}:{w}") or 0 for w in (window - 1, window)]
    assert sum(counted) == 2
