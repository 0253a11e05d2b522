"""Officials set a region's risk level."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from passcode_portal.errors import DomainError, PermissionDenied
from places.models import Region, RiskLevel
from trucks import signals
from trucks.roles import is_official


def region_set_risk(*, actor: User, region: Region, risk_level: str) -> Region:
    """Set a region's risk level, recorded with who and when in its history. The active passes
    whose origin or travel history lies in it or below it are regraded by a worker once the
    change commits (``trucks.tasks.regrade_region``), in chunks; should that task be
    lost (the broker down), the periodic sweep regrades them (``regrade_stale``)."""
    if not is_official(actor):
        raise PermissionDenied("not_allowed", _("Only officials set region risk levels."))
    if risk_level not in RiskLevel.values:
        raise DomainError(
            "validation_error",
            _("Some fields are not valid."),
            fields={"risk_level": [_("Choose low, medium or high.")]},
        )
    with transaction.atomic():
        region = Region.objects.select_for_update().get(pk=region.pk)
        if region.risk_level == risk_level:
            return region
        region.risk_level = risk_level
        region.risk_changed_at = timezone.now()
        region._history_user = actor  # type: ignore[attr-defined]
        region.save(update_fields=["risk_level", "risk_changed_at"])
        signals.region_risk_changed.send(sender=Region, region=region)
    return region
