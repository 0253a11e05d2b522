"""An import of 10,000 trips end to end through a real Celery worker (Redis on CI, the
filesystem broker with nothing set): uploaded through the API, checked by the worker once the
upload commits, confirmed, and registered, every trip with its pass; the same file uploaded
again registers nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.factories import CheckpointFactory, valid_id_number
from tests.factories import dispatcher as make_dispatcher
from tests.integration.waiting import wait_for
from tests.trucks.importing import csv_bytes, good_row
from trucks.importing.reading import MAX_ROWS
from trucks.models import Pass, PassStatus, Trip, TripImport

pytestmark = pytest.mark.django_db(transaction=True)


def many_rows(checkpoint_code: str, count: int) -> list[dict[str, Any]]:
    """``count`` valid rows, each of its own vehicle and driver."""
    return [
        good_row(
            checkpoint_code,
            n,
            driver_id_number=valid_id_number(n, birth=f"19{60 + n // 1000:02d}0612"),
        )
        for n in range(count)
    ]


def _status(pk: int, wanted: str) -> TripImport | None:
    trip_import = TripImport.objects.get(pk=pk)
    assert trip_import.status != "failed", trip_import.message
    return trip_import if trip_import.status == wanted else None


def test_the_worker_checks_and_registers_ten_thousand_rows(
    regions: None, celery_worker: Any
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(make_dispatcher())
    content = csv_bytes(many_rows(checkpoint.code, MAX_ROWS))

    started = time.monotonic()
    answer = client.post(
        "/api/v1/trip-imports/",
        {"file": SimpleUploadedFile("trips.csv", content)},
        format="multipart",
    )
    assert answer.status_code == 202, answer.json()
    pk = answer.json()["id"]
    seen: set[int] = set()

    def validated() -> TripImport | None:
        seen.add(TripImport.objects.get(pk=pk).progress)
        return _status(pk, "validated")

    checked = wait_for(validated, seconds=600)
    assert (checked.rows, checked.valid, checked.invalid) == (MAX_ROWS, MAX_ROWS, 0)
    checked_in = time.monotonic() - started

    assert client.post(f"/api/v1/trip-imports/{pk}/confirm/").status_code == 202
    done = wait_for(lambda: _status(pk, "done"), seconds=1200)
    registered_in = time.monotonic() - started - checked_in
    assert (done.registered, done.invalid, done.progress) == (MAX_ROWS, 0, 100)
    assert Trip.objects.filter(import_key__gt="").count() == MAX_ROWS
    assert Pass.objects.filter(status=PassStatus.ACTIVE).count() == MAX_ROWS
    assert len(seen - {0, 100}) >= 1  # progress was seen between the ends
    print(f"checked in {checked_in:.1f} s, registered in {registered_in:.1f} s")

    again = client.post(
        "/api/v1/trip-imports/",
        {"file": SimpleUploadedFile("trips.csv", content)},
        format="multipart",
    ).json()["id"]
    checked = wait_for(lambda: _status(again, "validated"), seconds=600)
    assert (checked.valid, checked.already_registered) == (0, MAX_ROWS)
    assert client.post(f"/api/v1/trip-imports/{again}/confirm/").status_code == 202
    assert wait_for(lambda: _status(again, "done"), seconds=120).registered == 0
    assert Trip.objects.count() == MAX_ROWS
