"""An export end to end through a real Celery worker (Redis on CI, the filesystem broker with
nothing set): asked for through the API, built by the worker once the request commits, read back
as done with its download link, and downloaded with the rows of the period."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from dashboards.models import Export
from tests.dashboards.exporting import (
    DAY,
    SCAN_HEADERS,
    TRIP_HEADERS,
    make_rows,
    read_csv,
    read_xlsx,
    scan_rows,
    trip_row,
)
from tests.factories import UserFactory
from tests.integration.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_builds_an_export_asked_for_through_the_api(
    regions: None, celery_worker: Any, settings: Any, tmp_path: Path
) -> None:
    settings.EXPORTS_DIR = str(tmp_path / "exports")
    rows = make_rows()
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(UserFactory(role="official"))

    scans = client.post(
        "/api/v1/exports/",
        {"kind": "scans", "format": "csv", "from": DAY, "to": DAY},
        format="json",
    )
    trips = client.post(
        "/api/v1/exports/",
        {"kind": "trips", "format": "xlsx", "from": DAY, "to": DAY, "checkpoint": "CP-A"},
        format="json",
    )
    assert scans.status_code == trips.status_code == 202

    def done(answer: Any) -> Any:
        body = client.get(f"/api/v1/exports/{answer.json()['id']}/").json()
        assert body["status"] in ("queued", "running", "done"), body
        return body if body["status"] == "done" else None

    built = wait_for(lambda: done(scans))
    got = client.get(built["download"])
    assert got.status_code == 200
    assert read_csv(b"".join(got.streaming_content)) == [SCAN_HEADERS, *scan_rows(rows)]

    built = wait_for(lambda: done(trips))
    sheet = read_xlsx(b"".join(client.get(built["download"]).streaming_content))
    assert sheet[0] == TRIP_HEADERS
    assert sheet[1][0] == rows.trip.reference and sheet[1][2:4] == trip_row(rows)[2:4]
    assert Export.objects.filter(status="done").count() == 2
