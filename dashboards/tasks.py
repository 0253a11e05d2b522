"""Celery tasks of the officials' exports (``dashboards.exports.services``): each translates a
message into one service call, takes ids and reads fresh rows. A build claims its export before
it starts, so a task delivered twice (``acks_late`` after a lost worker) builds it once; a
database briefly unreachable is retried with backoff. The beat schedule (settings
``CELERY_BEAT_SCHEDULE``, ``passcode_portal/settings/exports.py``) runs the sweep."""

from __future__ import annotations

import logging

from celery import shared_task

from dashboards.exports import services
from passcode_portal.tasks import RETRY, enqueue_on_commit

__all__ = ["build_export", "sweep_exports"]

logger = logging.getLogger(__name__)


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
