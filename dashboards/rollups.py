"""The roll-ups (``dashboards.models``): what each counts, and how rows are added to them.

Each roll-up names the rows it counts and, for each of its key fields, the expression that
computes it from a row; the same expressions serve the task that adds rows (``count_new``), the
corrections when a counted row changes (``move_reclassified``, ``move_recoloured``) and the figures
(``dashboards.counting``), so the three always bucket a row alike.

A run takes up to CHUNK rows not counted yet, marks them counted and adds them to every roll-up
of their kind, all in one transaction. On PostgreSQL the rows are taken ``FOR UPDATE SKIP
LOCKED``: two runs never take the same row, and a row a scan or a regrade is changing is left
for the next run, which sees it as it ends up.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Count, ExpressionWrapper, F, Q
from django.db.models.functions import Trunc, TruncDate
from django.utils import timezone

from checkpoints.models import ADMITTED, ADMITTING_VERDICTS, ScanEvent, WalkIn
from dashboards.models import OriginDay, PassDay, ScanDay, ScanHour, TripDay, WalkInDay
from passcode_portal.rows import named_rows
from trucks.models import Pass, Trip

CHUNK = 5000


def _flag(condition: Q) -> ExpressionWrapper[Q]:
    return ExpressionWrapper(condition, output_field=models.BooleanField())


def _day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=timezone.get_current_timezone())


def _hour(field: str) -> Trunc:
    return Trunc(field, "hour", tzinfo=timezone.get_current_timezone())


@dataclass(frozen=True)
class Rollup:
    model: type[models.Model]
    source: type[models.Model]
    # Each key field of the roll-up (its attname) and the expression of a source row that fills
    # it. Built on call: the day and hour depend on the time zone in force.
    keys: Any

    def key_expressions(self) -> dict[str, Any]:
        return {f"k_{name}": expression for name, expression in self.keys().items()}

    @property
    def key_names(self) -> list[str]:
        return list(self.keys())


SCAN_DAY = Rollup(
    ScanDay,
    ScanEvent,
    lambda: {
        "day": _day("scanned_at"),
        "checkpoint_id": F("checkpoint_id"),
        "direction": F("direction"),
        "verdict": F("verdict"),
        "reason": F("reason"),
        "overridden": _flag(Q(overridden_by__isnull=False)),
        "with_pass": _flag(Q(trip_pass__isnull=False)),
    },
)
SCAN_HOUR = Rollup(
    ScanHour,
    ScanEvent,
    lambda: {
        "hour": _hour("scanned_at"),
        "checkpoint_id": F("checkpoint_id"),
        "direction": F("direction"),
        "admitted": _flag(ADMITTED),
    },
)
WALK_IN_DAY = Rollup(
    WalkInDay,
    WalkIn,
    lambda: {"day": _day("recorded_at"), "checkpoint_id": F("checkpoint_id")},
)
TRIP_DAY = Rollup(
    TripDay,
    Trip,
    lambda: {"day": _day("created_at"), "checkpoint_id": F("entry_checkpoint_id")},
)
ORIGIN_DAY = Rollup(
    OriginDay,
    Trip,
    lambda: {
        "day": _day("created_at"),
        "checkpoint_id": F("entry_checkpoint_id"),
        "origin_id": F("origin_region_id"),
    },
)
PASS_DAY = Rollup(
    PassDay,
    Pass,
    lambda: {
        "day": _day("issued_at"),
        "checkpoint_id": F("trip__entry_checkpoint_id"),
        "colour": F("colour"),
    },
)
ROLLUPS: tuple[Rollup, ...] = (SCAN_DAY, SCAN_HOUR, WALK_IN_DAY, TRIP_DAY, ORIGIN_DAY, PASS_DAY)
SOURCES: tuple[type[models.Model], ...] = (ScanEvent, WalkIn, Trip, Pass)


def keyed(
    rollup: Rollup,
    rows: models.QuerySet[Any],
    keys: Iterable[str] | None = None,
    read_as: Mapping[str, Any] | None = None,
) -> models.QuerySet[Any]:
    """``rows`` of the roll-up's source grouped by its keys (or some of them, ``keys``), each
    ``k_<key>``, with their count ``c``; ``read_as`` reads a key by another expression."""
    own = rollup.keys()
    read_as = read_as or {}
    names = list(keys) if keys is not None else list(own)
    return (
        rows.annotate(**{f"k_{n}": read_as.get(n, own[n]) for n in names})
        .values(*[f"k_{n}" for n in names])
        .annotate(c=Count("pk"))
        .order_by()
    )


def _field(model: type[models.Model], attname: str) -> models.Field[Any, Any]:
    field = next(f for f in model._meta.concrete_fields if f.attname == attname)
    assert isinstance(field, models.Field)
    return field


# Roll-up rows per INSERT: within every database's limit on a statement's parameters.
ROWS_PER_STATEMENT = 500


def _add(rollup: Rollup, counts: Iterable[tuple[tuple[Any, ...], int]]) -> None:
    """Add each count to the roll-up's row of its key, creating the row if need be. A count of
    zero changes nothing and is left out."""
    model = rollup.model
    fields = [_field(model, name) for name in rollup.key_names]
    rows = [
        [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, key, strict=True)
        ]
        + [n]
        for key, n in counts
        if n
    ]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    one = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            batch = rows[start : start + ROWS_PER_STATEMENT]
            # Table and column names are the models' own; values are parameters.
            cursor.execute(
                f"INSERT INTO {table} ({columns}, n) VALUES {', '.join([one] * len(batch))} "  # noqa: S608
                f"ON CONFLICT ({columns}) DO UPDATE SET n = {table}.n + excluded.n",
                [value for row in batch for value in row],
            )


def _claim(source: type[models.Model], limit: int) -> list[int]:
    """Mark up to ``limit`` rows not counted yet as counted, and return their ids."""
    table = connection.ops.quote_name(source._meta.db_table)
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = (
        f"UPDATE {table} SET counted = TRUE WHERE id IN "  # noqa: S608
        f"(SELECT id FROM {table} WHERE NOT counted ORDER BY id LIMIT %s{lock}) RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row.id for row in named_rows(cursor)]


def _as_counts(
    rows: Iterable[Mapping[str, Any]], rollup: Rollup
) -> list[tuple[tuple[Any, ...], int]]:
    names = [f"k_{name}" for name in rollup.key_names]
    return [(tuple(row[name] for name in names), row["c"]) for row in rows]


def count_new(*, chunk: int = CHUNK, deadline: float | None = None) -> int:
    """Add every row not counted yet to its roll-ups, a chunk per transaction, until none is
    left or ``deadline`` (``time.monotonic()``) has passed. Returns how many rows it counted."""
    counted = 0
    for source in SOURCES:
        while True:
            with transaction.atomic():
                ids = _claim(source, chunk)
                for rollup in ROLLUPS:
                    if rollup.source is source and ids:
                        rows = keyed(rollup, source._default_manager.filter(pk__in=ids))
                        _add(rollup, _as_counts(rows, rollup))
            counted += len(ids)
            if len(ids) < chunk:
                break
            if deadline is not None and time.monotonic() > deadline:
                return counted
    return counted


def move_reclassified(scan: ScanEvent, before: Mapping[str, Any]) -> None:
    """A counted scan now counts as something else (an overridden refusal as an admission, a
    confirmed other plate as a refusal): its count moves from its keys with ``before``'s verdict,
    reason and override to its keys now. Called in the change's transaction, the scan's row
    locked, so the roll-up task cannot count it meanwhile."""
    if not scan.counted:
        return
    was = (
        (SCAN_DAY, dict(before)),
        (SCAN_HOUR, {"admitted": before["verdict"] in ADMITTING_VERDICTS or before["overridden"]}),
    )
    one = ScanEvent.objects.filter(pk=scan.pk)
    for rollup, replaced in was:
        moves: list[tuple[tuple[Any, ...], int]] = []
        for key, n in _as_counts(keyed(rollup, one), rollup):
            old = tuple(
                replaced.get(name, value) for name, value in zip(rollup.key_names, key, strict=True)
            )
            if old != key:
                moves += [(old, -n), (key, n)]
        _add(rollup, moves)


def move_recoloured(changes: Iterable[tuple[Pass, str]]) -> None:
    """Counted passes changed colour: each moves from its colour before to the one it has now
    (called in the regrade's transaction; the passes' rows are locked by its update, and their
    flags are read again, since the roll-up task may have counted them just before)."""
    before = {pass_.pk: colour for pass_, colour in changes}
    if not before:
        return
    rows = (
        Pass.objects.filter(pk__in=before, counted=True)
        .annotate(**PASS_DAY.key_expressions())
        .values("pk", *[f"k_{name}" for name in PASS_DAY.key_names])
    )
    moves: Counter[tuple[Any, ...]] = Counter()
    position = PASS_DAY.key_names.index("colour")
    for row in rows:
        key = tuple(row[f"k_{name}"] for name in PASS_DAY.key_names)
        moves[(*key[:position], before[row["pk"]], *key[position + 1 :])] -= 1
        moves[key] += 1
    _add(PASS_DAY, moves.items())
