"""Enqueueing Celery tasks safely.

A task is sent only after the transaction that made its work commits (a worker must not look
for rows that are not there yet), and a broker that is down never fails the request that
enqueued: the work is already recorded in a table (the outbox, a status), and a periodic sweep
sends it once the broker is back. Pretix's base/services/tasks.py is the model.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    def send() -> None:
        try:
            task.apply_async(args=args, kwargs=kwargs, retry=False)
        except Exception:  # the broker is down or unreachable: the sweep will pick it up
            logger.warning("Could not enqueue %s; a periodic sweep will do it.", task.name)

    transaction.on_commit(send)
