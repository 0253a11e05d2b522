"""Operations that write at the checkpoint: scans, walk-ins, landing tests, overrides, arrival.

``scan_perform`` is the hot path (a line of trucks waits on it). It checks the signature before
any database work, then decides under a row lock in one short transaction: one SELECT of the
pass with its trip, locking the trip's row (FOR UPDATE), one INSERT of the scan, and at most
two statements more (the trip's and the pass's new state, or an alert). Pretix's check-in
(base/services/checkin.py) is the model: lock the ticket, honour a client nonce once, store
refusals with their reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from checkpoints import selectors, verification
from checkpoints.models import (
    ADMITTED,
    Alert,
    Checkpoint,
    Direction,
    LandingTest,
    Reason,
    ScanEvent,
    Verdict,
    WalkIn,
    Warning,
)
from passcode_portal.errors import DomainError, PermissionDenied
from trucks import passcode, validators
from trucks import services as trucks_services
from trucks.models import CoRider, Driver, Pass, PassStatus, Trip, TripStatus, Vehicle

# A device's clock may run a little ahead; a scan synced later than this is judged at the time
# it reached us (the device judged it offline already; this only bounds a wrong clock).
CLOCK_SKEW = timedelta(minutes=5)
OFFLINE_LIMIT = timedelta(hours=24)


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


def _judged_at(scanned_at: datetime | None, now: datetime) -> datetime:
    if scanned_at is None or scanned_at > now + CLOCK_SKEW or scanned_at < now - OFFLINE_LIMIT:
        return now
    return min(scanned_at, now)


def _digest(token: str) -> str:
    """Of the token as decoding reads it (white space dropped, upper case): a forged code read
    again by a scanner in lower case is the same code, and the same cause of one alert."""
    text = passcode.normalise(token)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _replay(scan_id: uuid.UUID) -> ScanOutcome | None:
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
    return ScanOutcome(scan, scan.trip_pass, scan.trip, persons, replayed=True)


def _record_unverified(
    *,
    staff: User,
    checkpoint: Checkpoint,
    data: ScanInput,
    reason: str,
    at: datetime,
    now: datetime,
    forged: bool,
) -> ScanOutcome:
    if data.scan_id is not None:
        replay = _replay(data.scan_id)
        if replay is not None:
            return replay
    digest = _digest(data.token)
    with transaction.atomic(savepoint=False):  # no savepoint: see _scan_locked
        scan = ScanEvent.objects.create(
            checkpoint=checkpoint,
            staff=staff,
            direction=data.direction,
            verdict=Verdict.REFUSE,
            reason=reason,
            token_digest=digest,
            observed_plate=validators.normalise_plate(data.plate)[:16],
            persons=data.persons,
            scan_id=data.scan_id,
            scanned_at=at,
            received_at=now,
        )
        if forged:
            _raise_alert(
                kind=Alert.Kind.FORGED,
                key=f"forged:{digest}",
                checkpoint=checkpoint,
                scan=scan,
                trip=None,
                detail={"token_digest": digest},
            )
    return ScanOutcome(scan, None, None, None)


def _raise_alert(
    *,
    kind: str,
    key: str,
    checkpoint: Checkpoint | None,
    scan: ScanEvent | None,
    trip: Trip | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Once per cause: the key is unique, and a second sighting is ignored by the database
    (INSERT ... ON CONFLICT DO NOTHING), so concurrent scans cannot raise it twice."""
    Alert.objects.bulk_create(
        [
            Alert(
                kind=kind,
                key=key[:120],
                checkpoint=checkpoint,
                scan=scan,
                trip=trip,
                detail=detail or {},
            )
        ],
        ignore_conflicts=True,
    )


def scan_id_check(
    *, checkpoint_id: int, staff_id: int | None, checkpoint: Checkpoint, staff: User
) -> None:
    """A client scan id names one record made by one account at one checkpoint. Sent again from
    there it is a retry, answered from the record; from another checkpoint or another account it
    is a clash (a copied or reused id), refused without a word of the other record, which may
    belong to another checkpoint and name its driver."""
    if checkpoint_id != checkpoint.pk or staff_id != staff.pk:
        raise DomainError(
            "scan_id_conflict",
            _("This scan id was already used for another record. Send the scan with a new id."),
            status=409,
        )


