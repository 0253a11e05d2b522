"""The dashboards' own receivers, each in the transaction of its cause.

- The roll-ups follow what changes a counted row's place in them (``dashboards.rollups``): an
  overridden refusal becomes an admission, a confirmed other plate a refusal, a recoloured pass
  moves to its new colour.
- A queued export is built by a worker once its row commits (``dashboards.tasks``). Should the
  task be lost (the broker down), the periodic sweep queues it again."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from checkpoints import signals as checkpoint_signals
from checkpoints.models import ScanEvent
from dashboards import rollups, signals, tasks
from dashboards.models import Export
from passcode_portal.tasks import enqueue_on_commit
from trucks import signals as trip_signals
from trucks.models import Pass


@receiver(checkpoint_signals.scan_reclassified)
def count_reclassified(
    sender: type[ScanEvent], scan: ScanEvent, before: dict[str, Any], **kwargs: Any
) -> None:
    rollups.move_reclassified(scan, before)


@receiver(trip_signals.passes_recoloured)
def count_recolour(sender: type[Pass], changes: list[tuple[Pass, str]], **kwargs: Any) -> None:
    rollups.move_recoloured(changes)


@receiver(signals.export_queued)
def build_the_export(sender: type[Export], export: Export, **kwargs: Any) -> None:
    enqueue_on_commit(tasks.build_export, export.pk)
