"""The SQL of the scan's hot path: the statement that reads and locks a pass with its trip, and
the one that writes the scan and its consequences, each prepared once per database connection on
PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from checkpoints.models import Alert, ScanEvent, Verdict
from passcode_portal.rows import named_row
from passcode_portal.sessions import live_session_sql
from places.models import Checkpoint
from trucks.models import CoRider, Driver, Pass, Trip, TripStatus, Vehicle

# The hot path speaks SQL directly: building these statements through the ORM cost more than
# running them (a profile of the endpoint showed two thirds of its time in query compilation).
# Table names come from the models, so a renamed table cannot be missed.
_P, _T, _V, _D, _C, _R, _S, _A = (
    m._meta.db_table for m in (Pass, Trip, Vehicle, Driver, Checkpoint, CoRider, ScanEvent, Alert)
)


class Locked(NamedTuple):
    """A row of the lock statement (``lock_sql``), each column read into the field of its name
    (``passcode_portal.rows.row_as``)."""

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
    company_id: int | None
    plate: str
    driver_name: str
    driver_id_number: str
    entry_checkpoint: str
    co_riders: int
    replay_id: int | None  # the scan already recorded under this scan id, if any
    earlier_refusal: Any  # [id, reason, scanned_at] of the latest refusal here, as JSON
    session_data: str | None  # the live session of the key given, if one is (see scan_one_trip)
    next_id: int | None = None  # the new scan's id, taken with the lock on the short path


@cache
def lock_sql(*, next_id: bool) -> str:
    """One SELECT of the pass with its trip (its company too, for the priority lane), vehicle,
    driver, entry checkpoint, the trip's co-rider count, the scan already recorded under the
    client's scan id, and the latest refusal of this pass at this checkpoint that no supervisor
    overrode (its id, reason and time in one JSON array: one subquery, served by the scans'
    index on (trip, received_at)), and the data of a live session
    (``passcode_portal.sessions.live_session_sql``; none for a key of None). Parameters: scan
    id, checkpoint id, session key, the time now, pass id. On PostgreSQL it locks the trip's row
    (see ``scan_locked``); ``next_id`` also takes the new scan's id from the sequence."""
    json_array = "json_build_array" if postgresql() else "json_array"
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
        "company_id": "t.company_id",
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
        "session_data": f"({live_session_sql()})",
    }
    if next_id:
        columns["next_id"] = f"nextval(pg_get_serial_sequence('{_S}', 'id'))"
    sql = f"""
SELECT {", ".join(f"{expression} AS {name}" for name, expression in columns.items())}
FROM {_P} p
JOIN {_T} t ON t.id = p.trip_id
JOIN {_V} v ON v.id = t.vehicle_id
JOIN {_D} d ON d.id = t.driver_id
JOIN {_C} c ON c.id = t.entry_checkpoint_id
WHERE p.id = %s"""
    return sql + " FOR UPDATE OF t" if postgresql() else sql


_SCAN_COLUMNS = (
    "checkpoint_id, staff_id, trip_pass_id, trip_id, direction, verdict, reason, warnings, "
    "token_digest, observed_plate, persons, scan_id, scanned_at, received_at, "
    "earlier_refusal_id, landing_test, override_reason"
)


_SCAN_VALUES = "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '', ''"


_ALERT_COLUMNS = "kind, key, trip_id, checkpoint_id, scan_id, detail, raised_at, note"


# The trip's time stamp each state a scan moves it to sets.
_STAMP: dict[str, str] = {TripStatus.INSIDE: "entered_at", TripStatus.EXITED: "exited_at"}


def db_datetime(value: Any) -> datetime:
    """A datetime as the database returned it: aware already on PostgreSQL, text on SQLite."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
    parsed = parse_datetime(str(value))
    assert parsed is not None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


@cache
def postgresql() -> bool:
    # The database engine does not change while the process runs; asking the connection proxy
    # each time costs a thread-local lookup per parameter.
    return bool(connections[DEFAULT_DB_ALIAS].vendor == "postgresql")


def db_value(value: Any) -> Any:
    """A parameter as the ORM would send it (SQLite stores datetimes and UUIDs as text;
    psycopg2 adapts both itself)."""
    if postgresql():
        return value
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, uuid.UUID) and connection.vendor != "postgresql":
        return value.hex
    return value


def execute_prepared(
    cursor: Any, name: str, sql: str, params: list[Any], *, before: str = "", after: str = ""
) -> None:
    """On PostgreSQL, run the statement prepared on this connection (PREPARE once, EXECUTE after):
    planning a five-table join on every scan cost the server more than running it. Prepared
    statements live as long as the database connection (CONN_MAX_AGE keeps it); a new connection
    starts a new set (``_forget_prepared``). ``before`` and ``after`` are statements sent in the
    same round trip (BEGIN, COMMIT). Elsewhere, run the statement as it is."""
    if not postgresql():
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


def write_scan(
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
    values = [db_value(v) for v in scan_values]
    if postgresql():
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
            execute_prepared(cursor, name + "_id", statement, params, after="; COMMIT")
            return scan_pk
        execute_prepared(cursor, name, statement, params)
        written = named_row(cursor)
        assert written is not None
        return int(written.id)
    cursor.execute(
        f"INSERT INTO {_S} ({_SCAN_COLUMNS}) VALUES ({_SCAN_VALUES}) RETURNING id", values
    )
    written = named_row(cursor)
    assert written is not None
    scan_pk = int(written.id)
    if trip_update is not None:
        status, now, at, trip_pk = trip_update
        cursor.execute(
            f"UPDATE {_T} SET status = %s, updated_at = %s, {_STAMP[status]} = %s WHERE id = %s",
            [status, db_value(now), db_value(at), trip_pk],
        )
    if pass_update is not None:
        cursor.execute(f"UPDATE {_P} SET status = %s WHERE id = %s", list(pass_update))
    if alert is not None:
        kind, key, trip_pk, checkpoint_pk, detail, raised = alert
        cursor.execute(
            f"INSERT INTO {_A} ({_ALERT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, '') "
            "ON CONFLICT (key) DO NOTHING",
            [kind, key, trip_pk, checkpoint_pk, scan_pk, detail, db_value(raised)],
        )
    return scan_pk
