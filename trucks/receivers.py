"""The registration side's own receivers: a new policy version or a region's new risk level has
every affected pass regraded by a worker once the change commits (``trucks.tasks``). Should the
task be lost (the broker down), the periodic sweep regrades them (``regrade_stale``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from passcode_portal.tasks import enqueue_on_commit
from places.models import Region
from trucks import signals, tasks
from trucks.models import Policy


@receiver(signals.policy_published)
def regrade_under_the_new_policy(sender: type[Policy], policy: Policy, **kwargs: Any) -> None:
    enqueue_on_commit(tasks.regrade_all)


@receiver(signals.region_risk_changed)
def regrade_the_region(sender: type[Region], region: Region, **kwargs: Any) -> None:
    enqueue_on_commit(tasks.regrade_region, region.code)
