"""A scan of a well-signed token, decided under its trip's row lock and written in one short
transaction (``scan_locked``), or, on PostgreSQL outside any transaction, in two round trips
(``scan_one_trip``). The decision itself is ``checkpoints.verification.decide``."""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction

from checkpoints import selectors, verification
from checkpoints.models import Alert, Reason, ScanEvent, Verdict, Warning
from checkpoints.services.records import (
    CodeRecord,
    EarlierRefusal,
    PassRecord,
    PersonRecord,
    PlateDiffers,
    PlateRecord,
    ScanInput,
    ScanOutcome,
    ScanRecord,
    TripRecord,
)
from checkpoints.services.sql import (
    Locked,
    db_datetime,
    db_value,
    execute_prepared,
    lock_sql,
    write_scan,
)
from passcode_portal.dbcheck import checked_by_use
from passcode_portal.rows import row_as
from passcode_portal.sessions import SessionCheck
from places.models import Checkpoint
from trucks import passcode, validators
from trucks import services as trucks_services
from trucks.models import CoRider, Pass, Trip


def digest_of(token: str) -> str:
    """Of the token as decoding reads it (white space dropped, upper case): a forged code read
    again by a scanner in lower case is the same code, and the same cause of one alert."""
    text = passcode.normalise(token)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def recorded_answer(scan_id: uuid.UUID) -> ScanOutcome | None:
    """The recorded answer to a scan the device sends again (a retry, an offline sync)."""
    scan = (
        ScanEvent.objects.select_related(*selectors.SCAN_ANSWER_RELATED)
        .filter(scan_id=scan_id)
        .first()
    )
    if scan is None:
        return None
    persons = None
    if scan.trip is not None:
        persons = 1 + CoRider.objects.filter(trip=scan.trip).count()
    conflicts = offline_conflicts([scan.pk]).get(scan.pk, ()) if scan.offline else ()
    return ScanOutcome(
        scan,
        scan.trip_pass,
        scan.trip,
        persons,
        replayed=True,
        priority_lane=(
            scan.trip is not None and scan_priority_lane(scan, trucks_services.priority_lanes())
        ),
        conflicts=conflicts,
    )


def offline_conflicts(scan_pks: Collection[int]) -> dict[int, tuple[str, ...]]:
    """The server's reasons against offline admissions, by scan, as their ``offline_conflict``
    alerts keep them (``checkpoints.services.offline``): one query for a list of scans."""
    found: dict[int, tuple[str, ...]] = {}
    if scan_pks:
        rows = Alert.objects.filter(
            scan_id__in=scan_pks, kind=Alert.Kind.OFFLINE_CONFLICT
        ).values_list("scan_id", "detail")
        for scan_pk, detail in rows:
            found[scan_pk] = (*found.get(scan_pk, ()), str(detail.get("reason", "")))
    return found


def scan_priority_lane(scan: ScanEvent, lanes: trucks_services.PriorityLanes) -> bool:
    """Whether a recorded scan's truck took the priority lane, judged at the scan's time as
    the scan itself was (its trip loaded with the vehicle, as ``SCAN_ANSWER_RELATED`` does)."""
    trip = scan.trip
    if trip is None:
        return False
    return lanes.covers(
        company_id=trip.company_id,
        plate=trip.vehicle.plate,
        cargo_category=trip.cargo_category,
        at=scan.scanned_at,
    )


def _earlier_refusal(value: Any) -> EarlierRefusal | None:
    if value is None:
        return None
    pk, reason, scanned_at = value if isinstance(value, list) else json.loads(value)
    return EarlierRefusal(pk=int(pk), reason=str(reason), scanned_at=db_datetime(scanned_at))


