"""The officials' figures, read once for the page and the API alike (``overview``, ``hourly``), so
the two never differ. Each is a fixed handful of aggregate queries, whatever the data."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractHour
from django.utils import timezone

from checkpoints.models import (
    ADMITTED,
    Alert,
    Direction,
    LandingTest,
    ScanEvent,
    Verdict,
    WalkIn,
)
from dashboards.periods import Period
from places.models import Checkpoint
from trucks.models import Colour, Pass, Trip, TripStatus

ENTRY = ADMITTED & Q(direction=Direction.IN)
EXIT = ADMITTED & Q(direction=Direction.OUT)
# Refused and left refused: a supervisor's override made the scan an admission.
_REFUSED = Q(verdict=Verdict.REFUSE, overridden_by__isnull=True)
_OVERDUE = (Alert.Kind.OVERDUE_ARRIVAL, Alert.Kind.OVERDUE_EXIT)


def checkpoints_shown(checkpoint: Checkpoint | None) -> list[Checkpoint]:
    if checkpoint is not None:
        return [checkpoint]
    return list(Checkpoint.objects.filter(active=True).order_by("code"))


def scans_in(period: Period, checkpoint: Checkpoint | None) -> QuerySet[ScanEvent]:
    scans = ScanEvent.objects.filter(scanned_at__gte=period.start, scanned_at__lt=period.end)
    return scans.filter(checkpoint=checkpoint) if checkpoint is not None else scans


def walk_ins_in(period: Period, checkpoint: Checkpoint | None) -> QuerySet[WalkIn]:
    walk_ins = WalkIn.objects.filter(recorded_at__gte=period.start, recorded_at__lt=period.end)
    return walk_ins.filter(checkpoint=checkpoint) if checkpoint is not None else walk_ins


def trips_registered_in(period: Period, checkpoint: Checkpoint | None) -> QuerySet[Trip]:
    """Trips registered in the period (for one checkpoint: registered to enter there)."""
    trips = Trip.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    return trips.filter(entry_checkpoint=checkpoint) if checkpoint is not None else trips


def _by_entry_checkpoint(rows: QuerySet[Any], checkpoint: Checkpoint | None, path: str) -> Any:
    return rows.filter(**{path: checkpoint}) if checkpoint is not None else rows


def overview(period: Period, checkpoint: Checkpoint | None = None) -> dict[str, Any]:
    """The figures of the period at one checkpoint or all (``GET /api/v1/stats/overview/``).

    - registrations: trips registered in the period (for one checkpoint: registered to enter
      there); passes: issued in the period, by colour;
    - entries, exits: admitted scans, an override counting as an admission; refusals: scans
      refused and left refused, by reason; walk-ins: vehicles recorded without a pass;
      overrides: refusals a supervisor overrode in the period;
    - inside, overdue, landing_tests_pending: as of now (for one checkpoint: of trips
      registered to enter there, and of tests sampled there);
    - compliance_rate: scans of passes among all vehicles recorded (scans of passes and
      walk-ins), from 0 to 1, or None with nothing recorded.
    """
    scans = scans_in(period, checkpoint)
    walk_ins = walk_ins_in(period, checkpoint)
    counts = scans.aggregate(
        entries=Count("id", filter=ENTRY),
        exits=Count("id", filter=EXIT),
        with_pass=Count("id", filter=Q(trip_pass__isnull=False)),
    )
    overrides = ScanEvent.objects.filter(
        overridden_at__gte=period.start, overridden_at__lt=period.end
    )
    if checkpoint is not None:
        overrides = overrides.filter(checkpoint=checkpoint)
    refusals = {
        row["reason"]: row["n"]
        for row in scans.filter(_REFUSED).values("reason").annotate(n=Count("id")).order_by()
    }
    trips = trips_registered_in(period, checkpoint)
    passes = {colour: 0 for colour in Colour.values}
    issued = _by_entry_checkpoint(
        Pass.objects.filter(issued_at__gte=period.start, issued_at__lt=period.end),
        checkpoint,
        "trip__entry_checkpoint",
    )
    for row in issued.values("colour").annotate(n=Count("id")).order_by():
        passes[row["colour"]] = row["n"]
    inside = _by_entry_checkpoint(
        Trip.objects.filter(status=TripStatus.INSIDE), checkpoint, "entry_checkpoint"
    )
    overdue = _by_entry_checkpoint(
        Alert.objects.filter(
            kind__in=_OVERDUE,
            resolved_at__isnull=True,
            trip__status__in=(TripStatus.INSIDE, TripStatus.ARRIVED),
        ),
        checkpoint,
        "trip__entry_checkpoint",
    )
    pending = ScanEvent.objects.filter(landing_test=LandingTest.SAMPLED)
    if checkpoint is not None:
        pending = pending.filter(checkpoint=checkpoint)
    walk_in_count = walk_ins.count()
    recorded = counts["with_pass"] + walk_in_count
    return {
        "from": period.first,
        "to": period.last,
        "checkpoint": checkpoint.code if checkpoint is not None else None,
        "updated_at": timezone.now(),
        "registrations": trips.count(),
        "passes": passes,
        "entries": counts["entries"],
        "exits": counts["exits"],
        "inside": inside.count(),
        "overdue": overdue.values("trip").distinct().count(),
        "refusals": refusals,
        "walk_ins": walk_in_count,
        "landing_tests_pending": pending.count(),
        "overrides": overrides.count(),
        "compliance_rate": counts["with_pass"] / recorded if recorded else None,
        "checkpoints": _per_checkpoint(period, checkpoint),
    }


def _per_checkpoint(period: Period, checkpoint: Checkpoint | None) -> list[dict[str, Any]]:
    by_scan: dict[int, dict[str, Any]] = {
        row["checkpoint_id"]: dict(row)
        for row in scans_in(period, checkpoint)
        .values("checkpoint_id")
        .annotate(
            entries=Count("id", filter=ENTRY),
            exits=Count("id", filter=EXIT),
            refusals=Count("id", filter=_REFUSED),
        )
        .order_by()
    }
    walk_ins = {
        row["checkpoint_id"]: row["n"]
        for row in walk_ins_in(period, checkpoint)
        .values("checkpoint_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    rows = []
    for site in checkpoints_shown(checkpoint):
        scans: dict[str, Any] = by_scan.get(site.pk, {})
        rows.append(
            {
                "code": site.code,
                "name": site.name,
                "entries": scans.get("entries", 0),
                "exits": scans.get("exits", 0),
                "refusals": scans.get("refusals", 0),
                "walk_ins": walk_ins.get(site.pk, 0),
            }
        )
    return rows


def hourly(day: date, checkpoint: Checkpoint | None = None) -> dict[str, Any]:
    """Entries and exits of ``day`` in each of its 24 hours, in the deployment's time zone
    (``GET /api/v1/stats/hourly/``)."""
    period = Period(day, day)
    counts = {
        row["hour"]: row
        for row in scans_in(period, checkpoint)
        .annotate(hour=ExtractHour("scanned_at", tzinfo=timezone.get_current_timezone()))
        .values("hour")
        .annotate(entries=Count("id", filter=ENTRY), exits=Count("id", filter=EXIT))
        .order_by()
    }
    return {
        "date": day,
        "checkpoint": checkpoint.code if checkpoint is not None else None,
        "hours": [
            {
                "hour": hour,
                "entries": counts[hour]["entries"] if hour in counts else 0,
                "exits": counts[hour]["exits"] if hour in counts else 0,
            }
            for hour in range(24)
        ],
    }
