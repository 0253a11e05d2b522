"""The series the dashboard's charts draw (``static/js/dashboard.js``, Apache ECharts): entries
and exits per hour at each checkpoint, the last 14 days of registrations against entries, and
the regions most trucks come from with their risk level. Each is one or two aggregate queries,
whatever the data."""

from __future__ import annotations

from datetime import date, timedelta, tzinfo
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from dashboards.periods import Period
from dashboards.selectors import (
    ENTRY,
    EXIT,
    checkpoints_shown,
    scans_in,
    trips_registered_in,
)
from places.models import Checkpoint

TREND_DAYS = 14
TOP_ORIGINS = 10


def hourly_by_checkpoint(day: date, checkpoint: Checkpoint | None = None) -> list[dict[str, Any]]:
    """For each checkpoint shown, its entries and exits in each hour of ``day``."""
    scans = scans_in(Period(day, day), checkpoint)
    counts: dict[tuple[int, int], dict[str, int]] = {
        (row["checkpoint_id"], row["hour"]): {"entries": row["entries"], "exits": row["exits"]}
        for row in scans.annotate(
            hour=ExtractHour("scanned_at", tzinfo=timezone.get_current_timezone())
        )
        .values("checkpoint_id", "hour")
        .annotate(entries=Count("id", filter=ENTRY), exits=Count("id", filter=EXIT))
        .order_by()
    }
    return [
        {
            "code": site.code,
            "name": site.name,
            "entries": [counts.get((site.pk, h), {}).get("entries", 0) for h in range(24)],
            "exits": [counts.get((site.pk, h), {}).get("exits", 0) for h in range(24)],
        }
        for site in checkpoints_shown(checkpoint)
    ]


def trend(last: date, checkpoint: Checkpoint | None = None) -> dict[str, Any]:
    """Registrations against entries on each of the TREND_DAYS days up to ``last``."""
    period = Period(last - timedelta(days=TREND_DAYS - 1), last)
    zone = timezone.get_current_timezone()
    trips = trips_registered_in(period, checkpoint)
    scans = scans_in(period, checkpoint).filter(ENTRY)
    registered = _per_day(trips, "created_at", zone)
    entered = _per_day(scans, "scanned_at", zone)
    days = [period.first + timedelta(days=k) for k in range(TREND_DAYS)]
    return {
        "days": [d.isoformat() for d in days],
        "registrations": [registered.get(d, 0) for d in days],
        "entries": [entered.get(d, 0) for d in days],
    }


def _per_day(rows: QuerySet[Any], field: str, zone: tzinfo) -> dict[date, int]:
    return {
        row["day"]: row["n"]
        for row in rows.annotate(day=TruncDate(field, tzinfo=zone))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    }


def origins(period: Period, checkpoint: Checkpoint | None = None) -> list[dict[str, Any]]:
    """The TOP_ORIGINS regions the period's registered trips come from, with their risk level
    as it stands now."""
    trips = trips_registered_in(period, checkpoint)
    rows = (
        trips.values("origin_region_id", "origin_region__full_name", "origin_region__risk_level")
        .annotate(n=Count("id"))
        .order_by("-n", "origin_region_id")[:TOP_ORIGINS]
    )
    return [
        {
            "code": row["origin_region_id"],
            "name": row["origin_region__full_name"],
            "risk_level": row["origin_region__risk_level"],
            "trips": row["n"],
        }
        for row in rows
    ]


def charts(period: Period, checkpoint: Checkpoint | None = None) -> dict[str, Any]:
    return {
        "hourly": hourly_by_checkpoint(period.last, checkpoint),
        "trend": trend(period.last, checkpoint),
        "origins": origins(period, checkpoint),
    }
