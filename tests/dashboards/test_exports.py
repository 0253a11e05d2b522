"""The exports page (``dashboards.exports``): a small export downloads at once, streamed, with
exactly the rows of the period and the list's filters, in the official's language, times on the
deployment's clock, formulas disarmed; a large one (above the threshold, or when asked) is queued,
built, listed with its link, and expires; bad requests are refused with a 400 and queue nothing;
every other role is refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from dashboards.exports import files, services
from dashboards.models import Export
from passcode_portal.celery import app
from tests.dashboards.exporting import (
    DAY,
    SCAN_HEADERS,
    TRIP_HEADERS,
    Rows,
    local,
    other_role,
    read_csv,
    read_xlsx,
    scan_rows,
    trip_row,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PAGE = "/dashboard/exports/"


@pytest.fixture
def official() -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(UserFactory(role="official", username="duty"))
    return client


def ask(client: Client, **fields: str) -> Any:
    body = {"kind": "scans", "format": "csv", "from": DAY, "to": DAY, **fields}
    return client.post(PAGE, body)


def content(answer: Any) -> bytes:
    if answer.streaming:
        return b"".join(answer.streaming_content)
    return bytes(answer.content)


def test_a_small_scan_export_streams_at_once_as_csv(rows: Rows, official: Client) -> None:
    answer = ask(official)
    assert answer.status_code == 200 and answer.streaming
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"] == f'attachment; filename="scans-{DAY}-{DAY}.csv"'
    assert read_csv(content(answer)) == [SCAN_HEADERS, *scan_rows(rows)]
    # The list's filter: one checkpoint.
    only_b = read_csv(content(ask(official, checkpoint="CP-B")))
    assert only_b == [SCAN_HEADERS, scan_rows(rows)[2]]
    assert Export.objects.count() == 0  # nothing kept


def test_a_trip_export_holds_the_trips_registered_in_the_period(
    rows: Rows, official: Client
) -> None:
    answer = ask(official, kind="trips")
    assert read_csv(content(answer)) == [TRIP_HEADERS, trip_row(rows)]
    # Registered to enter at CP-B: none on the 20th.
    assert read_csv(content(ask(official, kind="trips", checkpoint="CP-B"))) == [TRIP_HEADERS]


def test_excel_holds_the_same_cells_with_real_times(rows: Rows, official: Client) -> None:
    answer = ask(official, format="xlsx")
    assert answer.status_code == 200
    assert answer["Content-Type"] == files.CONTENT_TYPES["xlsx"]
    sheet = read_xlsx(content(answer))
    assert sheet[0] == SCAN_HEADERS
    first, refused, _ = sheet[1:]
    assert first[0] == local(20, 10, 15).replace(tzinfo=None)
    assert first[1:8] == ["CP-A", "甲站", "Entry", "Admit", "Valid", None, "豫H12345"]
    assert first[8:] == [rows.trip.reference, 2, None, "kakou1", None, None]
    assert refused[7] == "'@豫H0000"  # text, not a formula
    trips = read_xlsx(content(ask(official, kind="trips", format="xlsx")))
    assert trips[1][3] == '\'=HYPERLINK("http://x")运输'
    assert trips[1][1] == local(20, 9, 30).replace(tzinfo=None)


def test_headers_and_words_are_in_the_officials_language(rows: Rows) -> None:
    client = Client()  # no Accept-Language: Simplified Chinese, the default
    client.force_login(UserFactory(role="official"))
    table = read_csv(content(ask(client)))
    assert table[0][:6] == ["扫码时间", "卡口编码", "卡口", "进出方向", "核验结果", "理由"]
    assert table[1][3:6] == ["进城", "准予通行", "有效"]


def test_above_the_threshold_the_export_is_queued_built_and_listed(
    rows: Rows, official: Client, settings: Any
) -> None:
    settings.EXPORTS_IMMEDIATE_MAX_ROWS = 2
    answer = ask(official)
    assert answer.status_code == 302 and answer["Location"] == PAGE
    export = Export.objects.get()
    assert (export.status, export.rows_total, export.language) == ("queued", 3, "en")
    page = official.get(PAGE).content.decode()
    assert f'data-export="{export.pk}" data-status="queued"' in page
    assert "Export queued: 3 rows" in page

    services.export_build(export_id=export.pk)  # what the worker does (tests/integration)
    export.refresh_from_db()
    assert (export.status, export.rows_done, export.progress) == ("done", 3, 1.0)
    assert export.expires_at == export.finished_at + timedelta(hours=24)
    page = official.get(PAGE).content.decode()
    link = f"/api/v1/exports/{export.pk}/download/"
    assert f'href="{link}"' in page
    assert read_csv(content(official.get(link))) == [SCAN_HEADERS, *scan_rows(rows)]
    # A second delivery of the task builds nothing again.
    assert services.export_build(export_id=export.pk) is None


def test_an_export_asked_for_in_the_background_is_queued_however_small(
    rows: Rows, official: Client
) -> None:
    assert ask(official, background="1", kind="trips").status_code == 302
    assert Export.objects.get().kind == "trips"


def test_the_sweep_deletes_files_past_their_time_and_marks_them_expired(
    rows: Rows, official: Client
) -> None:
    ask(official, background="1")
    export = Export.objects.get()
    services.export_build(export_id=export.pk)
    export.refresh_from_db()
    path = services.export_path(export)
    assert path.is_file()
    assert services.exports_sweep(now=timezone.now() + timedelta(hours=23)).expired == 0
    swept = services.exports_sweep(now=timezone.now() + timedelta(hours=24, minutes=1))
    assert swept.expired == 1
    export.refresh_from_db()
    assert export.status == "expired" and not path.exists() and export.file_name == ""
    gone = official.get(f"/api/v1/exports/{export.pk}/download/")
    assert gone.status_code == 410
    assert "expired" in gone.json()["detail"]
    # The audit: who asked, then what became of it.
    page = official.get(PAGE).content.decode()
    assert "the system" in page and "duty" in page
    assert services.exports_sweep(now=timezone.now() + timedelta(days=2)).expired == 0


def test_the_sweep_queues_lost_exports_again_and_fails_dead_builds(rows: Rows) -> None:
    official = UserFactory(role="official")
    spec = services.export_spec(kind="scans", format="csv", first=DAY, last=DAY, checkpoint="")
    lost = services.export_queue(actor=official, spec=spec)
    dead = services.export_queue(actor=official, spec=spec)
    long_ago = timezone.now() - timedelta(hours=3)
    Export.objects.filter(pk=lost.pk).update(created_at=long_ago)
    Export.objects.filter(pk=dead.pk).update(status="running", started_at=long_ago)
    swept = services.exports_sweep()
    assert swept.lost == [lost.pk] and swept.failed == 1
    dead.refresh_from_db()
    assert dead.status == "failed" and "worker stopped" in dead.error


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"kind": "people"}, "kind", "Choose trips or scans."),
        ({"format": "pdf"}, "format", "Choose CSV or Excel."),
        ({"from": "2026-13-01"}, "from", "YYYY-MM-DD"),
        ({"to": ""}, "to", "YYYY-MM-DD"),
        ({"from": "2026-11-21", "to": "2026-11-20"}, "to", "end date is before the start"),
        ({"checkpoint": "NOWHERE"}, "checkpoint", "No such checkpoint."),
        ({"from": "2025-01-01", "to": "2026-11-20"}, "to", "at most 366 days"),
    ],
)
def test_bad_requests_are_refused_with_a_400_and_queue_nothing(
    rows: Rows, official: Client, fields: dict[str, str], field: str, words: str
) -> None:
    answer = ask(official, background="1", **fields)
    assert answer.status_code == 400
    assert words in answer.content.decode()
    assert Export.objects.count() == 0


def test_excel_beyond_its_last_row_is_refused_for_csv(
    rows: Rows, official: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "XLSX_MAX_ROWS", 3)  # the header and two rows; the day has 3
    answer = ask(official, format="xlsx")
    assert answer.status_code == 400
    assert "more than an Excel sheet holds" in answer.content.decode()
    assert "Choose CSV" in answer.content.decode()
    assert ask(official).status_code == 200  # the same as CSV is fine


@pytest.mark.parametrize("role", ["driver", "dispatcher", "consignee", "staff"])
def test_every_other_role_is_refused(rows: Rows, role: str) -> None:
    user = other_role(role, rows)
    client = Client()
    client.force_login(user)
    assert client.get(PAGE).status_code == 403
    assert ask(client, background="1").status_code == 403
    assert Export.objects.count() == 0
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_beat_sweeps_the_exports_every_ten_minutes() -> None:
    app.loader.import_default_modules()  # what a worker does: autodiscovery of <app>.tasks
    scheduled = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    entry = scheduled["dashboards.tasks.sweep_exports"]
    assert entry["schedule"] == 600.0 and entry["options"]["expires"] <= 600.0
    for name in ("dashboards.tasks.sweep_exports", "dashboards.tasks.build_export"):
        task = app.tasks[name]
        assert task.acks_late and task.max_retries and task.time_limit
    # A build outlasts the default task limit: a year of scans takes minutes.
    assert app.tasks["dashboards.tasks.build_export"].time_limit == services.BUILD_TIME_LIMIT


def test_csv_sends_its_header_before_reading_any_row() -> None:
    def rows() -> Any:
        raise AssertionError("no row may be read before the first piece is sent")
        yield  # a generator

    first = next(files.csv_chunks(["甲", "乙"], rows()))
    assert first == "\ufeff甲,乙\r\n".encode()


def test_a_build_that_outgrows_excel_fails_plainly_and_leaves_no_file(
    rows: Rows, official: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    ask(official, background="1", format="xlsx")
    export = Export.objects.get()
    # Scans recorded since it was asked for take it past the sheet's last row.
    monkeypatch.setattr(files, "XLSX_MAX_ROWS", 3)
    services.export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == "failed"
    assert export.error == "More rows than an Excel sheet holds: use CSV."
    assert export.file_name == "" and not any(Path(settings.EXPORTS_DIR).iterdir())
