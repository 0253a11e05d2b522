"""The scan's body checked and its answer built by hand, on the hot path (a serializer costs a
tenth of a millisecond on every scan): ``scan_input_fast`` and ``scan_body``, which
``ScanInputSerializer`` and ``ScanOutputSerializer`` (``checkpoints.serializers``) document."""

from __future__ import annotations

import uuid
from datetime import tzinfo
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from checkpoints import services
from checkpoints.models import (
    MAX_PERSONS,
    ScanEvent,
)
from checkpoints.serializers import ScanInputSerializer
from trucks import validators
from trucks.models import Pass, Trip
from trucks.validators import mask_id_number

# A scan decided offline is not the plain scan: it takes the serializer's path, which checks the
# tablet's verdict (``checkpoints.services.offline`` records it).
_SCAN_KEYS = frozenset(ScanInputSerializer._declared_fields) - {"offline"}
_SCANNED_AT = ScanInputSerializer._declared_fields["scanned_at"]


def scan_input_fast(data: Any) -> services.ScanInput | None:
    """The common, clean scan body checked by hand (a serializer costs a tenth of a millisecond
    on every scan). Anything unusual returns None, and ScanInputSerializer then validates the
    body and words the errors."""
    if not isinstance(data, dict) or not data.keys() <= _SCAN_KEYS:
        return None
    token, direction = data.get("token"), data.get("direction")
    if not isinstance(token, str) or len(token) > 2000 or "\x00" in token:
        return None
    token = token.strip()  # as the serializer's CharField trims
    if not token:
        return None
    if direction not in ("in", "out"):
        return None
    plate = data.get("plate") or ""
    persons = data.get("persons")
    raw_id = data.get("scan_id")
    if (
        not isinstance(plate, str)
        or len(plate) > validators.PLATE_INPUT_MAX_LENGTH
        or "\x00" in plate
    ):
        return None
    plate = plate.strip()
    if persons is not None and (type(persons) is not int or not 0 <= persons <= MAX_PERSONS):
        return None
    confirmed = data.get("plate_mismatch_confirmed", False)
    if type(confirmed) is not bool:
        return None
    scanned_at = data.get("scanned_at")
    if scanned_at is not None:
        # The tablet sends the time it scanned with every scan. The serializer's own field reads
        # it (the same parse, time zone and range); anything it refuses, the serializer words.
        try:
            scanned_at = _SCANNED_AT.to_internal_value(scanned_at)
        except serializers.ValidationError:
            return None
    scan_id = None
    if raw_id is not None:
        if not isinstance(raw_id, str):
            return None
        try:
            scan_id = uuid.UUID(raw_id)
        except ValueError:
            return None
    try:
        token.encode("utf-8")
        plate.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return services.ScanInput(
        token=token,
        direction=direction,
        plate=plate,
        persons=persons,
        scan_id=scan_id,
        scanned_at=scanned_at,
        plate_mismatch_confirmed=confirmed,
    )


def _iso(value: Any, zone: tzinfo) -> str | None:
    """A time as DRF's DateTimeField writes it in the rest of the API (the trip and its pass):
    in the current time zone (``zone``, looked up once per answer), so one instant reads the
    same in every answer."""
    if value is None:
        return None
    text: str = timezone.localtime(value, zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def scan_body(
    scan: ScanEvent | services.ScanRecord,
    *,
    pass_: Pass | services.PassRecord | None,
    trip: Trip | services.TripRecord | None,
    persons_expected: int | None,
    replayed: bool = False,
    priority_lane: bool = False,
    conflicts: tuple[str, ...] | list[str] = (),
) -> dict[str, Any]:
    """The answer to a scan, built by hand: this runs on every scan, and a few dict literals
    cost a fraction of nested serializers. ``priority_lane``: the truck's whitelist entry gives
    it the priority lane (``ScanOutcome.priority_lane``, ``services.scan_priority_lane``);
    ``conflicts``: the server's reasons against an offline admission (``ScanOutcome.conflicts``)."""
    zone = timezone.get_current_timezone()
    body: dict[str, Any] = {
        "id": scan.pk,
        "verdict": scan.verdict,
        "reason": scan.reason,
        "warnings": list(scan.warnings),
        "message": services.scan_message(scan),
        "direction": scan.direction,
        "scanned_at": _iso(scan.scanned_at, zone),
        "observed_plate": scan.observed_plate,
        "persons": scan.persons,
        "replayed": replayed,
        "landing_test": scan.landing_test,
        "overridden": scan.overridden_by_id is not None,
        "override": None,
        "earlier_refusal": None,
        "confirmed": scan.confirmed_at is not None,
        "priority_lane": priority_lane,
        "offline": scan.offline,
        "conflicts": list(conflicts),
        "pass": None,
        "trip": None,
    }
    # Both are None on the hot path's records (a new scan is not overridden yet), so the
    # related rows are read only for answers from the record, which load them with the scan.
    if isinstance(scan, ScanEvent) and scan.overridden_by is not None:
        body["override"] = {
            "by": scan.overridden_by.get_full_name() or scan.overridden_by.get_username(),
            "at": _iso(scan.overridden_at, zone),
            "reason": scan.override_reason,
        }
    if scan.earlier_refusal_id is not None:
        earlier = scan.earlier_refusal
        assert earlier is not None
        body["earlier_refusal"] = {
            "id": earlier.pk,
            "reason": earlier.reason,
            "scanned_at": _iso(earlier.scanned_at, zone),
        }
    if pass_ is not None:
        body["pass"] = {
            "id": pass_.pk,
            "colour": pass_.colour,
            "colour_reasons": [r.get("code") for r in pass_.reasons],
            "status": pass_.status,
            "valid_from": _iso(pass_.valid_from, zone),
            "valid_until": _iso(pass_.valid_until, zone),
        }
    if trip is not None:
        body["trip"] = {
            "id": trip.pk,
            "reference": trip.reference,
            "status": trip.status,
            "plate": trip.vehicle.plate,
            "driver": {
                "name": trip.driver.name,
                "id_number": mask_id_number(trip.driver.id_number),
            },
            "persons_expected": persons_expected,
            "entry_checkpoint": trip.entry_checkpoint.code,
            "multi_entry": trip.multi_entry,
            "cargo_category": trip.cargo_category,
        }
    return body
