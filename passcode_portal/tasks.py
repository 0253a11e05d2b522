"""Enqueueing Celery tasks safely.

A task is sent only after the transaction that made its work commits (a worker must not look
for rows that are not there yet), and a broker that is down never fails the request that
enqueued: the work is already recorded in a table (the outbox, a status), and a periodic sweep
sends it once the broker is back. Pretix's base/services/tasks.py is the model.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import OperationalError, transaction

logger = logging.getLogger(__name__)

# Shared options: retried while the database is unreachable (a failover, a restart), with
# exponential backoff and jitter, up to about ten minutes.
RETRY: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 6,
}


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    def send() -> None:
        try:
            task.apply_async(args=args, kwargs=kwargs, retry=False)
        except Exception:  # the broker is down or unreachable: the sweep will pick it up
            logger.warning("Could not enqueue %s; a periodic sweep will do it.", task.name)

    send.task = task  # type: ignore[attr-defined]
    transaction.on_commit(send)


def enqueue_once_on_commit(task: Any) -> None:
    """``enqueue_on_commit`` of a task that takes no arguments, once per transaction however
    often it is asked for (a regrade of thousands of passes queues thousands of rows and asks
    for one send)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        getattr(entry[1], "task", None) is task for entry in connection.run_on_commit
    ):
        return
    enqueue_on_commit(task)
