"""Within hand-over: the services say they queued deliveries, and the app's receivers ask a
worker to deliver them (the services never import the task layer, which imports them)."""

from __future__ import annotations

from django.dispatch import Signal

# Deliveries were queued or queued again in the current transaction: ``count``.
deliveries_queued = Signal()
