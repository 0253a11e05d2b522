"""Officials set regions' risk levels: one region (the API), or many at once (the officials'
page), a list of them or a whole city or province with everything below it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.utils import bulk_update_with_history

from passcode_portal.errors import DomainError, PermissionDenied
from places.models import Region, RiskLevel
from trucks import grading, signals
from trucks.roles import is_official

# At most this many regions named at once: a page of the officials' list, and then some. A
# whole province is named by its one code (``below``).
MAX_CHOSEN = 200
# The history's change reason is a column of 100 characters.
MAX_REASON = 100
# The reason kept on a region's first history row, written just before its first change.
BASELINE_REASON = "level before the first recorded change"


@dataclass
class RiskSet:
    """What ``regions_set_risk`` did: the regions it changed, those already at the level, and
    the regions whose passes are regraded (the topmost of those changed)."""

    changed: list[Region] = field(default_factory=list)
    unchanged: list[Region] = field(default_factory=list)
    regraded: list[str] = field(default_factory=list)


def _invalid(**fields: list[str]) -> DomainError:
    return DomainError("validation_error", _("Some fields are not valid."), fields=fields)


def _check_level(risk_level: str) -> None:
    if risk_level not in RiskLevel.values:
        raise _invalid(risk_level=[_("Choose low, medium or high.")])


def regions_chosen(codes: Iterable[str], *, below: bool = False) -> list[Region]:
    """The regions of ``codes``, and with ``below`` every region under each of them (a city's
    counties, a province's cities and counties), in code order. An unknown code is refused, with
    the codes named."""
    wanted = sorted({str(code).strip() for code in codes} - {""})
    if not wanted:
        raise _invalid(regions=[_("Choose at least one region.")])
    if len(wanted) > MAX_CHOSEN:
        raise _invalid(
            regions=[
                _("Choose at most %(n)d regions at once, or a whole city or province.")
                % {"n": MAX_CHOSEN}
            ]
        )
    found = Region.objects.filter(pk__in=wanted)
    unknown = sorted(set(wanted) - set(found.values_list("code", flat=True)))
    if unknown:
        raise _invalid(regions=[_("No such region: %(codes)s.") % {"codes": ", ".join(unknown)}])
    if below:
        found = Region.objects.filter(
            Q(pk__in=wanted) | Q(parent__in=wanted) | Q(parent__parent__in=wanted)
        )
    return list(found.order_by("code"))


def _history_baseline(regions: Sequence[Region], *, at: datetime) -> None:
    """Regions are loaded in bulk, without history rows: before a region's first change, its
    state as it stands is recorded as its first history row (what simple-history's
    ``populate_history`` does), so the change shows what the level was before it."""
    recorded = set(
        Region.history.filter(code__in=[r.code for r in regions])
        .values_list("code", flat=True)
        .distinct()
    )
    missing = [r for r in regions if r.code not in recorded]
    if missing:
        Region.history.bulk_history_create(
            missing, default_date=at, default_change_reason=BASELINE_REASON
        )


def region_set_risk(*, actor: User, region: Region, risk_level: str) -> Region:
    """Set a region's risk level, recorded with who and when in its history. The active passes
    whose origin or travel history lies in it or below it are regraded by a worker once the
    change commits (``trucks.tasks.regrade_region``), in chunks; should that task be
    lost (the broker down), the periodic sweep regrades them (``regrade_stale``)."""
    if not is_official(actor):
        raise PermissionDenied("not_allowed", _("Only officials set region risk levels."))
    _check_level(risk_level)
    with transaction.atomic():
        region = Region.objects.select_for_update().get(pk=region.pk)
        if region.risk_level == risk_level:
            return region
        _history_baseline([region], at=timezone.now())
        region.risk_level = risk_level
        region.risk_changed_at = timezone.now()
        region._history_user = actor  # type: ignore[attr-defined]
        region.save(update_fields=["risk_level", "risk_changed_at"])
        signals.region_risk_changed.send(sender=Region, region=region)
    return region


def regions_set_risk(
    *, actor: User, codes: Iterable[str], risk_level: str, reason: str, below: bool = False
) -> RiskSet:
    """Set the risk level of many regions at once, in one transaction: those of ``codes``, and
    with ``below`` every region under them (``regions_chosen``). Each changed row's history
    records who, the level before and after, and ``reason``. One regrade task follows per
    topmost changed region, whose passes include those of the regions changed below it."""
    if not is_official(actor):
        raise PermissionDenied("not_allowed", _("Only officials set region risk levels."))
    _check_level(risk_level)
    reason = " ".join(reason.split())
    if not reason:
        raise _invalid(reason=[_("Say why the risk level changes.")])
    if len(reason) > MAX_REASON:
        raise _invalid(
            reason=[
                ngettext(
                    "Keep the reason to %(n)d character.",
                    "Keep the reason to %(n)d characters.",
                    MAX_REASON,
                )
                % {"n": MAX_REASON}
            ]
        )
    chosen = [r.code for r in regions_chosen(codes, below=below)]
    done = RiskSet()
    with transaction.atomic():
        # In code order, so two officials changing overlapping regions wait for each other
        # instead of deadlocking.
        for region in Region.objects.select_for_update().filter(pk__in=chosen).order_by("code"):
            (done.unchanged if region.risk_level == risk_level else done.changed).append(region)
        if not done.changed:
            return done
        now = timezone.now()
        _history_baseline(done.changed, at=now)
        for region in done.changed:
            region.risk_level, region.risk_changed_at = risk_level, now
        bulk_update_with_history(
            done.changed,
            Region,
            ["risk_level", "risk_changed_at"],
            batch_size=500,
            default_user=actor,
            default_change_reason=reason,
            default_date=now,
        )
        by_code = {r.code: r for r in done.changed}
        done.regraded = grading.topmost_codes(by_code)
        for code in done.regraded:
            signals.region_risk_changed.send(sender=Region, region=by_code[code])
    return done
