"""Within notifications: the outbox says it queued rows, and the app's receivers ask a worker
to send them (the outbox never imports the task layer, which imports it)."""

from __future__ import annotations

from django.dispatch import Signal

# Rows were queued or queued again in the current transaction: ``count``.
notifications_queued = Signal()
