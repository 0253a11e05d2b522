"""What the registration side tells the apps above it (docs/architecture.md, "Apps and the
direction of imports"). Each signal is sent inside the transaction of its cause, so a receiver
that writes rows (the outbox, the hand-over log) writes them in that transaction: they commit
with the cause or not at all.

The apps above connect their receivers in their ``AppConfig.ready``; this app never imports
them.
"""

from __future__ import annotations

from django.dispatch import Signal

# A trip was registered and its pass issued: ``trip``, ``pass_``.
trip_registered = Signal()
# A trip was repeated (``trucks.services.series``): ``series`` and the ``trips`` registered, each
# with its pass issued. Sent once for the series, instead of ``trip_registered`` for each trip.
trip_series_registered = Signal()
# A series was cancelled: ``series`` and the ``trips`` it cancelled (none entered yet).
trip_series_cancelled = Signal()
# A pass was revoked (the trip cancelled, a new pass replacing it): ``pass_``, ``reason``, ``at``.
pass_revoked = Signal()
# A dispatcher gave a trip another driver before its window opened: ``trip`` (with its new
# driver), ``pass_`` (the new pass, graded for the new driver's test; the old one was revoked)
# and ``previous_driver``.
trip_driver_changed = Signal()
# Passes changed colour: ``changes`` (a list of the pass and its colour before), ``policy`` (the
# version that graded them) and ``tell_drivers`` (False where the driver saw it happen, e.g.
# uploading a test result).
passes_recoloured = Signal()
# A policy version was published: ``policy``. Every active pass is to be regraded under it.
policy_published = Signal()
# An official changed a region's risk level: ``region``. Its passes are to be regraded. When
# many regions change together, it is sent for the topmost of them only, whose passes include
# those of the regions changed below it.
region_risk_changed = Signal()
# Closed trips lost their personal data: ``trip_ids``. Each receiver clears its own copies and
# answers a mapping of what it cleared to how many rows (``{"notifications": 12}``).
trips_anonymised = Signal()
# What a row given up for this reason records as its last error (stored like the senders' error
# texts, which are the exceptions' own words, in English).
RETENTION_ERROR = "personal data removed after the retention period"
# An import of trips has a step for a worker (``status`` validating or registering):
# ``trip_import``. The app's own receiver queues the step's task once this commits.
trip_import_queued = Signal()
