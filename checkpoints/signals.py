"""What the checkpoint side tells the apps above it. Each signal is sent inside the transaction
of its cause, so the receivers' rows (the outbox, the hand-over log) commit with it or not at
all. Scans themselves are not announced: hand-over reads them from the scan log afterwards
(``handover.scan_events``), which keeps the scan's own transaction to two statements.
"""

from __future__ import annotations

from django.dispatch import Signal

# The consignee confirmed a truck's arrival: ``trip`` (with ``arrived_at`` set).
trip_arrived = Signal()
# Overdue alerts were raised, one per trip: ``trips``, ``kind`` (an ``Alert.Kind``), ``cause``
# ("arrival" or "exit"), ``at`` (the alerts' time). Only the alerts this run created.
trips_overdue = Signal()

# A recorded scan now counts as something else: a supervisor overrode its refusal, or staff
# confirmed a plate other than the registered one. ``scan`` (its row locked, changed) and
# ``before`` (its ``verdict``, ``reason`` and ``overridden`` before the change).
scan_reclassified = Signal()
