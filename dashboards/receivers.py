"""The dashboards' own receivers: a queued export is built by a worker once its row commits
(``dashboards.tasks``). Should the task be lost (the broker down), the periodic sweep queues it
again."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from dashboards import signals, tasks
from dashboards.models import Export
from passcode_portal.tasks import enqueue_on_commit


@receiver(signals.export_queued)
def build_the_export(sender: type[Export], export: Export, **kwargs: Any) -> None:
    enqueue_on_commit(tasks.build_export, export.pk)
