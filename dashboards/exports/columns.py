"""What an export holds: for trips and for scans, the rows of the period (read through
``dashboards.selectors``, so an export and the dashboard's figures count the same rows) and the
columns an official reads, with headers and values in words in the requester's language and times
in the deployment's zone.

Rows are read as dicts of named values (``.values()``, one query with its joins) a chunk at a
time (``.iterator(chunk_size=...)``: a server-side cursor on PostgreSQL), so an export of
millions of rows keeps constant memory and starts at once.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from checkpoints.models import Direction, LandingTest, Reason, Verdict, Warning
from dashboards import selectors
from dashboards.periods import Period
from passcode_portal.cells import formula_safe
from places.models import Checkpoint
from trucks.models import CargoCategory, TestResult, TripStatus

# Rows fetched per round trip of the cursor.
CHUNK = 2000
Value = str | int | datetime | None


Reader = Callable[[Mapping[str, Any]], Value]


@dataclass(frozen=True)
class Column:
    """A column's header, and how to make its cell's reader when an export starts: words and
    the clock's zone are looked up then, once, not for each of a million cells (a translation
    looked up per cell was most of an export's time)."""

    header: Promise
    reader: Callable[[], Reader]


def _field(name: str) -> Callable[[], Reader]:
    return lambda: lambda row: row[name] if row[name] != "" else None


def _time(name: str) -> Callable[[], Reader]:
    """The time on the deployment's clock, without its zone (spreadsheets hold none)."""

    def reader() -> Reader:
        zone = timezone.get_current_timezone()
        return lambda row: (
            row[name].astimezone(zone).replace(tzinfo=None) if row[name] is not None else None
        )

    return reader


def _words(choices: list[tuple[str, Any]]) -> dict[str, str]:
    """Each choice's words for its code, in the language in force."""
    return {code: str(label) for code, label in choices}


def _label(name: str, choices: list[tuple[str, Any]]) -> Callable[[], Reader]:
    """The choice's words rather than its code."""

    def reader() -> Reader:
        words = _words(choices)
        return lambda row: words.get(row[name], row[name]) if row[name] else None

    return reader


def _warnings() -> Reader:
    words = _words(Warning.choices)
    return lambda row: "; ".join(words.get(code, code) for code in row["warnings"] or []) or None


def _plate() -> Reader:
    """The registered plate; for a scan of no known pass, the plate staff typed, if any."""
    return lambda row: row["trip__vehicle__plate"] or row["observed_plate"] or None


@dataclass(frozen=True)
class Table:
    fields: tuple[str, ...]
    columns: tuple[Column, ...]
    rows_of: Callable[[Period, Checkpoint | None], QuerySet[Any]]
    order: tuple[str, ...]

    def headers(self) -> list[str]:
        return [str(column.header) for column in self.columns]

    def queryset(self, period: Period, checkpoint: Checkpoint | None) -> QuerySet[Any]:
        return self.rows_of(period, checkpoint).order_by(*self.order)

    def count(self, period: Period, checkpoint: Checkpoint | None) -> int:
        return self.rows_of(period, checkpoint).count()

    def rows(
        self, period: Period, checkpoint: Checkpoint | None
    ) -> Generator[list[Value], None, None]:
        """Each row's cells in the columns' order, guarded against formulas."""
        readers = [column.reader() for column in self.columns]
        values = self.queryset(period, checkpoint).values(*self.fields)
        for row in values.iterator(chunk_size=CHUNK):
            yield [formula_safe(read(row)) for read in readers]


TRIPS = Table(
    fields=(
        "reference",
        "created_at",
        "status",
        "company__name",
        "vehicle__plate",
        "driver__name",
        "driver__phone",
        "origin_region__name",
        "destination_name",
        "consignee__name",
        "entry_checkpoint__code",
        "entry_checkpoint__name",
        "planned_arrival",
        "planned_departure",
        "cargo_category",
        "cargo_description",
        "test_result",
        "entered_at",
        "arrived_at",
        "exited_at",
    ),
    columns=(
        Column(_("Reference"), _field("reference")),
        Column(_("Registered at"), _time("created_at")),
        Column(_("Status"), _label("status", TripStatus.choices)),
        Column(_("Company"), _field("company__name")),
        Column(_("Number plate"), _field("vehicle__plate")),
        Column(_("Driver"), _field("driver__name")),
        Column(_("Driver's phone"), _field("driver__phone")),
        Column(_("Origin"), _field("origin_region__name")),
        Column(_("Destination"), _field("destination_name")),
        Column(_("Consignee"), _field("consignee__name")),
        Column(_("Checkpoint code"), _field("entry_checkpoint__code")),
        Column(_("Entry checkpoint"), _field("entry_checkpoint__name")),
        Column(_("Planned arrival"), _time("planned_arrival")),
        Column(_("Planned departure"), _time("planned_departure")),
        Column(_("Cargo category"), _label("cargo_category", CargoCategory.choices)),
        Column(_("Cargo"), _field("cargo_description")),
        Column(_("Latest test result"), _label("test_result", TestResult.choices)),
        Column(_("Entered at"), _time("entered_at")),
        Column(_("Arrival confirmed at"), _time("arrived_at")),
        Column(_("Exited at"), _time("exited_at")),
    ),
    rows_of=selectors.trips_registered_in,
    order=("created_at", "id"),
)

SCANS = Table(
    fields=(
        "scanned_at",
        "checkpoint__code",
        "checkpoint__name",
        "direction",
        "verdict",
        "reason",
        "warnings",
        "trip__vehicle__plate",
        "observed_plate",
        "trip__reference",
        "persons",
        "landing_test",
        "staff__username",
        "overridden_by__username",
        "override_reason",
    ),
    columns=(
        Column(_("Scanned at"), _time("scanned_at")),
        Column(_("Checkpoint code"), _field("checkpoint__code")),
        Column(_("Checkpoint"), _field("checkpoint__name")),
        Column(_("Direction"), _label("direction", Direction.choices)),
        Column(_("Verdict"), _label("verdict", Verdict.choices)),
        Column(_("Reason"), _label("reason", Reason.choices)),
        Column(_("Warnings"), _warnings),
        Column(_("Number plate"), _plate),
        Column(_("Trip"), _field("trip__reference")),
        Column(_("Persons"), _field("persons")),
        Column(_("Landing test"), _label("landing_test", LandingTest.choices)),
        Column(_("Staff"), _field("staff__username")),
        Column(_("Overridden by"), _field("overridden_by__username")),
        Column(_("Override reason"), _field("override_reason")),
    ),
    rows_of=selectors.scans_in,
    order=("scanned_at", "id"),
)

TABLES: dict[str, Table] = {"trips": TRIPS, "scans": SCANS}