def plate_recheck_error(differs: PlateDiffers) -> DomainError:
    """The answer to a plate that differs from the registered one, not yet confirmed as
    different: both plates, so the device can show them side by side for a second look."""
    return DomainError(
        "plate_mismatch_unconfirmed",
        _(
            "The plate entered, %(observed)s, is not the registered plate %(registered)s. Check "
            "it again: correct it, or confirm that the plates differ."
        )
        % {"observed": differs.observed, "registered": differs.registered},
        status=409,
        extra={"registered_plate": differs.registered, "observed_plate": differs.observed},
    )


def scan_perform(*, staff: User, checkpoint: Checkpoint, data: ScanInput) -> ScanOutcome:
    """Verify a scanned pass and record the scan; see the module's docstring. A scan id already
    recorded is answered from its record (``replayed``) when it was this account's scan at this
    checkpoint, and refused with ``scan_id_conflict`` otherwise (``scan_id_check``). A plate
    that differs from the pass's is recorded only once confirmed (``plate_recheck_error``)."""
    outcome = _scan(staff=staff, checkpoint=checkpoint, data=data)
    if isinstance(outcome, PlateDiffers):
        raise plate_recheck_error(outcome)
    if outcome.replayed:
        scan = outcome.scan
        assert isinstance(scan, ScanEvent)  # replays are read from the record
        scan_id_check(
            checkpoint_id=scan.checkpoint_id,
            staff_id=scan.staff_id,
            checkpoint=checkpoint,
            staff=staff,
        )
    return outcome


def _scan(*, staff: User, checkpoint: Checkpoint, data: ScanInput) -> ScanOutcome | PlateDiffers:
    now = timezone.now()
    at = _judged_at(data.scanned_at, now)
    try:
        try:
            claims = passcode.decode(data.token)
        except passcode.TokenError as exc:
            return _record_unverified(
                staff=staff,
                checkpoint=checkpoint,
                data=data,
                reason=Reason.INVALID,
                at=at,
                now=now,
                forged=exc.code == "bad_signature",
            )
        if _postgresql() and not connection.in_atomic_block:
            outcome = _scan_one_trip(
                staff=staff, checkpoint=checkpoint, data=data, claims=claims, at=at, now=now
            )
            if outcome is not None:
                return outcome
        return _scan_locked(
            staff=staff, checkpoint=checkpoint, data=data, claims=claims, at=at, now=now
        )
    except IntegrityError:
        # The same scan id, sent twice at the same instant: the other request recorded it
        # first (the unique index decided). Answer what it answered; this scan's transaction
        # was rolled back whole. (Inside a caller's transaction, which the scan takes no
        # savepoint in, that transaction is spoiled: the caller must roll back and retry.)
        if data.scan_id is not None and not transaction.get_connection().in_atomic_block:
            replay = _replay(data.scan_id)
            if replay is not None:
                return replay
        raise


# The hot path speaks SQL directly: building these statements through the ORM cost more than
# running them (a profile of the endpoint showed two thirds of its time in query compilation).
# Table names come from the models, so a renamed table cannot be missed.
_P, _T, _V, _D, _C, _R, _S, _A = (
    m._meta.db_table for m in (Pass, Trip, Vehicle, Driver, Checkpoint, CoRider, ScanEvent, Alert)
)


class _Locked(NamedTuple):
    """A row of the lock statement (``_lock_sql``), read by name."""

    pass_id: int
    pass_status: str
    colour: str
    reasons: Any  # a list on PostgreSQL, JSON text on SQLite
    valid_from: Any
    valid_until: Any
    trip_id: int
    trip_status: str
    multi_entry: bool
    entry_checkpoint_id: int
    reference: str | None
    cargo_category: str
    plate: str
    driver_name: str
    driver_id_number: str
    entry_checkpoint: str
    co_riders: int
    replay_id: int | None  # the scan already recorded under this scan id, if any
    earlier_refusal: Any  # [id, reason, scanned_at] of the latest refusal here, as JSON
    next_id: int | None = None  # the new scan's id, taken with the lock on the short path