# Without a savepoint: the scan is all or nothing, so a savepoint buys nothing, and when a
# caller's transaction encloses the scan (as a test's does) it costs two statements more on the
# hot path (SAVEPOINT, RELEASE), which the query budget of four per scan cannot spare (SQLite
# runs the scan's writes as separate statements). Nothing may be raised in here for the caller
# to handle (that would spoil the caller's transaction): refusals of the input are returned.
@transaction.atomic(savepoint=False)
def scan_locked(
    *,
    staff: User,
    checkpoint: Checkpoint,
    data: ScanInput,
    claims: passcode.Claims,
    at: datetime,
    now: datetime,
) -> ScanOutcome | PlateDiffers:
    # On PostgreSQL the lock statement locks the trip's row: two tablets scanning one pass are
    # decided one after the other, so a copied code is admitted once. The trip, not the pass: an
    # entry changes only the trip, and a scan that waited for a pass row its rival merely locked
    # would be handed the trip as it was before the rival's entry (PostgreSQL re-reads, after
    # the wait, only locked rows that changed) and admit it again. Each change of a pass (an
    # exit, a revocation, a regrade) is made under its trip's lock, and the trucks services lock
    # the trip before its pass, as this does, so the two cannot deadlock. (SQLite takes the
    # database's write lock when the transaction begins: settings set its transaction mode to
    # IMMEDIATE.)
    with connection.cursor() as cursor:
        execute_prepared(
            cursor,
            "scan_lock",
            lock_sql(next_id=False),
            [db_value(data.scan_id), checkpoint.pk, None, db_value(now), claims.pass_id],
        )
        row = row_as(cursor, Locked)
        if row is not None and row.replay_id is not None:
            replay = recorded_answer(data.scan_id)  # type: ignore[arg-type]
            assert replay is not None
            return replay
        valid_until = db_datetime(row.valid_until) if row is not None else None
        if (
            row is None
            or valid_until is None
            or passcode.window_minute(valid_until) != claims.valid_until
        ):
            # Well signed, yet no such pass (or not this pass's window): refuse, record.
            if data.scan_id is not None and row is None:
                replay = recorded_answer(data.scan_id)
                if replay is not None:
                    return replay
            scan = ScanEvent(
                checkpoint=checkpoint,
                staff=staff,
                direction=data.direction,
                verdict=Verdict.REFUSE,
                reason=Reason.UNKNOWN,
                token_digest=digest_of(data.token),
                observed_plate=validators.normalise_plate(data.plate)[:16],
                persons=data.persons,
                scan_id=data.scan_id,
                scanned_at=at,
                received_at=now,
            )
            scan.pk = write_scan(
                cursor,
                scan_values=scan_row(scan, None, None),
                trip_update=None,
                pass_update=None,
                alert=None,
            )
            return ScanOutcome(scan, None, None, None)

        return _scan_decided(
            cursor, row, staff=staff, checkpoint=checkpoint, data=data, at=at, now=now
        )


def _scan_decided(
    cursor: Any,
    row: Locked,
    *,
    staff: User,
    checkpoint: Checkpoint,
    data: ScanInput,
    at: datetime,
    now: datetime,
    scan_pk: int | None = None,
) -> ScanOutcome | PlateDiffers:
    """Decide a scan from its locked row and write it. With ``scan_pk`` given (taken from the
    sequence), the write commits the open transaction too. A plate that differs from the
    registered one, not confirmed as different, writes nothing (``PlateDiffers``)."""
    observed_plate = validators.normalise_plate(data.plate)
    if verification.plate_differs(observed_plate, row.plate) and not data.plate_mismatch_confirmed:
        return PlateDiffers(registered=row.plate, observed=observed_plate)
    valid_from, valid_until = db_datetime(row.valid_from), db_datetime(row.valid_until)
    multi_entry = bool(row.multi_entry)
    persons_expected = 1 + int(row.co_riders or 0)
    earlier = _earlier_refusal(row.earlier_refusal)
    decision = verification.decide(
        verification.Facts(
            direction=data.direction,
            at=at,
            pass_status=row.pass_status,
            colour=row.colour,
            valid_from=valid_from,
            valid_until=valid_until,
            trip_status=row.trip_status,
            multi_entry=multi_entry,
            registered_plate=row.plate,
            entry_checkpoint_id=row.entry_checkpoint_id,
            checkpoint_id=checkpoint.pk,
            strict_checkpoint=trucks_services.policy_current_cached().strict_checkpoint,
            persons_expected=persons_expected,
            observed_plate=observed_plate,
            observed_persons=data.persons,
            earlier_refusal_at=earlier.scanned_at if earlier is not None else None,
        )
    )
    # The earlier refusal is kept with the scan only when its warning speaks of it.
    if Warning.REFUSED_RECENTLY not in decision.warnings:
        earlier = None
    alert = None
    pass_pk, trip_pk = row.pass_id, row.trip_id
    if decision.alert is not None:
        key = f"{decision.alert}:{pass_pk}"
        if decision.alert == Alert.Kind.PLATE_MISMATCH:
            key += f":{observed_plate}"
        detail = json.dumps({"reason": decision.reason, "observed_plate": observed_plate})
        alert = (decision.alert, key[:120], trip_pk, checkpoint.pk, detail, now)
    scan_pk = write_scan(
        cursor,
        scan_pk=scan_pk,
        scan_values=[
            checkpoint.pk,
            staff.pk,
            pass_pk,
            trip_pk,
            data.direction,
            decision.verdict,
            decision.reason,
            json.dumps(decision.warnings),
            "",
            observed_plate[:16],
            data.persons,
            data.scan_id,
            at,
            now,
            earlier.pk if earlier is not None else None,
        ],
        trip_update=((decision.trip_status, now, at, trip_pk) if decision.trip_status else None),
        pass_update=(decision.pass_status, pass_pk) if decision.pass_status else None,
        alert=alert,
    )
    reasons = row.reasons if isinstance(row.reasons, list) else json.loads(row.reasons)
    return ScanOutcome(
        ScanRecord(
            pk=scan_pk,
            verdict=decision.verdict,
            reason=decision.reason,
            warnings=list(decision.warnings),
            direction=data.direction,
            scanned_at=at,
            observed_plate=observed_plate[:16],
            persons=data.persons,
            earlier_refusal=earlier,
        ),
        PassRecord(
            pk=pass_pk,
            colour=row.colour,
            reasons=reasons,
            status=decision.pass_status or row.pass_status,
            valid_from=valid_from,
            valid_until=valid_until,
        ),
        TripRecord(
            pk=trip_pk,
            reference=row.reference,
            status=decision.trip_status or row.trip_status,
            multi_entry=multi_entry,
            cargo_category=row.cargo_category,
            vehicle=PlateRecord(row.plate),
            driver=PersonRecord(row.driver_name, row.driver_id_number),
            entry_checkpoint=CodeRecord(row.entry_checkpoint),
        ),
        persons_expected,
        priority_lane=trucks_services.priority_lane_at(
            company_id=row.company_id, plate=row.plate, cargo_category=row.cargo_category, at=at
        ),
    )


