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

__all__ = [
    "anonymise_personal_data",
    "expire_passes",
    "regrade_all",
    "regrade_region",
    "regrade_stale",
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
