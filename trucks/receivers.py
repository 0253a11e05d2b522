"""The registration side's own receivers: a new policy version or a region's new risk level has
every affected pass regraded by a worker once the change commits (``trucks.tasks``). Should the
task be lost (the broker down), the periodic sweep regrades them (``regrade_stale``). An
import of trips has its next step taken by a worker the same way (``sweep_trip_imports``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from passcode_portal.tasks import enqueue_on_commit
from places.models import Region
from trucks import signals, tasks
from trucks.models import Policy, TripImport


@receiver(signals.policy_published)
def regrade_under_the_new_policy(sender: type[Policy], policy: Policy, **kwargs: Any) -> None:
    enqueue_on_commit(tasks.regrade_all)


@receiver(signals.region_risk_changed)
def regrade_the_region(sender: type[Region], region: Region, **kwargs: Any) -> None:
    enqueue_on_commit(tasks.regrade_region, region.code)


@receiver(signals.trip_import_queued)
def work_on_the_import(sender: type[TripImport], trip_import: TripImport, **kwargs: Any) -> None:
    if trip_import.status == TripImport.Status.REGISTERING:
        enqueue_on_commit(tasks.register_trip_import, trip_import.pk)
    else:
        enqueue_on_commit(tasks.validate_trip_import, trip_import.pk)
