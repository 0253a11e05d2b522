"""Rows for the export tests, at fixed times (2026-11-20 in Shanghai), and the rows an export of
them must hold, written out by hand."""

from __future__ import annotations

import csv
import io
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import time_machine
from django.contrib.auth.models import User
from openpyxl import load_workbook

from checkpoints.models import ScanEvent
from places.models import Checkpoint, Region
from tests.checkpoints.scanning import pass_of
from tests.factories import (
    CheckpointFactory,
    CompanyFactory,
    consignee_user,
    dispatcher,
    driver_user,
    make_trip,
    staff_user,
    valid_id_number,
)
from trucks import services
from trucks.models import Trip

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = "2026-11-20"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class Rows:
    a: Checkpoint
    b: Checkpoint
    trip: Trip
    staff: User


def make_rows() -> Rows:
    """On the 20th: one trip registered (to enter at CP-A) and three scans, two at CP-A and
    one at CP-B; on the 19th, one trip and one scan that no export of the 20th holds. The
    company's name and the cargo start like formulas."""
    a = CheckpointFactory(code="CP-A", name="甲站")
    b = CheckpointFactory(code="CP-B", name="乙站")
    company = CompanyFactory(name='=HYPERLINK("http://x")运输')
    actor = dispatcher(company)
    staff = staff_user(a, b, username="kakou1")
    with time_machine.travel(local(19, 8), tick=False):
        make_trip(actor, b)
    with time_machine.travel(local(20, 9, 30), tick=False):
        trip = make_trip(
            actor,
            a,
            vehicle_plate="豫H12345",
            driver=services.PersonData("李师傅", valid_id_number(), "13800000001"),
            cargo_description="-蔬菜 20 吨",
        )
    scan = {"staff": staff, "direction": "in"}
    ScanEvent.objects.create(
        checkpoint=a, verdict="admit", reason="ok", scanned_at=local(19, 23, 59), **scan
    )
    ScanEvent.objects.create(
        checkpoint=a,
        trip=trip,
        trip_pass=pass_of(trip),
        verdict="admit",
        reason="ok",
        persons=2,
        scanned_at=local(20, 10, 15),
        **scan,
    )
    ScanEvent.objects.create(
        checkpoint=a,
        verdict="refuse",
        reason="invalid",
        observed_plate="@豫H0000",
        warnings=["not_inside", "persons_mismatch"],
        scanned_at=local(20, 11, 0),
        **scan,
    )
    ScanEvent.objects.create(
        checkpoint=b,
        trip=trip,
        trip_pass=pass_of(trip),
        verdict="refuse",
        reason="already_inside",
        scanned_at=local(20, 23, 59),
        **scan,
    )
    return Rows(a, b, trip, staff)


def other_role(role: str, rows: Rows) -> User:
    """A user of a role that exports are not for."""
    make = {
        "driver": driver_user,
        "dispatcher": dispatcher,
        "consignee": consignee_user,
        "staff": lambda: staff_user(rows.a),
    }
    return make[role]()  # type: ignore[no-any-return]


TRIP_HEADERS = [
    "Reference",
    "Registered at",
    "Status",
    "Company",
    "Number plate",
    "Driver",
    "Driver's phone",
    "Origin",
    "Destination",
    "Consignee",
    "Checkpoint code",
    "Entry checkpoint",
    "Planned arrival",
    "Planned departure",
    "Cargo category",
    "Cargo",
    "Latest test result",
    "Entered at",
    "Arrival confirmed at",
    "Exited at",
]
SCAN_HEADERS = [
    "Scanned at",
    "Checkpoint code",
    "Checkpoint",
    "Direction",
    "Verdict",
    "Reason",
    "Warnings",
    "Number plate",
    "Trip",
    "Persons",
    "Landing test",
    "Staff",
    "Overridden by",
    "Override reason",
]


def trip_row(rows: Rows) -> list[str]:
    """The 20th's trip as CSV: times on Shanghai's clock, words for codes, formulas disarmed."""
    return [
        str(rows.trip.reference),
        "2026-11-20 09:30:00",
        "Registered",
        '\'=HYPERLINK("http://x")运输',
        "豫H12345",
        "李师傅",
        "13800000001",
        Region.objects.get(code="320412").name,
        "焦作市某物流园",
        "",
        "CP-A",
        "甲站",
        "2026-11-20 15:30:00",  # registered at 09:30 for six hours later
        "2026-11-21 15:30:00",
        "Daily necessities",
        "'-蔬菜 20 吨",
        "Negative",
        "",
        "",
        "",
    ]


def scan_rows(rows: Rows) -> list[list[str]]:
    reference = str(rows.trip.reference)
    return [
        [
            "2026-11-20 10:15:00",
            "CP-A",
            "甲站",
            "Entry",
            "Admit",
            "Valid",
            "",
            "豫H12345",
            reference,
            "2",
            "",
            "kakou1",
            "",
            "",
        ],
        [
            "2026-11-20 11:00:00",
            "CP-A",
            "甲站",
            "Entry",
            "Refuse",
            "Not a valid pass code",
            "No entry was recorded; Number of persons differs",
            "'@豫H0000",
            "",
            "",
            "",
            "kakou1",
            "",
            "",
        ],
        [
            "2026-11-20 23:59:00",
            "CP-B",
            "乙站",
            "Entry",
            "Refuse",
            "Already inside",
            "",
            "豫H12345",
            reference,
            "",
            "",
            "kakou1",
            "",
            "",
        ],
    ]


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode()), "a BOM, so Excel reads UTF-8"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(body: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(body), read_only=True)
    sheet = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    # Empty cells are not written: a row read back ends at its last value.
    width = len(sheet[0])
    return [row + [None] * (width - len(row)) for row in sheet]
