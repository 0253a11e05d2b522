"""Celery tasks that send the outbox. They take no ids: the table is the queue, and whichever
task runs first sends whatever is due. So a lost task loses nothing (beat runs the sender every
30 s), and tasks running side by side share the work through the claim
(``notifications.sending``)."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from notifications import reminders
from notifications import sending as notify
from passcode_portal.tasks import RETRY, enqueue_once_on_commit

__all__ = ["kick_sender", "reclaim_notifications", "send_notifications", "send_reminders"]

logger = logging.getLogger(__name__)

# Below the soft time limit (CELERY_TASK_SOFT_TIME_LIMIT, 240 s): the task stops claiming
# and returns; what is left is due for the next run, at most 30 s later.
SEND_BUDGET = timedelta(seconds=120)


@shared_task(**RETRY)
def send_notifications() -> int:
    """Send due notifications, batch after batch, until none is due or the budget is spent."""
    sent = notify.notifications_send_due(deadline=timezone.now() + SEND_BUDGET)
    if sent:
        logger.info("Sent %d notifications.", sent)
    return sent


@shared_task(**RETRY)
def reclaim_notifications() -> int:
    """Put notifications stuck in "sending" (their worker died) back in the queue."""
    reclaimed = notify.notifications_reclaim()
    if reclaimed:
        logger.warning("Reclaimed %d notifications stuck in sending.", reclaimed)
        kick_sender()
    return reclaimed


def kick_sender() -> None:
    """Ask a worker to send the outbox once the current transaction commits. Call it after
    queueing rows (``notifications.outbox.queue``); if the broker is down, nothing fails and the
    periodic run sends the rows. Once per transaction: one send takes every row pending, so an
    import registering hundreds of trips in a transaction asks for one, not one per trip."""
    enqueue_once_on_commit(send_notifications)


@shared_task(soft_time_limit=240, time_limit=300, **RETRY)
def send_reminders() -> int:
    """Every five minutes: queue the reminders now due (each is queued once)."""
    reminded = reminders.reminders_queue()
    total = reminded.window + reminded.test + reminded.expiry
    if total:
        logger.info(
            "Reminded %d drivers of windows, %d of stale tests, %d of expiring passes.",
            reminded.window,
            reminded.test,
            reminded.expiry,
        )
    return total
