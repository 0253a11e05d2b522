"""The series the dashboard's charts draw (``static/js/dashboard.js``, Apache ECharts): entries
and exits per hour at each checkpoint, the last 14 days of registrations against entries, and
the regions most trucks come from with their risk level. Each is one statement over the
roll-ups and the rows not counted yet (``dashboards.counting``), whatever the data."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Q

from checkpoints.models import ADMITTING_VERDICTS, Direction
from dashboards import rollups
from dashboards.counting import totals
from dashboards.periods import Period
from dashboards.selectors import (
    ENTRY,
    checkpoints_shown,
    rollup_filter,
    scan_hours,
    scans_in,
    trips_registered_in,
)
from places.models import Checkpoint, Region

TREND_DAYS = 14
TOP_ORIGINS = 10


def hourly_by_checkpoint(day: date, checkpoint: Checkpoint | None = None) -> list[dict[str, Any]]:
    """For each checkpoint shown, its entries and exits in each hour of ``day``."""
    counts = scan_hours(day, checkpoint)
    return [
        {
            "code": site.code,
            "name": site.name,
            "entries": [counts[(site.pk, h, Direction.IN)] for h in range(24)],
            "exits": [counts[(site.pk, h, Direction.OUT)] for h in range(24)],
        }
        for site in checkpoints_shown(checkpoint)
    ]


def trend(last: date, checkpoint: Checkpoint | None = None) -> dict[str, Any]:
    """Registrations against entries on each of the TREND_DAYS days up to ``last``."""
    period = Period(last - timedelta(days=TREND_DAYS - 1), last)
    days_of = rollup_filter(period, checkpoint)
    registered = totals(
        rollups.TRIP_DAY,
        rollups=days_of,
        rows=trips_registered_in(period, checkpoint),
        keys=("day",),
    )
    entered = totals(
        rollups.SCAN_DAY,
        rollups=days_of
        & Q(direction=Direction.IN)
        & (Q(verdict__in=ADMITTING_VERDICTS) | Q(overridden=True)),
        rows=scans_in(period, checkpoint).filter(ENTRY),
        keys=("day",),
    )
    days = [period.first + timedelta(days=k) for k in range(TREND_DAYS)]
    return {
        "days": [d.isoformat() for d in days],
        "registrations": [registered[(d,)] for d in days],
        "entries": [entered[(d,)] for d in days],
    }


def origins(period: Period, checkpoint: Checkpoint | None = None) -> list[dict[str, Any]]:
    """The TOP_ORIGINS regions the period's registered trips come from, with their risk level
    as it stands now."""
    counts = totals(
        rollups.ORIGIN_DAY,
        rollups=rollup_filter(period, checkpoint),
        rows=trips_registered_in(period, checkpoint),
        keys=("origin_id",),
    )
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))[:TOP_ORIGINS]
    regions = Region.objects.in_bulk([code for (code,), _n in top])
    return [
        {
            "code": code,
            "name": regions[code].full_name,
            "risk_level": regions[code].risk_level,
            "trips": n,
        }
        for (code,), n in top
    ]


def charts(period: Period, checkpoint: Checkpoint | None = None) -> dict[str, Any]:
    return {
        "hourly": hourly_by_checkpoint(period.last, checkpoint),
        "trend": trend(period.last, checkpoint),
        "origins": origins(period, checkpoint),
    }
