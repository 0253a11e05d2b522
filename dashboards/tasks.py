"""Celery tasks of the officials' side: each translates a message into one service call, takes
ids and reads fresh rows; a database briefly unreachable is retried with backoff. The beat
schedule (settings ``CELERY_BEAT_SCHEDULE``) runs the periodic ones.

- ``count_figures`` adds the rows not counted yet to the roll-ups (``dashboards.rollups``) every
  30 s. It stops taking chunks before its time limit; the next run goes on, and the figures are
  exact meanwhile (they add the rows not counted yet).
- ``build_export`` builds an export (``dashboards.exports.services``); a build claims its export
  before it starts, so a task delivered twice (``acks_late`` after a lost worker) builds it once.
  ``sweep_exports`` deletes files past their time and queues lost builds again."""

from __future__ import annotations

import logging
import time

from celery import shared_task

from dashboards import rollups
from dashboards.exports import services
from passcode_portal.tasks import RETRY, enqueue_on_commit

__all__ = ["build_export", "count_figures", "sweep_exports"]

logger = logging.getLogger(__name__)

BUDGET_SECONDS = 50


@shared_task(soft_time_limit=90, time_limit=120, **RETRY)
def count_figures() -> int:
    counted = rollups.count_new(deadline=time.monotonic() + BUDGET_SECONDS)
    if counted:
        logger.info("Figures: %d rows counted into the roll-ups.", counted)
    return counted


@shared_task(
    soft_time_limit=services.BUILD_TIME_LIMIT - 60, time_limit=services.BUILD_TIME_LIMIT, **RETRY
)
def build_export(export_id: int) -> str | None:
    export = services.export_build(export_id=export_id)
    if export is None:
        return None
    logger.info("Export %s: %s, %d rows.", export.pk, export.status, export.rows_done)
    return export.status


@shared_task(soft_time_limit=110, time_limit=120, **RETRY)
def sweep_exports() -> int:
    """Every ten minutes: files past their time deleted, lost tasks queued again, dead builds
    marked failed."""
    swept = services.exports_sweep()
    for export_id in swept.lost:
        enqueue_on_commit(build_export, export_id)
    if swept.lost or swept.failed:
        logger.warning(
            "Exports: %d queued again, %d failed with their worker.", len(swept.lost), swept.failed
        )
    return swept.expired
