"""Helpers of the trip import tests: rows of valid cells, files of them as CSV or Excel, and an
import run through the same services the workers call."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from tests.factories import valid_id_number, valid_phone, valid_plate
from trucks.importing import columns
from trucks.models import TripImport
from trucks.services import imports

Cells = dict[str, Any]


def local(hours: float) -> str:
    """A time ``hours`` from now as a dispatcher writes it, in the deployment's zone."""
    return timezone.localtime(timezone.now() + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")


def good_row(checkpoint_code: str, n: int | None = None, **overrides: Any) -> Cells:
    cells: Cells = {
        "vehicle_plate": valid_plate(n),
        "driver_name": "李师傅",
        "driver_id_number": valid_id_number(n),
        "driver_phone": valid_phone(n),
        "origin_region": "320412",
        "travel_history": "320400 410802",
        "destination_name": "焦作市某物流园",
        "destination_address": "河南省焦作市解放区民主路1号",
        "consignee": "",
        "entry_checkpoint": checkpoint_code,
        "planned_arrival": local(8),
        "planned_departure": local(30),
        "cargo_category": "daily_necessities",
        "cargo_description": "蔬菜 20 吨",
        "test_result": "negative",
        "test_sampled_at": local(-10),
    }
    cells.update(overrides)
    return cells


def table(rows: Sequence[Cells], headers: Sequence[str] | None = None) -> list[list[Any]]:
    """The header row (API field names unless given, in the order of ``columns.FIELDS``) and
    the rows' cells under it."""
    fields = list(columns.FIELDS)
    return [list(headers or fields), *([row.get(f, "") for f in fields] for row in rows)]


def csv_bytes(
    rows: Sequence[Cells], headers: Sequence[str] | None = None, encoding: str = "utf-8"
) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(table(rows, headers))
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Cells], headers: Sequence[str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in table(rows, headers):
        sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_xlsx(content: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [list(values) for values in sheet.iter_rows(values_only=True)]


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def checked(actor: User, content: bytes, name: str = "trips.csv") -> TripImport:
    """Uploaded and checked, as the worker checks it."""
    trip_import = imports.trip_import_upload(actor=actor, file_name=name, content=content)
    imports.trip_import_validate(import_id=trip_import.pk)
    trip_import.refresh_from_db()
    return trip_import


def registered(trip_import: TripImport) -> TripImport:
    imports.trip_import_confirm(trip_import=trip_import)
    imports.trip_import_register(import_id=trip_import.pk)
    trip_import.refresh_from_db()
    return trip_import


def errors_of(trip_import: TripImport) -> list[tuple[int, str, str]]:
    """(row, column as written, message) of every error."""
    from trucks.services import import_checks

    return [(r, c, m) for r, c, _v, m in import_checks.error_lines(trip_import)]


def aware(moment: datetime) -> datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
