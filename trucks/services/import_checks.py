"""The checks of an imported file (docs/architecture.md, "Bulk import"): each row as the trip
API checks a trip (its input serializer, then every check of ``trip_register`` through
``trip_validate``, with the same messages), and what only the whole file shows: a row repeated,
two rows of one vehicle at overlapping times, a row registered by an earlier upload. Also the
template's example row and the error report's lines."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from passcode_portal.errors import DomainError
from places.models import Checkpoint, Region
from trucks import validators
from trucks.importing.rows import by_column, co_rider_slots
from trucks.models import CargoCategory, TestResult, Trip, TripImport, TripImportRow
from trucks.serializers.trips import TripInputSerializer
from trucks.services.facts import TripFacts
from trucks.services.inputs import TripData
from trucks.services.policy import policy_current
from trucks.services.registration import trip_validate

RowStatus = TripImportRow.Status


def trip_data_of(data: Mapping[str, Any], serializer: TripInputSerializer) -> TripData:
    """The row's trip as the API reads it, or the API's own field messages (400)."""
    try:
        return serializer.trip_data_of(data)
    except ValidationError as exc:
        # As the API's exception handler shapes them (passcode_portal.api).
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        raise DomainError(
            "validation_error", _("Some fields are not valid."), fields=fields
        ) from None


def row_faults_of_error(exc: DomainError, row: TripImportRow) -> list[list[str]]:
    """A refusal's messages by column; a refusal naming no field has its message alone."""
    if exc.fields:
        return [list(f) for f in by_column(exc.fields, co_rider_slots(row.cells))]
    return [["", str(exc.message)]]


def row_faults(
    actor: User, row: TripImportRow, facts: TripFacts, serializer: TripInputSerializer
) -> list[list[str]]:
    """Everything ``POST /api/v1/trips/`` would refuse in the row, by column."""
    try:
        trip_validate(actor=actor, data=trip_data_of(row.data, serializer), facts=facts)
    except DomainError as exc:
        return row_faults_of_error(exc, row)
    return []


def mark_within_file(trip_import: TripImport) -> None:
    """Rows valid on their own that an upload before registered are marked so (not again);
    a row repeating an earlier one, or booking a vehicle an earlier row books at an
    overlapping time, becomes invalid, naming that row. Run again, it finds nothing new."""
    rows = list(
        TripImportRow.objects.filter(
            trip_import=trip_import, status__in=[RowStatus.VALID, RowStatus.ALREADY]
        ).order_by("number")
    )
    registered = set(
        Trip.objects.filter(
            company_id=trip_import.company_id, import_key__in=[r.key for r in rows]
        ).values_list("import_key", flat=True)
    )
    first_of: dict[str, int] = {}
    booked: dict[str, list[tuple[datetime, datetime, int]]] = {}
    changed = []
    for row in rows:
        if row.key in registered:
            row.status = RowStatus.ALREADY
            changed.append(row)
            continue
        if row.key in first_of:
            row.errors = [["", _("Same as row %(n)d.") % {"n": first_of[row.key]}]]
        else:
            first_of[row.key] = row.number
            row.errors = _overlaps(row, booked)
        if row.errors:
            row.status = RowStatus.INVALID
            changed.append(row)
    rows_saved(changed)


def _overlaps(row: TripImportRow, booked: dict[str, list[tuple[datetime, datetime, int]]]) -> Any:
    arrival = datetime.fromisoformat(row.data["planned_arrival"])
    departure = datetime.fromisoformat(row.data["planned_departure"])
    plate = validators.normalise_plate(row.data.get("vehicle_plate", ""))
    for start, end, number in booked.setdefault(plate, []):
        if start < departure and arrival < end:
            message = _("The same vehicle is on row %(n)d at an overlapping time.") % {"n": number}
            return [["vehicle_plate", message]]
    booked[plate].append((arrival, departure, row.number))
    return []


def template_example() -> dict[str, str]:
    """A row valid on this deployment: a real region, an open checkpoint, times after today in
    the deployment's zone and within the policy's horizon."""
    policy = policy_current()
    now = timezone.localtime()
    day = (now + timedelta(hours=policy.min_lead_hours, days=1)).date()
    arrival = timezone.make_aware(datetime.combine(day, time(9, 0)))
    departure = arrival + timedelta(hours=min(8, policy.max_window_hours))
    region = Region.objects.filter(level=Region.Level.COUNTY).order_by("code").first()
    checkpoint = Checkpoint.objects.filter(active=True).order_by("code").first()
    id17 = "41080219850612001"
    return {
        "vehicle_plate": "豫H12345",
        "driver_name": "李师傅",
        "driver_id_number": id17 + validators.id_number_check_character(id17),
        "driver_phone": "13912345678",
        "origin_region": region.code if region else "",
        "travel_history": region.code if region else "",
        "destination_name": "焦作市某物流园",
        "destination_address": "河南省焦作市解放区民主路1号",
        "entry_checkpoint": checkpoint.code if checkpoint else "",
        "planned_arrival": arrival.strftime("%Y-%m-%d %H:%M"),
        "planned_departure": departure.strftime("%Y-%m-%d %H:%M"),
        "cargo_category": CargoCategory.GENERAL,
        "cargo_description": "日用品 10 吨",
        "test_result": TestResult.NEGATIVE,
        "test_sampled_at": (now - timedelta(hours=12)).strftime("%Y-%m-%d %H:%M"),
    }


def error_lines(trip_import: TripImport) -> list[tuple[int, str, str, str]]:
    """(row, the column's header as written, the cell, message) for every fault, by row."""
    headers: dict[str, str] = trip_import.headers
    rows = TripImportRow.objects.filter(
        trip_import=trip_import, status=RowStatus.INVALID
    ).values_list("number", "cells", "errors")
    return [
        (number, headers.get(field, ""), str(cells.get(field, "")), message)
        for number, cells, errors in rows.order_by("number")
        for field, message in errors
    ]


def rows_saved(rows: list[TripImportRow]) -> None:
    """The rows' status, errors and trip, in an UPDATE per row that differs from the others:
    the many rows valid and without a trip share one (Django's bulk_update builds a CASE per
    row and column, slower than the rows it writes)."""
    alike: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        if row.errors or row.trip_id is not None:
            TripImportRow.objects.filter(pk=row.pk).update(
                status=row.status, errors=row.errors, trip=row.trip_id
            )
        else:
            alike.setdefault((row.status, ""), []).append(row.pk)
    for (status, _none), pks in alike.items():
        TripImportRow.objects.filter(pk__in=pks).update(status=status, errors=[])
