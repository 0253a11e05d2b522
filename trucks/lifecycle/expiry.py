"""Passes expire at the end of their window, with the trips that never entered on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from trucks.models import Pass, PassStatus, Trip, TripStatus


@dataclass(frozen=True)
class Expired:
    passes: int
    trips: int


def passes_expire(*, now: datetime | None = None) -> Expired:
    """Active passes whose window has ended become expired, and trips that never entered on
    them become expired too: two UPDATE statements however many rows, in one transaction.

    Trips inside or arrived keep their state (the exit scan closes them; it warns of a late
    exit, and the overdue rules watch them). Running twice at once is safe: each statement's
    WHERE clause holds the state it leaves, so on PostgreSQL the second run waits for the
    first's row locks, re-reads the rows and leaves them alone."""
    now = now or timezone.now()
    due = Pass.objects.filter(status=PassStatus.ACTIVE, valid_until__lte=now)
    with transaction.atomic():
        # Trips first, while their passes are still active and so found through the partial
        # index on active passes' valid_until.
        trips = Trip.objects.filter(
            status=TripStatus.REGISTERED, pk__in=due.values("trip_id")
        ).update(status=TripStatus.EXPIRED, updated_at=now)
        passes = due.update(status=PassStatus.EXPIRED)
    return Expired(passes=passes, trips=trips)