def scan_one_trip(
    *,
    staff: User,
    checkpoint: Checkpoint,
    data: ScanInput,
    claims: passcode.Claims,
    at: datetime,
    now: datetime,
    session: SessionCheck | None = None,
) -> ScanOutcome | PlateDiffers | None:
    """The common scan on PostgreSQL outside any transaction, in two round trips instead of
    four: BEGIN travels with the lock, COMMIT with the write (the scan's id comes from the
    sequence with the lock, so nothing needs reading after the insert). Anything but the common
    case (a repeated scan id, an unknown pass) is rolled back and left to ``scan_locked``; a
    plate to check again is rolled back and returned. With ``session`` (a session taken on
    trust, ``passcode_portal.auth.session_on_trust``), the lock reads the session too, and
    unless it still holds the data its user was found from, the scan is rolled back (None)."""

    def lock(cursor: Any) -> Locked | None:
        execute_prepared(
            cursor,
            "scan_lock_next",
            lock_sql(next_id=True),
            [data.scan_id, checkpoint.pk, session.key if session else None, now, claims.pass_id],
            before="BEGIN; ",
        )
        return row_as(cursor, Locked)

    try:
        # Safe to send again on a new connection: a transaction that opened on a connection
        # the server had dropped committed nothing. So the lock checks the connection too, in
        # place of Django's SELECT 1 (passcode_portal.dbcheck).
        row = checked_by_use(lock)
    except BaseException:
        _roll_back()
        raise
    with connection.cursor() as cursor:
        try:
            if (
                row is None
                or (session is not None and row.session_data != session.data)
                or row.replay_id is not None
                or passcode.window_minute(db_datetime(row.valid_until)) != claims.valid_until
            ):
                cursor.execute("ROLLBACK")
                return None
            assert row.next_id is not None
            outcome = _scan_decided(
                cursor,
                row,
                staff=staff,
                checkpoint=checkpoint,
                data=data,
                at=at,
                now=now,
                scan_pk=int(row.next_id),
            )
            if isinstance(outcome, PlateDiffers):
                cursor.execute("ROLLBACK")
            return outcome
        except BaseException:
            _roll_back()
            raise


def _roll_back() -> None:
    """The transaction ``scan_one_trip`` opened must not outlive it, whatever went wrong (a
    duplicate scan id at the insert, a lost connection)."""
    with contextlib.suppress(Exception), connection.cursor() as cursor:
        # The original error is what matters.
        cursor.execute("ROLLBACK")


def scan_row(scan: ScanEvent, pass_: Pass | None, trip: Trip | None) -> list[Any]:
    return [
        scan.checkpoint_id,
        scan.staff_id,
        pass_.pk if pass_ is not None else None,
        trip.pk if trip is not None else None,
        scan.direction,
        scan.verdict,
        scan.reason,
        json.dumps(scan.warnings),
        scan.token_digest,
        scan.observed_plate,
        scan.persons,
        scan.scan_id,
        scan.scanned_at,
        scan.received_at,
        scan.earlier_refusal_id,
    ]
