"""A row of an import file as the trip API's input (``POST /api/v1/trips/``), its key, and its
faults by column.

Values are what the API takes. Times may also be written ``YYYY-MM-DD HH:MM`` (or with
slashes), or be real Excel date-time cells, in the deployment's time zone; anything else is
passed on as written, for the API's own message. The consignee is its id or its exact name in
the API's list of consignees. The travel history is region codes separated by spaces.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from trucks.importing.columns import CO_RIDER_SLOTS

_LOCAL_TIME = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_SEPARATORS = re.compile(r"[\s,，、;；]+")
_PERSON = ("name", "id_number", "phone")
_TIMES = ("planned_arrival", "planned_departure", "test_sampled_at")
_TEXTS = (
    "vehicle_plate",
    "origin_region",
    "destination_name",
    "destination_address",
    "entry_checkpoint",
    "cargo_category",
    "cargo_description",
    "test_result",
)


def text(cell: Any) -> str:
    """A cell as text: Excel keeps a phone number as a number (13912345678.0)."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell).strip()


def _time(cell: Any) -> str | None:
    """ISO 8601 with the zone, or the text as written when it is no time we read."""
    if isinstance(cell, datetime):
        moment = cell
    else:
        written = text(cell)
        if not written:
            return None
        match = _LOCAL_TIME.match(written)
        try:
            if match:
                year, month, day, hour, minute, second = (int(p or 0) for p in match.groups())
                moment = datetime(year, month, day, hour, minute, second)
            else:
                moment = datetime.fromisoformat(written)
        except ValueError:
            return written
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment.isoformat()


def co_rider_slots(cells: Mapping[str, Any]) -> list[int]:
    """The co-rider columns filled in, in order: the API's co_riders[i] is slot slots[i]."""
    return [
        n
        for n in range(1, CO_RIDER_SLOTS + 1)
        if any(text(cells.get(f"co_rider_{n}_{part}")) for part in _PERSON)
    ]


def api_data(
    cells: Mapping[str, Any], consignees: Mapping[str, int]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The API's input for the row, and the faults found in reading it (a consignee named that
    none is called)."""
    faults: list[tuple[str, str]] = []
    data: dict[str, Any] = {field: text(cells.get(field)) for field in _TEXTS}
    data["driver"] = {part: text(cells.get(f"driver_{part}")) for part in _PERSON}
    data["co_riders"] = [
        {part: text(cells.get(f"co_rider_{n}_{part}")) for part in _PERSON}
        for n in co_rider_slots(cells)
    ]
    data["travel_history"] = [c for c in _SEPARATORS.split(text(cells.get("travel_history"))) if c]
    for field in _TIMES:
        moment = _time(cells.get(field))
        if moment is not None:
            data[field] = moment
    consignee = text(cells.get("consignee"))
    if consignee.isdigit():
        data["consignee"] = int(consignee)
    elif consignee:
        if consignee in consignees:
            data["consignee"] = consignees[consignee]
        else:
            faults.append(
                (
                    "consignee",
                    _(
                        "No consignee has this name: give its id, or its name exactly as the "
                        "list of consignees shows it."
                    ),
                )
            )
    return data, faults


def row_key(company_id: int, data: Mapping[str, Any]) -> str:
    """The row's identity within the company: the same values give the same key, however the
    times were written."""
    body = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{company_id}\n{body}".encode()).hexdigest()


def by_column(errors: Any, slots: list[int]) -> list[tuple[str, str]]:
    """Field messages nested as the API's input is, each as (the column's field, message):
    ``driver.id_number`` is driver_id_number's, ``co_riders.0.phone`` the first co-rider
    filled in's phone; a message that names no column has the field ""."""
    found: list[tuple[str, str]] = []
    for path, message in _flat(errors, ()):
        found.append((_column(path, slots), message))
    return found


def _flat(errors: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]]:
    if isinstance(errors, Mapping):
        return [item for key, value in errors.items() for item in _flat(value, (*path, str(key)))]
    if isinstance(errors, list | tuple):
        return [item for value in errors for item in _flat(value, path)]
    return [(path, str(errors))]


def _column(path: tuple[str, ...], slots: list[int]) -> str:
    head = path[0] if path else ""
    if head == "driver":
        return f"driver_{path[1]}" if len(path) > 1 and path[1] in _PERSON else "driver_name"
    if head == "co_riders":
        if not slots:
            return ""
        if len(path) > 2 and path[1].isdigit() and int(path[1]) < len(slots):
            part = path[2] if path[2] in _PERSON else "name"
            return f"co_rider_{slots[int(path[1])]}_{part}"
        return f"co_rider_{slots[-1]}_name"  # a list-level message: the last one is too many
    if head in (*_TEXTS, *_TIMES, "travel_history", "consignee"):
        return head
    return ""