@cache
def _lock_sql(*, next_id: bool) -> str:
    """One SELECT of the pass with its trip, vehicle, driver, entry checkpoint, the trip's
    co-rider count, the scan already recorded under the client's scan id, and the latest refusal
    of this pass at this checkpoint that no supervisor overrode (its id, reason and time in one
    JSON array: one subquery, served by the scans' index on (trip, received_at)). Parameters:
    scan id, checkpoint id, pass id. On PostgreSQL it locks the trip's row (see
    ``_scan_locked``); ``next_id`` also takes the new scan's id from the sequence."""
    json_array = "json_build_array" if _postgresql() else "json_array"
    columns = {
        "pass_id": "p.id",
        "pass_status": "p.status",
        "colour": "p.colour",
        "reasons": "p.reasons",
        "valid_from": "p.valid_from",
        "valid_until": "p.valid_until",
        "trip_id": "t.id",
        "trip_status": "t.status",
        "multi_entry": "t.multi_entry",
        "entry_checkpoint_id": "t.entry_checkpoint_id",
        "reference": "t.reference",
        "cargo_category": "t.cargo_category",
        "plate": "v.plate",
        "driver_name": "d.name",
        "driver_id_number": "d.id_number",
        "entry_checkpoint": "c.code",
        "co_riders": f"(SELECT COUNT(*) FROM {_R} r WHERE r.trip_id = t.id)",
        "replay_id": f"(SELECT e.id FROM {_S} e WHERE e.scan_id = %s)",
        "earlier_refusal": (
            f"(SELECT {json_array}(e.id, e.reason, e.scanned_at) FROM {_S} e "
            "WHERE e.trip_id = t.id AND e.trip_pass_id = p.id AND e.checkpoint_id = %s "
            f"AND e.verdict = '{Verdict.REFUSE}' AND e.overridden_by_id IS NULL "
            "ORDER BY e.received_at DESC LIMIT 1)"
        ),
    }
    if next_id:
        columns["next_id"] = f"nextval(pg_get_serial_sequence('{_S}', 'id'))"
    assert tuple(columns) == _Locked._fields[: len(columns)]
    sql = f"""
SELECT {", ".join(columns.values())}
FROM {_P} p
JOIN {_T} t ON t.id = p.trip_id
JOIN {_V} v ON v.id = t.vehicle_id
JOIN {_D} d ON d.id = t.driver_id
JOIN {_C} c ON c.id = t.entry_checkpoint_id
WHERE p.id = %s"""
    return sql + " FOR UPDATE OF t" if _postgresql() else sql


def _earlier_refusal(value: Any) -> EarlierRefusal | None:
    if value is None:
        return None
    pk, reason, scanned_at = value if isinstance(value, list) else json.loads(value)
    return EarlierRefusal(pk=int(pk), reason=str(reason), scanned_at=_dt(scanned_at))


_SCAN_COLUMNS = (
    "checkpoint_id, staff_id, trip_pass_id, trip_id, direction, verdict, reason, warnings, "
    "token_digest, observed_plate, persons, scan_id, scanned_at, received_at, "
    "earlier_refusal_id, landing_test, override_reason"
)
_SCAN_VALUES = "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '', ''"
_ALERT_COLUMNS = "kind, key, trip_id, checkpoint_id, scan_id, detail, raised_at, note"
# The trip's time stamp each state a scan moves it to sets.
_STAMP: dict[str, str] = {TripStatus.INSIDE: "entered_at", TripStatus.EXITED: "exited_at"}


