"""Celery tasks of the checkpoint side."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from handover import scan_events as events

__all__ = ["emit_scan_events"]

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def emit_scan_events() -> int:
    """Turn admitted entry and exit scans recorded since the last run into hand-over webhook
    events (``handover.scan_events``); delivery is kicked once they commit."""
    offered = events.scan_events_emit()
    if offered:
        logger.info("Queued %d webhook deliveries for scans.", offered)
    return offered


# The lifecycle's tasks live beside their services; imported here for Celery's autodiscovery.
from checkpoints.lifecycle_tasks import *  # noqa: E402, F403
