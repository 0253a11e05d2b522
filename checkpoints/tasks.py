"""Celery tasks of the checkpoints' lifecycle (``checkpoints.lifecycle``), run by beat: overdue
alerts every few minutes, walk-in retention daily. Both are idempotent; a task delivered twice
(``acks_late`` after a lost worker) does its work once."""

from __future__ import annotations

import logging

from celery import shared_task

from checkpoints import lifecycle
from passcode_portal.tasks import RETRY

__all__ = ["anonymise_walk_ins", "flag_overdue_trips"]

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=240, time_limit=300, **RETRY)
def flag_overdue_trips() -> int:
    """Every five minutes: trucks lost from view raise their overdue alerts, once each."""
    overdue = lifecycle.trips_flag_overdue()
    if overdue.arrival or overdue.exit:
        logger.warning(
            "Overdue: %d trucks not confirmed arrived, %d not exited.",
            overdue.arrival,
            overdue.exit,
        )
    return overdue.arrival + overdue.exit


@shared_task(soft_time_limit=240, time_limit=300, **RETRY)
def anonymise_walk_ins() -> int:
    """Daily: drivers' names and phones of walk-ins past the retention period."""
    cleared = lifecycle.walk_ins_anonymise()
    if cleared:
        logger.info("Cleared personal data of %d walk-ins.", cleared)
    return cleared