def _dt(value: Any) -> datetime:
    """A datetime as the database returned it: aware already on PostgreSQL, text on SQLite."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
    parsed = parse_datetime(str(value))
    assert parsed is not None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


@cache
def _postgresql() -> bool:
    # The database engine does not change while the process runs; asking the connection proxy
    # each time costs a thread-local lookup per parameter.
    return bool(connections[DEFAULT_DB_ALIAS].vendor == "postgresql")


def _db_value(value: Any) -> Any:
    """A parameter as the ORM would send it (SQLite stores datetimes and UUIDs as text;
    psycopg2 adapts both itself)."""
    if _postgresql():
        return value
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, uuid.UUID) and connection.vendor != "postgresql":
        return value.hex
    return value


def _execute_prepared(
    cursor: Any, name: str, sql: str, params: list[Any], *, before: str = "", after: str = ""
) -> None:
    """On PostgreSQL, run the statement prepared on this connection (PREPARE once, EXECUTE after):
    planning a five-table join on every scan cost the server more than running it. Prepared
    statements live as long as the database connection (CONN_MAX_AGE keeps it); a new connection
    starts a new set (``_forget_prepared``). ``before`` and ``after`` are statements sent in the
    same round trip (BEGIN, COMMIT). Elsewhere, run the statement as it is."""
    if not _postgresql():
        cursor.execute(sql, params)
        return
    # The thread's own connection (``connection`` is a proxy shared by all threads).
    prepared: set[str] = connections[DEFAULT_DB_ALIAS].__dict__.setdefault("_scan_prepared", set())
    if name not in prepared:
        numbered = sql.split("%s")
        text = numbered[0] + "".join(f"${i}{rest}" for i, rest in enumerate(numbered[1:], 1))
        cursor.execute(f"PREPARE {name} AS {text}")
        prepared.add(name)
    cursor.execute(f"{before}EXECUTE {name} ({', '.join(['%s'] * len(params))}){after}", params)


@receiver(connection_created)
def _forget_prepared(sender: Any, connection: Any, **kwargs: Any) -> None:
    connection.__dict__.pop("_scan_prepared", None)


def _write_scan(
    cursor: Any,
    *,
    scan_values: list[Any],
    trip_update: tuple[str, datetime, datetime, int] | None,
    pass_update: tuple[str, int] | None,
    alert: tuple[str, str, int, int, str, datetime] | None,
    scan_pk: int | None = None,
) -> int:
    """Insert the scan and apply its consequences. On PostgreSQL, one statement (data-modifying
    CTEs: the insert, the updates and the alert go to the server together); elsewhere, one
    statement each."""
    values = [_db_value(v) for v in scan_values]
    if _postgresql():
        if scan_pk is None:
            parts = [
                f"WITH s AS (INSERT INTO {_S} ({_SCAN_COLUMNS}) VALUES ({_SCAN_VALUES}) "
                "RETURNING id)"
            ]
            params: list[Any] = list(values)
        else:
            # The id was taken from the sequence with the lock, so the COMMIT can travel with
            # this statement (its answer is the COMMIT's, not the insert's).
            parts = [
                f"WITH s AS (INSERT INTO {_S} (id, {_SCAN_COLUMNS}) "
                f"VALUES (%s, {_SCAN_VALUES}) RETURNING id)"
            ]
            params = [scan_pk, *values]
        if trip_update is not None:
            status, now, at, trip_pk = trip_update
            parts.append(
                f"t AS (UPDATE {_T} SET status = %s, updated_at = %s, {_STAMP[status]} = %s "
                "WHERE id = %s)"
            )
            params += [status, now, at, trip_pk]
        if pass_update is not None:
            parts.append(f"p AS (UPDATE {_P} SET status = %s WHERE id = %s)")
            params += list(pass_update)
        if alert is not None:
            parts.append(
                f"a AS (INSERT INTO {_A} ({_ALERT_COLUMNS}) SELECT %s::varchar, %s::varchar, "
                "%s::bigint, %s::bigint, s.id, %s::jsonb, %s::timestamptz, '' FROM s "
                "ON CONFLICT (key) DO NOTHING)"
            )
            params += list(alert)
        name = "scan_write_" + "".join(
            "1" if part is not None else "0" for part in (trip_update, pass_update, alert)
        )
        if trip_update is not None:
            name += "_" + trip_update[0]
        statement = ", ".join(parts) + " SELECT id FROM s"
        if scan_pk is not None:
            _execute_prepared(cursor, name + "_id", statement, params, after="; COMMIT")
            return scan_pk
        _execute_prepared(cursor, name, statement, params)
        return int(cursor.fetchone()[0])
    cursor.execute(
        f"INSERT INTO {_S} ({_SCAN_COLUMNS}) VALUES ({_SCAN_VALUES}) RETURNING id", values
    )
    scan_pk = int(cursor.fetchone()[0])
    if trip_update is not None:
        status, now, at, trip_pk = trip_update
        cursor.execute(
            f"UPDATE {_T} SET status = %s, updated_at = %s, {_STAMP[status]} = %s WHERE id = %s",
            [status, _db_value(now), _db_value(at), trip_pk],
        )
    if pass_update is not None:
        cursor.execute(f"UPDATE {_P} SET status = %s WHERE id = %s", list(pass_update))
    if alert is not None:
        kind, key, trip_pk, checkpoint_pk, detail, raised = alert
        cursor.execute(
            f"INSERT INTO {_A} ({_ALERT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, '') "
            "ON CONFLICT (key) DO NOTHING",
            [kind, key, trip_pk, checkpoint_pk, scan_pk, detail, _db_value(raised)],
        )
    return scan_pk


# Without a savepoint: the scan is all or nothing, so a savepoint buys nothing, and when a
# caller's transaction encloses the scan (as a test's does) it costs two statements more on the
# hot path (SAVEPOINT, RELEASE), which the query budget of four per scan cannot spare (SQLite
# runs the scan's writes as separate statements). Nothing may be raised in here for the caller
# to handle (that would spoil the caller's transaction): refusals of the input are returned.
@transaction.atomic(savepoint=False)
def _scan_locked(
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
        _execute_prepared(
            cursor,
            "scan_lock",
            _lock_sql(next_id=False),
            [_db_value(data.scan_id), checkpoint.pk, claims.pass_id],
        )
        fetched = cursor.fetchone()
        row = None if fetched is None else _Locked(*fetched)
        if row is not None and row.replay_id is not None:
            replay = _replay(data.scan_id)  # type: ignore[arg-type]
            assert replay is not None
            return replay
        valid_until = _dt(row.valid_until) if row is not None else None
        if (
            row is None
            or valid_until is None
            or passcode.window_minute(valid_until) != claims.valid_until
        ):
            # Well signed, yet no such pass (or not this pass's window): refuse, record.
            if data.scan_id is not None and row is None:
                replay = _replay(data.scan_id)
                if replay is not None:
                    return replay
            scan = ScanEvent(
                checkpoint=checkpoint,
                staff=staff,
                direction=data.direction,
                verdict=Verdict.REFUSE,
                reason=Reason.UNKNOWN,
                token_digest=_digest(data.token),
                observed_plate=validators.normalise_plate(data.plate)[:16],
                persons=data.persons,
                scan_id=data.scan_id,
                scanned_at=at,
                received_at=now,
            )
            scan.pk = _write_scan(
                cursor,
                scan_values=_scan_row(scan, None, None),
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
    row: _Locked,
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
    valid_from, valid_until = _dt(row.valid_from), _dt(row.valid_until)
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
    scan_pk = _write_scan(
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
    )


def _scan_one_trip(
    *,
    staff: User,
    checkpoint: Checkpoint,
    data: ScanInput,
    claims: passcode.Claims,
    at: datetime,
    now: datetime,
) -> ScanOutcome | PlateDiffers | None:
    """The common scan on PostgreSQL outside any transaction, in two round trips instead of
    four: BEGIN travels with the lock, COMMIT with the write (the scan's id comes from the
    sequence with the lock, so nothing needs reading after the insert). Anything but the common
    case (a repeated scan id, an unknown pass) is rolled back and left to ``_scan_locked``; a
    plate to check again is rolled back and returned."""
    with connection.cursor() as cursor:
        try:
            _execute_prepared(
                cursor,
                "scan_lock_next",
                _lock_sql(next_id=True),
                [data.scan_id, checkpoint.pk, claims.pass_id],
                before="BEGIN; ",
            )
            fetched = cursor.fetchone()
            row = None if fetched is None else _Locked(*fetched)
            if (
                row is None
                or row.replay_id is not None
                or passcode.window_minute(_dt(row.valid_until)) != claims.valid_until
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
            # The transaction this function opened must not outlive it, whatever went wrong
            # (a duplicate scan id at the insert, a lost connection).
            with contextlib.suppress(Exception):  # the original error is what matters
                cursor.execute("ROLLBACK")
            raise


def _scan_row(scan: ScanEvent, pass_: Pass | None, trip: Trip | None) -> list[Any]:
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


def scan_message(scan: ScanEvent | ScanRecord) -> str:
    return verification.message(scan.direction, scan.verdict, scan.reason, scan.warnings)


# ---------------------------------------------------------------------------------------------
# Access


def staff_may_scan(*, user: User, checkpoint: Checkpoint) -> bool:
    return checkpoint.pk in checkpoint_access(user)


def checkpoint_access(user: User) -> dict[int, bool]:
    """{checkpoint id: supervisor?} for the user's assignments, read once per user object (the
    API keeps user objects for a few seconds, so a scan costs no query for this)."""
    cached: dict[int, bool] | None = getattr(user, "_checkpoint_access", None)
    if cached is None:
        from checkpoints.models import StaffAssignment

        cached = dict(
            StaffAssignment.objects.filter(user=user).values_list("checkpoint_id", "supervisor")
        )
        user._checkpoint_access = cached  # type: ignore[attr-defined]
    return cached


def _require_staff(user: User, checkpoint: Checkpoint) -> None:
    if not staff_may_scan(user=user, checkpoint=checkpoint):
        raise PermissionDenied("not_assigned", _("You are not assigned to this checkpoint."))


# ---------------------------------------------------------------------------------------------
# Walk-ins, landing tests, overrides


@dataclass(frozen=True)
class WalkInInput:
    plate: str
    outcome: str
    driver_name: str = ""
    phone: str = ""
    persons: int = 1
    note: str = ""
    direction: str = Direction.IN
    scan_id: uuid.UUID | None = None


def walk_in_record(*, staff: User, checkpoint: Checkpoint, data: WalkInInput) -> WalkIn:
    """Record an unregistered vehicle. The plate is kept as typed when it does not parse (a
    foreign or damaged plate is still a vehicle that must leave a record)."""
    _require_staff(staff, checkpoint)
    if data.scan_id is not None:
        existing = WalkIn.objects.filter(scan_id=data.scan_id).first()
        if existing is not None:
            return _walk_in_replayed(existing, staff=staff, checkpoint=checkpoint)
    fields: dict[str, list[str]] = {}
    plate = validators.normalise_plate(data.plate)
    if not plate:
        fields["plate"] = [_("Enter the number plate.")]
    if data.outcome not in WalkIn.Outcome.values:
        fields["outcome"] = [_("Choose turned back or sent to register.")]
    phone = validators.normalise_phone(data.phone) if data.phone else ""
    if phone:
        try:
            validators.validate_phone(phone)
        except Exception:
            fields["phone"] = [_("Enter an 11-digit mobile number, for example 13812345678.")]
    if not 1 <= data.persons <= 60:
        fields["persons"] = [_("Enter the number of persons in the vehicle.")]
    if fields:
        raise DomainError("validation_error", _("Some fields are not valid."), fields=fields)
    try:
        with transaction.atomic():
            return WalkIn.objects.create(
                checkpoint=checkpoint,
                staff=staff,
                direction=data.direction,
                plate=plate[:16],
                driver_name=data.driver_name.strip()[:50],
                phone=phone,
                persons=data.persons,
                note=data.note.strip()[:500],
                outcome=data.outcome,
                scan_id=data.scan_id,
            )
    except IntegrityError:
        # The same scan id at the same instant: the other request recorded it first.
        if data.scan_id is not None:
            existing = WalkIn.objects.get(scan_id=data.scan_id)
            return _walk_in_replayed(existing, staff=staff, checkpoint=checkpoint)
        raise


def _walk_in_replayed(walk_in: WalkIn, *, staff: User, checkpoint: Checkpoint) -> WalkIn:
    scan_id_check(
        checkpoint_id=walk_in.checkpoint_id,
        staff_id=walk_in.staff_id,
        checkpoint=checkpoint,
        staff=staff,
    )
    return walk_in


def _scan_for_staff(*, staff: User, checkpoint: Checkpoint, scan_pk: int) -> ScanEvent:
    _require_staff(staff, checkpoint)
    scan = (
        # Lock the scan's row only: the trip is joined by a LEFT JOIN (a scan of no pass has
        # none), and PostgreSQL cannot lock the nullable side of an outer join. What changes
        # the trip below locks it (or updates it conditionally) itself.
        ScanEvent.objects.select_for_update(of=("self",))
        .select_related("trip")
        .filter(pk=scan_pk, checkpoint=checkpoint)
        .first()
    )
    if scan is None:
        raise DomainError("not_found", _("No such scan at this checkpoint."), status=404)
    return scan


@transaction.atomic
def landing_test_sample(*, staff: User, checkpoint: Checkpoint, scan_pk: int) -> ScanEvent:
    """Mark that a landing test (落地核酸) was sampled for the scanned vehicle."""
    scan = _scan_for_staff(staff=staff, checkpoint=checkpoint, scan_pk=scan_pk)
    if scan.trip is None:
        raise DomainError(
            "no_trip", _("Only a scan of a registered trip can carry a landing test."), status=409
        )
    if scan.landing_test:
        return scan
    scan.landing_test = LandingTest.SAMPLED
    scan.landing_test_sampled_at = timezone.now()
    scan.save(update_fields=["landing_test", "landing_test_sampled_at"])
    return scan


@transaction.atomic
def landing_test_result(
    *, staff: User, checkpoint: Checkpoint, scan_pk: int, result: str
) -> ScanEvent:
    """Enter the landing test's result; it becomes the trip's latest test and regrades the pass
    at once. A positive result raises an alert: the truck is inside."""
    scan = _scan_for_staff(staff=staff, checkpoint=checkpoint, scan_pk=scan_pk)
    if result not in (LandingTest.NEGATIVE, LandingTest.POSITIVE):
        raise DomainError(
            "validation_error",
            _("Some fields are not valid."),
            fields={"result": [_("Choose negative or positive.")]},
        )
    if scan.landing_test_sampled_at is None or scan.trip is None:
        raise DomainError(
            "not_sampled", _("Mark the sample as taken before entering its result."), status=409
        )
    if scan.landing_test == result:
        return scan
    scan.landing_test = result
    scan.landing_test_result_at = timezone.now()
    scan.save(update_fields=["landing_test", "landing_test_result_at"])
    trucks_services.trip_record_landing_test(
        trip=scan.trip, result=result, sampled_at=scan.landing_test_sampled_at
    )
    if result == LandingTest.POSITIVE:
        _raise_alert(
            kind=Alert.Kind.POSITIVE_LANDING_TEST,
            key=f"positive_landing_test:{scan.pk}",
            checkpoint=checkpoint,
            scan=scan,
            trip=scan.trip,
        )
    return scan


@transaction.atomic
def scan_override(
    *, supervisor: User, checkpoint: Checkpoint, scan_pk: int, reason: str
) -> ScanEvent:
    """A supervisor admits a refused vehicle, in writing. The scan keeps its original verdict
    and reason; the override is recorded beside it (who, when, why), an alert tells officials,
    and an entry moves the trip inside as an admitted scan would."""
    scan = _scan_for_staff(staff=supervisor, checkpoint=checkpoint, scan_pk=scan_pk)
    if not checkpoint_access(supervisor).get(checkpoint.pk):
        raise PermissionDenied(
            "not_supervisor", _("Only a supervisor of this checkpoint may override a refusal.")
        )
    text = reason.strip()
    if len(text) < 4:
        raise DomainError(
            "validation_error",
            _("Some fields are not valid."),
            fields={"reason": [_("Write why the vehicle is admitted.")]},
        )
    if scan.verdict != Verdict.REFUSE:
        raise DomainError("not_refused", _("Only a refusal can be overridden."), status=409)
    if scan.overridden_by_id is not None:
        return scan
    now = timezone.now()
    scan.overridden_by = supervisor
    scan.overridden_at = now
    scan.override_reason = text[:500]
    scan.save(update_fields=["overridden_by", "overridden_at", "override_reason"])
    if scan.trip is not None and scan.direction == Direction.IN:
        Trip.objects.filter(
            pk=scan.trip.pk, status__in=[TripStatus.REGISTERED, TripStatus.EXITED]
        ).update(status=TripStatus.INSIDE, entered_at=now, updated_at=now)
    _raise_alert(
        kind=Alert.Kind.OVERRIDE,
        key=f"override:{scan.pk}",
        checkpoint=checkpoint,
        scan=scan,
        trip=scan.trip,
        detail={"reason": text[:500], "original_reason": scan.reason},
    )
    return scan


@transaction.atomic
def scan_confirm(
    *,
    staff: User,
    checkpoint: Checkpoint,
    scan_pk: int,
    plate: str,
    persons: int | None,
    plate_mismatch_confirmed: bool = False,
) -> ScanEvent:
    """Staff confirm the plate they read off the truck and the persons they counted. A plate
    that is not the registered one is first sent back for a second look (``plate_recheck_error``:
    a slip of the finger must not refuse a truck) and changes nothing; confirmed as different,
    it turns the scan into a refusal (plate_mismatch, with its alert) and undoes what an
    admitted scan did, entry or exit: the registered truck did not pass. A different head count
    adds a warning."""
    scan = _scan_for_staff(staff=staff, checkpoint=checkpoint, scan_pk=scan_pk)
    if scan.trip is None:
        raise DomainError(
            "no_trip", _("Only a scan of a registered trip can be confirmed."), status=409
        )
    # The trip's row is locked before its pass is changed, as the scan and the trucks services
    # lock them.
    trip = (
        Trip.objects.select_for_update(of=("self",)).select_related("vehicle").get(pk=scan.trip.pk)
    )
    observed = validators.normalise_plate(plate)[:16]
    if not observed:
        raise DomainError(
            "validation_error",
            _("Some fields are not valid."),
            fields={"plate": [_("Enter the number plate you read on the truck.")]},
        )
    differs = verification.plate_differs(observed, trip.vehicle.plate)
    if differs and not plate_mismatch_confirmed:
        raise plate_recheck_error(PlateDiffers(registered=trip.vehicle.plate, observed=observed))
    now = timezone.now()
    scan.observed_plate = observed
    scan.confirmed_at = now
    warnings = list(scan.warnings)
    expected = 1 + CoRider.objects.filter(trip=trip).count()
    if persons is not None:
        scan.persons = persons
        if persons != expected and "persons_mismatch" not in warnings:
            warnings.append("persons_mismatch")
        elif persons == expected and "persons_mismatch" in warnings:
            warnings.remove("persons_mismatch")
    scan.warnings = warnings
    fields = ["observed_plate", "confirmed_at", "persons", "warnings"]
    if differs and scan.reason != Reason.PLATE_MISMATCH:
        admitted = scan.verdict != Verdict.REFUSE
        scan.verdict, scan.reason = Verdict.REFUSE, Reason.PLATE_MISMATCH
        fields += ["verdict", "reason"]
        if admitted:
            _admission_undo(scan=scan, trip=trip, now=now)
        _raise_alert(
            kind=Alert.Kind.PLATE_MISMATCH,
            key=f"plate_mismatch:{scan.trip_pass_id}:{observed}",
            checkpoint=checkpoint,
            scan=scan,
            trip=trip,
            detail={"observed_plate": observed, "registered_plate": trip.vehicle.plate},
        )
    scan.save(update_fields=fields)
    return scan


def _admission_undo(*, scan: ScanEvent, trip: Trip, now: datetime) -> None:
    """Take back what an admitted scan did to its trip (locked by the caller) and pass: the
    truck that passed was not the registered one, so the registered truck is where it was."""
    if scan.direction == Direction.IN:
        # A multi-entry trip that had been in and out before is out again, with the time of
        # the entry before this one; any other trip has not entered yet.
        entered_before = (
            ScanEvent.objects.filter(ADMITTED, trip=trip, direction=Direction.IN)
            .exclude(pk=scan.pk)
            .order_by("-received_at")
            .values_list("scanned_at", flat=True)
            .first()
        )
        came_back = trip.exited_at is not None and entered_before is not None
        Trip.objects.filter(pk=trip.pk, status=TripStatus.INSIDE).update(
            status=TripStatus.EXITED if came_back else TripStatus.REGISTERED,
            entered_at=entered_before if came_back else None,
            updated_at=now,
        )
        return
    if trip.status != TripStatus.EXITED:
        return  # something else moved the trip since; leave it
    pass_ = scan.trip_pass
    in_window = pass_ is not None and now < pass_.valid_until
    if Warning.NOT_INSIDE in scan.warnings:
        # It had not entered: waiting for its window, or past it (as the lifecycle leaves it).
        status = TripStatus.REGISTERED if in_window else TripStatus.EXPIRED
    elif trip.arrived_at is not None and trip.entered_at is not None:
        status = TripStatus.ARRIVED if trip.arrived_at >= trip.entered_at else TripStatus.INSIDE
    else:
        status = TripStatus.INSIDE
    # A multi-entry trip keeps the time of the exit before this one.
    exited_before = (
        ScanEvent.objects.filter(trip=trip, direction=Direction.OUT, verdict=Verdict.ADMIT)
        .exclude(pk=scan.pk)
        .order_by("-received_at")
        .values_list("scanned_at", flat=True)
        .first()
    )
    Trip.objects.filter(pk=trip.pk).update(status=status, exited_at=exited_before, updated_at=now)
    if pass_ is not None:
        # The exit completed the pass (a multi-entry pass it kept active is left as it is).
        Pass.objects.filter(pk=pass_.pk, status=PassStatus.COMPLETED).update(
            status=PassStatus.ACTIVE if in_window else PassStatus.EXPIRED
        )


# ---------------------------------------------------------------------------------------------
# Closing the loop


@transaction.atomic
def trip_confirm_arrival(*, actor: User, trip: Trip) -> Trip:
    """The consignee confirms the truck arrived (docs/architecture.md, "Closing the loop"): inside →
    arrived."""
    trip = Trip.objects.select_for_update().get(pk=trip.pk)
    membership = getattr(actor, "company_membership", None)
    if membership is None or trip.consignee_id != membership.company_id:
        raise PermissionDenied(
            "not_consignee", _("Only the trip's consignee confirms its arrival.")
        )
    if trip.status == TripStatus.ARRIVED:
        return trip
    if trip.status != TripStatus.INSIDE:
        raise DomainError(
            "not_inside",
            _("Only a truck that entered the city can be confirmed as arrived."),
            status=409,
        )
    trip.status = TripStatus.ARRIVED
    trip.arrived_at = timezone.now()
    trip.save(update_fields=["status", "arrived_at", "updated_at"])
    # Hand-over (接力棒): queued in this transaction, delivered once it commits. Keyed by the
    # arrival time, so a multi-entry trip's later arrivals are events of their own.
    from trucks import webhooks

    webhooks.emit(event="trip.arrived", trip=trip, key=f"{trip.pk}:{trip.arrived_at.isoformat()}")
    return trip


def alerts_resolve(*, actor: User, alerts: Any, note: str = "") -> int:
    """Mark open alerts resolved by the acting official, in one UPDATE and only where still open:
    an alert resolved earlier keeps who resolved it, even when two officials act at once."""
    update: dict[str, Any] = {"resolved_at": timezone.now(), "resolved_by": actor}
    if note:
        update["note"] = note[:500]
    return int(alerts.filter(resolved_at__isnull=True).update(**update))
