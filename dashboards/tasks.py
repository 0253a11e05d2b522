"""Celery tasks of the officials' side. ``count_figures`` adds the rows not counted yet to the
roll-ups (``dashboards.rollups``); the beat schedule runs it every 30 s. It stops taking chunks
before its time limit; the next run goes on, and the figures are exact meanwhile (they add the
rows not counted yet)."""

from __future__ import annotations

import logging
import time

from celery import shared_task

from dashboards import rollups
from passcode_portal.tasks import RETRY

__all__ = ["count_figures"]

logger = logging.getLogger(__name__)

BUDGET_SECONDS = 50


@shared_task(soft_time_limit=90, time_limit=120, **RETRY)
def count_figures() -> int:
    counted = rollups.count_new(deadline=time.monotonic() + BUDGET_SECONDS)
    if counted:
        logger.info("Figures: %d rows counted into the roll-ups.", counted)
    return counted
