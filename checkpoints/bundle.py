"""The checkpoint's offline bundle (docs/architecture.md, "Offline"): the passes a tablet needs to
give verdicts with no network, read in a few queries however many there are.

Which passes: every pass whose window ended less than a day ago (``OFFLINE_LIMIT``, whatever its
status, so that a revoked, cancelled or used pass answers with its own reason), and the passes
of trips in the city now, whatever their window (their exits). Each as one row of plain values
(``FIELDS``): the plate, never a driver's name or ID number, so a tablet lost on a highway
carries no personal data beyond plates.

A delta (``since``, the cursor of an earlier bundle) holds the rows of that population changed
since the cursor's time less ``MARGIN``: a pass issued, regraded or revoked, its trip changed
(every trip write sets ``updated_at``), or its company's priority lane. The margin is for a
transaction that stamped its change before the cursor and committed after it: as long as it
commits within the margin, the next delta holds it. The tablet upserts rows, so the rows the
margin repeats cost nothing but bytes. A cursor older than a day, or of another key set, gives
a full bundle: the tablet replaces what it holds."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import (
    BigIntegerField,
    Count,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from checkpoints.services import OFFLINE_LIMIT
from places.models import Checkpoint
from trucks import passcode
from trucks import services as trucks_services
from trucks.models import CoRider, Pass, TripStatus, WhitelistEntry

FORMAT = 1
FIELDS = (
    "id",
    "colour",
    "status",
    "valid_from",
    "valid_until",
    "trip_status",
    "plate",
    "persons",
    "multi_entry",
    "entry_checkpoint",
    "reference",
    "priority_lane",
)
# Longer than a transaction that writes a pass or a trip takes to commit after its time stamp.
MARGIN = timedelta(minutes=2)
# A cursor this far ahead of the server's clock was not made by this clock: a full bundle.
_AHEAD = timedelta(minutes=1)

_CURSOR = re.compile(r"(\d{1,15})\.([0-9a-f]{12})")


@dataclass(frozen=True)
class Cursor:
    """Where a bundle left off: its generation time and its key set's fingerprint. The tablet
    holds it as an opaque string (``text``)."""

    at: datetime
    keys: str

    @property
    def text(self) -> str:
        return f"{int(self.at.timestamp() * 1000)}.{self.keys}"


def cursor_parse(text: str) -> Cursor | None:
    """The cursor an earlier bundle gave; None for a string that is not one."""
    match = _CURSOR.fullmatch(text)
    if match is None:
        return None
    ms, keys = match.groups()
    try:
        at = datetime.fromtimestamp(int(ms) / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return Cursor(at=at, keys=keys)


def _keys() -> tuple[list[dict[str, Any]], str]:
    """The public keys a tablet checks signatures with, and their fingerprint: a key added or
    retired changes it, and the next sync is full."""
    keys = [
        {"kid": key["kid"], "x": key["x"], "active": key["active"]}
        for key in passcode.public_jwks()["keys"]
    ]
    digest = hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).hexdigest()[:12]
    return keys, digest


class Epoch(Func):
    """A time as whole seconds since the Unix epoch, computed by the database: 20,000 rows of
    integers are read faster than 40,000 times parsed and converted."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "CAST(FLOOR(EXTRACT(EPOCH FROM %(expressions)s)) AS bigint)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # SQLite keeps times as UTC text; '%%%%s' is '%s' once the template and the backend's
        # parameter style have each unescaped it.
        template = "CAST(strftime('%%%%s', %(expressions)s) AS integer)"
        return self.as_sql(compiler, connection, template=template, **extra)


_COLUMNS = (
    "id",
    "colour",
    "status",
    "from_s",
    "until_s",
    "trip__status",
    "trip__vehicle__plate",
    "persons",
    "trip__multi_entry",
    "trip__entry_checkpoint_id",
    "trip__reference",
    "trip__company_id",
    "trip__cargo_category",
)


