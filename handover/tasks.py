"""Celery tasks that send hand-over webhooks. They take no ids: the deliveries table is the
queue, and whichever task runs first sends whatever is due. So a lost task loses nothing (beat
runs the sender every 15 s), and tasks running side by side share the work through the claim
(``handover.delivery``)."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from handover import delivery as webhook_delivery
from handover import scan_events as events
from passcode_portal.tasks import RETRY, enqueue_on_commit

__all__ = ["deliver_webhooks", "emit_scan_events", "reclaim_webhooks"]

logger = logging.getLogger(__name__)

# Below the soft time limit (CELERY_TASK_SOFT_TIME_LIMIT, 240 s) even when the last delivery
# started waits its full 10 s timeout: the task stops claiming and returns, and what is left is
# due for the next run, at most 15 s later.
SEND_BUDGET = timedelta(seconds=120)


@shared_task(**RETRY)
def deliver_webhooks() -> int:
    """Send due webhook deliveries, batch after batch, until none is due or the budget is
    spent."""
    delivered = webhook_delivery.deliveries_send_due(deadline=timezone.now() + SEND_BUDGET)
    if delivered:
        logger.info("Delivered %d webhooks.", delivered)
    return delivered


@shared_task(**RETRY)
def reclaim_webhooks() -> int:
    """Put webhook deliveries stuck in "sending" (their worker died) back in the queue."""
    reclaimed = webhook_delivery.deliveries_reclaim()
    if reclaimed:
        logger.warning("Reclaimed %d webhook deliveries stuck in sending.", reclaimed)
        enqueue_on_commit(deliver_webhooks)
    return reclaimed


@shared_task(**RETRY)
def emit_scan_events() -> int:
    """Turn admitted entry and exit scans recorded since the last run into hand-over webhook
    events (``handover.scan_events``); delivery is kicked once they commit."""
    offered = events.scan_events_emit()
    if offered:
        logger.info("Queued %d webhook deliveries for scans.", offered)
    return offered
