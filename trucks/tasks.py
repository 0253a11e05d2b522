"""Celery tasks of the registration side's lifecycle (``trucks.lifecycle``): each translates a
message into one service call. They take ids (a region code, the id to go on from), never
rows, and read fresh rows; they are idempotent, so a task delivered twice (``acks_late`` after a
lost worker) does its work once. A database that is briefly unreachable is retried with backoff.

Long work (regrading every active pass, a first retention run) stops before the time limit and
continues in a new task from where it stopped; the periodic sweeps finish it should that task be
lost. The beat schedule (settings ``CELERY_BEAT_SCHEDULE``) runs the periodic ones.
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings

from passcode_portal.tasks import RETRY, enqueue_on_commit
from trucks import lifecycle
from trucks.services import imports

__all__ = [
    "anonymise_personal_data",
    "expire_passes",
    "register_trip_import",
    "regrade_all",
    "regrade_region",
    "regrade_stale",
    "sweep_trip_imports",
    "validate_trip_import",
]

logger = logging.getLogger(__name__)

# Time limits of the long tasks; they stop taking new chunks after LIFECYCLE_TASK_BUDGET_SECONDS
# (below the soft limit) and hand the rest to a new task.
LONG = {"soft_time_limit": 240, "time_limit": 300}


def _deadline() -> float:
    return time.monotonic() + settings.LIFECYCLE_TASK_BUDGET_SECONDS


@shared_task(soft_time_limit=50, time_limit=60, **RETRY)
def expire_passes() -> int:
    """Every minute: passes whose window ended expire, with the trips that never entered."""
    expired = lifecycle.passes_expire()
    if expired.passes:
        logger.info("Expired %d passes and %d trips.", expired.passes, expired.trips)
    return expired.passes


@shared_task(**LONG, **RETRY)
def regrade_region(code: str, after_id: int = 0) -> int:
    """After an official changed a region's risk level (enqueued when that commits)."""
    result = lifecycle.passes_regrade_region(code=code, after_id=after_id, deadline=_deadline())
    if not result.finished:
        enqueue_on_commit(regrade_region, code, result.last_id)
    logger.info("Region %s: %d passes regraded, %d changed.", code, result.checked, result.changed)
    return result.changed


@shared_task(**LONG, **RETRY)
def regrade_all(after_id: int = 0) -> int:
    """After a new policy version was published (enqueued when it commits)."""
    result = lifecycle.passes_regrade_all(after_id=after_id, deadline=_deadline())
    if not result.finished:
        enqueue_on_commit(regrade_all, result.last_id)
    logger.info("Policy: %d passes regraded, %d changed.", result.checked, result.changed)
    return result.changed


@shared_task(**LONG, **RETRY)
def regrade_stale() -> int:
    """Every ten minutes: regrade what a lost regrade task left behind (the next run goes on
    where this one stopped)."""
    result = lifecycle.passes_regrade_stale(deadline=_deadline())
    if result.checked:
        logger.warning(
            "Sweep regraded %d passes left behind, %d changed.", result.checked, result.changed
        )
    return result.changed


@shared_task(**LONG, **RETRY)
def anonymise_personal_data() -> int:
    """Daily: personal data of trips closed longer ago than the retention period."""
    result = lifecycle.personal_data_anonymise(deadline=_deadline())
    if not result.finished:
        enqueue_on_commit(anonymise_personal_data)
    if result.trips:
        logger.info(
            "Anonymised %d trips, %d co-riders, %d drivers.",
            result.trips,
            result.co_riders,
            result.drivers,
        )
    return result.trips


# An import of 10,000 rows is checked in about 15 s and registered in about a minute here.
IMPORT = {"soft_time_limit": 1500, "time_limit": 1800}


@shared_task(**IMPORT, **RETRY)
def validate_trip_import(import_id: int) -> str | None:
    """Check an uploaded file's rows (``imports.trip_import_validate``): taken by its status, so
    a second delivery finds the rows already checked and goes on with those left."""
    trip_import = imports.trip_import_validate(import_id=import_id)
    return trip_import.status if trip_import is not None else None


@shared_task(**IMPORT, **RETRY)
def register_trip_import(import_id: int) -> str | None:
    """Register a confirmed import's valid rows; rows registered already are skipped."""
    trip_import = imports.trip_import_register(import_id=import_id)
    if trip_import is not None:
        logger.info("Import %s: %d trips registered.", trip_import.pk, trip_import.registered)
    return trip_import.status if trip_import is not None else None


@shared_task(soft_time_limit=50, time_limit=60, **RETRY)
def sweep_trip_imports() -> int:
    """Every five minutes: imports whose worker has been silent for a while are queued again."""
    stuck = imports.trip_imports_sweep()
    for import_id, status in stuck:
        task = register_trip_import if status == "registering" else validate_trip_import
        enqueue_on_commit(task, import_id)
    if stuck:
        logger.warning("Trip imports queued again: %s.", ", ".join(str(pk) for pk, _s in stuck))
    return len(stuck)
