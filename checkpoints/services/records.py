"""What a scan is given and what it answers, as plain records. The hot path builds these
instead of model instances: constructing models cost more than the queries that fill them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from checkpoints.models import (
    ScanEvent,
)
from trucks.models import Pass, Trip


@dataclass(frozen=True)
class OfflineVerdict:
    """What a tablet decided without a connection (docs/architecture.md, "Offline"), sent with
    the scan once it is back online: recorded as decided, and checked against the server's own
    decision at the time it happened."""

    verdict: str
    reason: str
    warnings: tuple[str, ...] = ()
    # Server clock minus the device's, as the tablet measured it when it last synced; None when
    # it could not.
    clock_offset_ms: int | None = None


@dataclass(frozen=True)
class ScanInput:
    token: str
    direction: str
    plate: str = ""
    persons: int | None = None
    scan_id: uuid.UUID | None = None
    scanned_at: datetime | None = None
    # Staff checked again a plate that differs from the registered one, and it does: only then
    # is the scan refused as plate_mismatch (a slip of the finger must not refuse a truck).
    plate_mismatch_confirmed: bool = False
    # Decided offline by the tablet; then ``scan_id`` and ``scanned_at`` are given too.
    offline: OfflineVerdict | None = None


@dataclass(frozen=True)
class EarlierRefusal:
    """A refusal of the same pass at the same checkpoint that a later scan's warning recalls."""

    pk: int
    reason: str
    scanned_at: datetime


@dataclass(frozen=True)
class PlateDiffers:
    """Staff entered a plate that is not the pass's and did not confirm the difference: nothing
    is recorded, and they are asked to check the plate again (``plate_recheck_error``)."""

    registered: str
    observed: str


@dataclass(frozen=True)
class ScanRecord:
    """A recorded scan as the answer shows it. The hot path builds these instead of model
    instances: constructing models cost more than the queries that fill them."""

    pk: int
    verdict: str
    reason: str
    warnings: list[str]
    direction: str
    scanned_at: datetime
    observed_plate: str = ""
    persons: int | None = None
    landing_test: str = ""
    overridden_by_id: int | None = None
    confirmed_at: datetime | None = None
    earlier_refusal: EarlierRefusal | None = None
    offline: bool = False  # the hot path records online scans only

    @property
    def id(self) -> int:
        return self.pk

    @property
    def earlier_refusal_id(self) -> int | None:
        return self.earlier_refusal.pk if self.earlier_refusal is not None else None


@dataclass(frozen=True)
class PassRecord:
    pk: int
    colour: str
    reasons: list[dict[str, Any]]
    status: str
    valid_from: datetime
    valid_until: datetime


@dataclass(frozen=True)
class PlateRecord:
    plate: str


@dataclass(frozen=True)
class PersonRecord:
    name: str
    id_number: str


@dataclass(frozen=True)
class CodeRecord:
    code: str


@dataclass(frozen=True)
class TripRecord:
    pk: int
    reference: str | None
    status: str
    multi_entry: bool
    cargo_category: str
    vehicle: PlateRecord
    driver: PersonRecord
    entry_checkpoint: CodeRecord


@dataclass(frozen=True)
class ScanOutcome:
    scan: ScanEvent | ScanRecord
    pass_: Pass | PassRecord | None
    trip: Trip | TripRecord | None
    persons_expected: int | None
    replayed: bool = False
    # The truck takes the priority lane (its company's whitelist entry says so for its plate
    # and cargo at the scan's time): shown to staff, decided by no rule of the verdict's.
    priority_lane: bool = False
    # An offline admission the server would have refused at the time: the server's reasons
    # (``checkpoints.services.offline``). Empty for every other scan.
    conflicts: tuple[str, ...] = ()
