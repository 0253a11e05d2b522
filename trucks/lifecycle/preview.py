"""What a change of risk levels or of the policy would do to the active passes, before an
official makes it: how many would change colour, from which colour to which.

The passes are graded here with ``grading.grade`` as the regrade after the change would grade
them (``regrading``), against the hypothetical levels or policy, and each is compared with the
colour it holds now: that is the change its driver would see. Only the passes the change would
regrade are read (a region's passes, and those of the regions below it; every active pass for a
policy), in chunks of LIFECYCLE_REGRADE_CHUNK by id, two queries a chunk, with no lock and no
write: a preview may run while passes are being scanned and regraded, and is a moment's view.
"""

from __future__ import annotations

import functools
import operator
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from passcode_portal.errors import DomainError
from places.models import Region, RiskLevel
from trucks import grading, services
from trucks.lifecycle.regrading import in_region
from trucks.models import Pass, PassStatus, Trip

_TravelHistory = Trip.travel_history.through
_COLOURS = (grading.GREEN, grading.YELLOW, grading.RED)


@dataclass(frozen=True)
class Preview:
    """``checked`` active passes would be regraded; ``moves`` counts those that would change
    colour by (colour now, colour after)."""

    checked: int
    moves: Mapping[tuple[str, str], int]

    @property
    def changed(self) -> int:
        return sum(self.moves.values())

    def rows(self) -> list[tuple[str, str, int]]:
        """The moves as (from, to, how many), in a fixed order: from green, yellow, red, each to
        green, yellow, red."""
        return [
            (before, after, self.moves[before, after])
            for before in _COLOURS
            for after in _COLOURS
            if self.moves.get((before, after))
        ]


def passes_preview(
    *,
    risk_levels: Mapping[str, str] | None = None,
    policy_fields: Mapping[str, Any] | None = None,
) -> Preview:
    """How the active passes would change colour were the regions in ``risk_levels`` (code to
    level) set so, and/or the policy published with ``policy_fields`` changed. Region codes are
    the caller's, already checked (``services.regions_chosen``)."""
    risk_levels = dict(risk_levels or {})
    if any(level not in RiskLevel.values for level in risk_levels.values()):
        raise DomainError(
            "validation_error",
            _("Some fields are not valid."),
            fields={"risk_level": [_("Choose low, medium or high.")]},
        )
    if policy_fields:
        scope = Q()
    elif risk_levels:
        scope = functools.reduce(
            operator.or_, (in_region(code) for code in grading.topmost_codes(risk_levels))
        )
    else:
        return Preview(checked=0, moves={})
    rules = (
        services.policy_draft(fields=policy_fields) if policy_fields else services.policy_current()
    )
    # Few regions are ever above low risk (a partial index holds exactly those); a hypothetical
    # "low" is kept in the map, where it overrides nothing above it, as effective_risk reads it.
    risk = dict(Region.objects.exclude(risk_level=RiskLevel.LOW).values_list("code", "risk_level"))
    risk.update(risk_levels)
    moves: Counter[tuple[str, str]] = Counter()
    checked, last_id = 0, 0
    while True:
        passes = list(
            Pass.objects.filter(scope, status=PassStatus.ACTIVE, pk__gt=last_id)
            .order_by("pk")
            .values(
                "pk",
                "colour",
                "trip_id",
                "trip__origin_region_id",
                "trip__test_result",
                "trip__test_sampled_at",
                "trip__planned_arrival",
            )[: settings.LIFECYCLE_REGRADE_CHUNK]
        )
        if not passes:
            return Preview(checked=checked, moves=dict(moves))
        history: dict[int, list[str]] = defaultdict(list)
        for row in _TravelHistory.objects.filter(trip_id__in={p["trip_id"] for p in passes}).values(
            "trip_id", "region_id"
        ):
            history[row["trip_id"]].append(row["region_id"])
        for pass_ in passes:
            colour = grading.grade(
                rules=rules,
                origin=pass_["trip__origin_region_id"],
                travel_history=history[pass_["trip_id"]],
                risk_by_code=risk,
                test_result=pass_["trip__test_result"],
                test_sampled_at=pass_["trip__test_sampled_at"],
                planned_arrival=pass_["trip__planned_arrival"],
            ).colour
            if colour != pass_["colour"]:
                moves[pass_["colour"], colour] += 1
        checked += len(passes)
        last_id = passes[-1]["pk"]
