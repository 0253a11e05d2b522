"""The roll-ups follow what changes a counted row's place in them (``dashboards.rollups``), in the
transaction of the change: an overridden refusal becomes an admission, a recoloured pass moves
to its new colour."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from checkpoints import signals as checkpoint_signals
from checkpoints.models import ScanEvent
from dashboards import rollups
from trucks import signals as trip_signals
from trucks.models import Pass


@receiver(checkpoint_signals.scan_overridden)
def count_override(sender: type[ScanEvent], scan: ScanEvent, **kwargs: Any) -> None:
    rollups.move_override(scan)


@receiver(trip_signals.passes_recoloured)
def count_recolour(sender: type[Pass], changes: list[tuple[Pass, str]], **kwargs: Any) -> None:
    rollups.move_recoloured(changes)