def _rows(passes: QuerySet[Pass]) -> list[tuple[Any, ...]]:
    co_riders = (
        CoRider.objects.filter(trip_id=OuterRef("trip_id"))
        .order_by()
        .values("trip_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(
        passes.order_by()
        .annotate(
            from_s=Epoch("valid_from"),
            until_s=Epoch("valid_until"),
            persons=Coalesce(Subquery(co_riders, output_field=IntegerField()), Value(0)) + 1,
        )
        .values_list(*_COLUMNS)
    )


def _population(now: datetime) -> tuple[QuerySet[Pass], QuerySet[Pass]]:
    """The bundle's passes as two queries, each served by its own index: passes ending after
    the day's horizon (``pass_until_idx``), and the older ones of trips in the city
    (``trip_in_city_idx``)."""
    horizon = now - OFFLINE_LIMIT
    return (
        Pass.objects.filter(valid_until__gt=horizon),
        Pass.objects.filter(
            valid_until__lte=horizon,
            trip__status__in=[TripStatus.INSIDE, TripStatus.ARRIVED],
        ),
    )


def _lane_companies(since: datetime, now: datetime) -> set[int]:
    """Companies whose priority lane may have changed since ``since``: an entry written (its
    history), or one that began or ended in between."""
    written = (
        WhitelistEntry.history.filter(history_date__gt=since).order_by().values_list("company_id")
    )
    turned = (
        WhitelistEntry.objects.filter(
            Q(valid_from__gt=since, valid_from__lte=now)
            | Q(valid_until__gt=since, valid_until__lte=now),
            priority_lane=True,
        )
        .order_by()
        .values_list("company_id")
    )
    return {company for (company,) in written.union(turned)}


def _changed(since: datetime, now: datetime) -> Q:
    changed = (
        Q(issued_at__gt=since)
        | Q(graded_at__gt=since)
        | Q(revoked_at__gt=since)
        | Q(trip__updated_at__gt=since)
    )
    companies = _lane_companies(since, now)
    if companies:
        changed |= Q(trip__company_id__in=companies)
    return changed


def bundle_build(
    *, checkpoint: Checkpoint, since: Cursor | None, now: datetime | None = None
) -> dict[str, Any]:
    """The bundle for the checkpoint's tablets: full, or the rows changed since ``since``."""
    now = now or timezone.now()
    keys, fingerprint = _keys()
    full = (
        since is None
        or since.keys != fingerprint
        or since.at < now - OFFLINE_LIMIT
        or since.at > now + _AHEAD
    )
    # Read before the rows: a pass issued in between is in the rows with a higher id, never
    # missing from them with a lower one.
    max_pass_id = Pass.objects.aggregate(top=Max("pk"))["top"] or 0
    recent, in_city = _population(now)
    if since is not None and not full:
        changed = _changed(since.at - MARGIN, now)
        recent, in_city = recent.filter(changed), in_city.filter(changed)
    rows = _rows(recent) + _rows(in_city)
    rows.sort(key=lambda row: int(row[0]))
    lanes = trucks_services.priority_lanes()
    policy = trucks_services.policy_current_cached()
    passes = [
        [
            *row[:10],
            row[10] or "",
            lanes.covers(company_id=row[11], plate=row[6], cargo_category=row[12], at=now),
        ]
        for row in rows
    ]
    return {
        "format": FORMAT,
        "full": full,
        "cursor": Cursor(at=now, keys=fingerprint).text,
        "generated_at": now.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
        # As late as can be: the tablet sets its clock's offset by it, on the answer's arrival.
        "server_time_ms": int(timezone.now().timestamp() * 1000),
        "checkpoint": {"id": checkpoint.pk, "code": checkpoint.code},
        "policy": {
            "strict_checkpoint": policy.strict_checkpoint,
            "offline_max_age_minutes": policy.offline_max_age_minutes,
        },
        "keys": keys,
        "max_pass_id": max_pass_id,
        "fields": list(FIELDS),
        "passes": passes,
    }
