"""The import's steps as the workers take them: each by its status, so a task delivered twice
goes on with the rows left; the periodic sweep queues again an import whose worker went
silent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from tests.trucks.importing import csv_bytes, good_row
from trucks import services
from trucks.models import Trip, TripImport, TripImportRow
from trucks.serializers.trips import TripInputSerializer
from trucks.services import import_checks, imports

pytestmark = pytest.mark.django_db


def test_a_step_is_taken_by_its_status_and_a_redelivery_goes_on_with_the_rows_left(
    dispatcher: Any, checkpoint: Any
) -> None:
    rows = [good_row(checkpoint.code, 600 + n) for n in range(3)]
    trip_import = imports.trip_import_upload(
        actor=dispatcher, file_name="t.csv", content=csv_bytes(rows)
    )
    assert imports.trip_import_register(import_id=trip_import.pk) is None  # not its status
    imports.trip_import_validate(import_id=trip_import.pk)
    assert imports.trip_import_validate(import_id=trip_import.pk) is None  # checked already
    imports.trip_import_confirm(trip_import=trip_import)
    # A worker that registered the first row's chunk and died left it registered: the task
    # delivered again skips it (its status is no longer "valid") and registers the others.
    first = TripImportRow.objects.filter(trip_import=trip_import).order_by("number").first()
    assert first is not None
    trip = services.trip_register(
        actor=dispatcher,
        data=import_checks.trip_data_of(first.data, TripInputSerializer()),
        import_key=first.key,
    )
    TripImportRow.objects.filter(pk=first.pk).update(status="registered", trip=trip)
    done = imports.trip_import_register(import_id=trip_import.pk)
    assert done is not None and (done.status, done.registered) == ("done", 3)
    assert imports.trip_import_register(import_id=trip_import.pk) is None
    assert Trip.objects.count() == 3


def test_the_sweep_queues_again_an_import_whose_worker_went_silent(
    dispatcher: Any, checkpoint: Any
) -> None:
    trip_import = imports.trip_import_upload(
        actor=dispatcher, file_name="t.csv", content=csv_bytes([good_row(checkpoint.code)])
    )
    fresh = imports.trip_import_upload(
        actor=dispatcher, file_name="u.csv", content=csv_bytes([good_row(checkpoint.code)])
    )
    later = timezone.now() + imports.STUCK_AFTER + timedelta(minutes=1)
    TripImport.objects.filter(pk=fresh.pk).update(touched_at=later)
    assert imports.trip_imports_sweep(now=later) == [(trip_import.pk, "validating")]
    assert imports.trip_imports_sweep(now=later) == []  # stamped: left alone for a while
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-trip-imports"]
    assert entry["task"] == "trucks.tasks.sweep_trip_imports"
