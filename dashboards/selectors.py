"""The officials' figures, read once for the page and the API alike (``overview``, ``hourly``), so
the two never differ. Each is a fixed handful of queries, whatever the data: counts of a period
from the roll-ups and the rows not counted yet (``dashboards.counting``), figures as of now from
the few rows they concern."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import ExtractHour
from django.utils import timezone

from checkpoints.models import (
    ADMITTED,
    ADMITTING_VERDICTS,
    Alert,
    Direction,
    LandingTest,
    ScanEvent,
    Verdict,
    WalkIn,
)
from dashboards import rollups
from dashboards.counting import totals
from dashboards.periods import Period
from places.models import Checkpoint
from trucks.models import Colour, Pass, Trip, TripStatus

ENTRY = ADMITTED & Q(direction=Direction.IN)
OVERDUE = (Alert.Kind.OVERDUE_ARRIVAL, Alert.Kind.OVERDUE_EXIT)


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


def rollup_filter(period: Period, checkpoint: Checkpoint | None, *, hourly: bool = False) -> Q:
    """The roll-up rows of the period (and checkpoint): by day, or by hour for ``ScanHour``."""
    if hourly:
        rows = Q(hour__gte=period.start, hour__lt=period.end)
    else:
        rows = Q(day__gte=period.first, day__lte=period.last)
    return rows & Q(checkpoint=checkpoint) if checkpoint is not None else rows


def scan_counts(period: Period, checkpoint: Checkpoint | None) -> Counter[tuple[Any, ...]]:
    """The period's scans by checkpoint, direction, verdict, reason, overridden and with a
    pass: what every scan figure is summed from."""
    return totals(
        rollups.SCAN_DAY,
        rollups=rollup_filter(period, checkpoint),
        rows=scans_in(period, checkpoint),
        keys=SCAN_KEYS,
    )


SCAN_KEYS = ("checkpoint_id", "direction", "verdict", "reason", "overridden", "with_pass")


def admitted(verdict: str, overridden: bool) -> bool:
    return verdict in ADMITTING_VERDICTS or bool(overridden)


def overview(period: Period, checkpoint: Checkpoint | None = None) -> dict[str, Any]:
    """The figures of the period at one checkpoint or all (``GET /api/v1/stats/overview/``).

    - registrations: trips registered in the period (for one checkpoint: registered to enter
      there); passes: issued in the period, by their colour now;
    - entries, exits: admitted scans, an override counting as an admission; refusals: scans
      refused and left refused, by reason; walk-ins: vehicles recorded without a pass;
      overrides: refusals a supervisor overrode in the period;
    - inside, overdue, landing_tests_pending: as of now (for one checkpoint: of trips
      registered to enter there, and of tests sampled there);
    - compliance_rate: scans of passes among all vehicles recorded (scans of passes and
      walk-ins), from 0 to 1, or None with nothing recorded.

    The period's counts come from the roll-ups and the rows not counted yet
    (``dashboards.counting``); the figures as of now from the few rows they concern.
    """
    scans = scan_counts(period, checkpoint)
    entries = exits = with_pass = 0
    refusals: Counter[str] = Counter()
    for (_site, direction, verdict, reason, overridden, has_pass), n in scans.items():
        if admitted(verdict, overridden):
            entries += n if direction == Direction.IN else 0
            exits += n if direction == Direction.OUT else 0
        elif verdict == Verdict.REFUSE:
            refusals[reason] += n
        with_pass += n if has_pass else 0
    walk_ins = totals(
        rollups.WALK_IN_DAY,
        rollups=rollup_filter(period, checkpoint),
        rows=walk_ins_in(period, checkpoint),
        keys=("checkpoint_id",),
    )
    registrations = totals(
        rollups.TRIP_DAY,
        rollups=rollup_filter(period, checkpoint),
        rows=trips_registered_in(period, checkpoint),
        keys=("checkpoint_id",),
    )
    issued = _by_entry_checkpoint(
        Pass.objects.filter(issued_at__gte=period.start, issued_at__lt=period.end),
        checkpoint,
        "trip__entry_checkpoint",
    )
    passes = {colour: 0 for colour in Colour.values}
    for (colour,), n in totals(
        rollups.PASS_DAY,
        rollups=rollup_filter(period, checkpoint),
        rows=issued,
        keys=("colour",),
    ).items():
        passes[colour] += n
    overrides = ScanEvent.objects.filter(
        overridden_at__gte=period.start, overridden_at__lt=period.end
    )
    if checkpoint is not None:
        overrides = overrides.filter(checkpoint=checkpoint)
    inside = _by_entry_checkpoint(
        Trip.objects.filter(status=TripStatus.INSIDE), checkpoint, "entry_checkpoint"
    )
    overdue = _by_entry_checkpoint(
        Alert.objects.filter(
            kind__in=OVERDUE,
            resolved_at__isnull=True,
            trip__status__in=(TripStatus.INSIDE, TripStatus.ARRIVED),
        ),
        checkpoint,
        "trip__entry_checkpoint",
    )
    pending = ScanEvent.objects.filter(landing_test=LandingTest.SAMPLED)
    if checkpoint is not None:
        pending = pending.filter(checkpoint=checkpoint)
    walk_in_count = sum(walk_ins.values())
    recorded = with_pass + walk_in_count
    return {
        "from": period.first,
        "to": period.last,
        "checkpoint": checkpoint.code if checkpoint is not None else None,
        "updated_at": timezone.now(),
        "registrations": sum(registrations.values()),
        "passes": passes,
        "entries": entries,
        "exits": exits,
        "inside": inside.count(),
        "overdue": overdue.values("trip").distinct().count(),
        "refusals": dict(refusals),
        "walk_ins": walk_in_count,
        "landing_tests_pending": pending.count(),
        "overrides": overrides.count(),
        "compliance_rate": with_pass / recorded if recorded else None,
        "checkpoints": _per_checkpoint(checkpoint, scans, walk_ins),
    }


def _per_checkpoint(
    checkpoint: Checkpoint | None,
    scans: Counter[tuple[Any, ...]],
    walk_ins: Counter[tuple[Any, ...]],
) -> list[dict[str, Any]]:
    by_site: dict[int, Counter[str]] = defaultdict(Counter)
    for (site, direction, verdict, _reason, overridden, _has_pass), n in scans.items():
        if admitted(verdict, overridden):
            by_site[site]["entries" if direction == Direction.IN else "exits"] += n
        elif verdict == Verdict.REFUSE:
            by_site[site]["refusals"] += n
    return [
        {
            "code": site.code,
            "name": site.name,
            "entries": by_site[site.pk]["entries"],
            "exits": by_site[site.pk]["exits"],
            "refusals": by_site[site.pk]["refusals"],
            "walk_ins": walk_ins.get((site.pk,), 0),
        }
        for site in checkpoints_shown(checkpoint)
    ]


def hourly(day: date, checkpoint: Checkpoint | None = None) -> dict[str, Any]:
    """Entries and exits of ``day`` in each of its 24 hours, in the deployment's time zone
    (``GET /api/v1/stats/hourly/``)."""
    counts = scan_hours(day, checkpoint)
    entries: Counter[int] = Counter()
    exits: Counter[int] = Counter()
    for (_site, hour, direction), n in counts.items():
        (entries if direction == Direction.IN else exits)[hour] += n
    return {
        "date": day,
        "checkpoint": checkpoint.code if checkpoint is not None else None,
        "hours": [
            {"hour": hour, "entries": entries[hour], "exits": exits[hour]} for hour in range(24)
        ],
    }


def scan_hours(day: date, checkpoint: Checkpoint | None) -> Counter[tuple[int, int, str]]:
    """The admitted scans of ``day`` by checkpoint, hour of the day (0–23, in the deployment's
    time zone) and direction."""
    period = Period(day, day)
    zone = timezone.get_current_timezone()
    counts = totals(
        rollups.SCAN_HOUR,
        rollups=rollup_filter(period, checkpoint, hourly=True) & Q(admitted=True),
        rows=scans_in(period, checkpoint).filter(ADMITTED),
        keys=("checkpoint_id", "hour", "direction"),
        # One day's hours, each read as its hour of the day on both sides of the union.
        read_as={
            "hour": (ExtractHour("hour", tzinfo=zone), ExtractHour("scanned_at", tzinfo=zone))
        },
    )
    return Counter(
        {(site, int(hour), direction): n for (site, hour, direction), n in counts.items()}
    )
