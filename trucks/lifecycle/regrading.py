"""Passes regraded when a region's risk level or the policy changes, and the sweep that makes
sure no change is lost."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Min, OuterRef, Q
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from places.models import Region, RiskLevel
from trucks import grading, services, signals
from trucks.lifecycle.deadlines import deadline_passed
from trucks.models import Pass, PassStatus, Trip


@dataclass
class Regraded:
    checked: int = 0
    changed: int = 0
    notified: int = 0
    last_id: int = 0
    finished: bool = True

    def add(self, other: Regraded) -> None:
        self.checked += other.checked
        self.changed += other.changed
        self.notified += other.notified
        self.finished = other.finished


# The sweep treats a pass graded up to this long after a region's level changed as graded
# before it. The change's time is taken inside its transaction, so a registration that read the
# old level just before the change committed stamps its pass a moment after that time, and may
# commit after the region's task looked. The price: passes that task regraded within the margin
# are regraded once more by the next sweep (finding nothing to change).
SWEEP_MARGIN = timedelta(seconds=30)

_TravelHistory = Trip.travel_history.through


def region_prefix(code: str) -> str:
    """The code prefix shared by a region and the regions below it (GB/T 2260: a province is
    XX0000, a city XXYY00; a county's last two digits are never 00)."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def in_region(code: str) -> Q:
    """Passes whose trip starts in the region, or passed through it, or a region below it."""
    prefix = region_prefix(code)
    travelled = _TravelHistory.objects.filter(
        trip_id=OuterRef("trip_id"), region__code__startswith=prefix
    )
    return Q(trip__origin_region__code__startswith=prefix) | Q(Exists(travelled))


def _regrade_chunk(ids: list[int], *, reason: str) -> Regraded:
    """Regrade these passes in one transaction. Their trips, travel histories and the regions'
    risk levels are read for the whole chunk in three queries, the grades computed here; passes
    whose grade stands are stamped in one UPDATE, and only those that change are saved one by
    one through ``services.pass_regrade``, so the pass history records each change with its
    rule version (and the change reason), and the hand-over webhook hears of it. Each driver
    whose colour changed is told the new colour and why, in their language."""
    result = Regraded()
    with transaction.atomic():
        policy = services.policy_current()
        now = timezone.now()
        # Locked, so that two regrades (the region's task and the sweep) do not both save a
        # change: the second waits, then sees the new colour and leaves the pass alone.
        passes = list(
            Pass.objects.select_for_update(of=("self",))
            .select_related(
                "trip", "trip__driver", "trip__vehicle", "trip__entry_checkpoint", "trip__consignee"
            )
            .filter(pk__in=ids, status=PassStatus.ACTIVE)
            .order_by("pk")
        )
        history: dict[int, list[str]] = defaultdict(list)
        for trip_id, code in _TravelHistory.objects.filter(
            trip_id__in={p.trip_id for p in passes}
        ).values_list("trip_id", "region_id"):
            history[trip_id].append(code)
        # Few regions are ever above low risk (a partial index holds exactly those).
        risk = dict(
            Region.objects.exclude(risk_level=RiskLevel.LOW).values_list("code", "risk_level")
        )
        standing: list[int] = []
        changing: list[tuple[Pass, grading.Grade]] = []
        for pass_ in passes:
            trip = pass_.trip
            grade = grading.grade(
                rules=policy,
                origin=trip.origin_region_id,
                travel_history=history[trip.pk],
                risk_by_code=risk,
                test_result=trip.test_result,
                test_sampled_at=trip.test_sampled_at,
                planned_arrival=trip.planned_arrival,
            )
            if (pass_.colour, pass_.reasons) == (grade.colour, grade.reasons_json):
                standing.append(pass_.pk)
            else:
                changing.append((pass_, grade))
        if standing:
            # Graded again under this version: the sweep need not look at them again.
            Pass.objects.filter(pk__in=standing).update(
                graded_at=now, policy_version=policy.version
            )
        # The changes in bulk: one UPDATE per chunk, their history rows in one INSERT (each
        # with the rule version and the reason), their hand-over events in one more.
        recolored: list[tuple[Pass, str]] = []
        for pass_, grade in changing:
            before = pass_.colour
            pass_.colour, pass_.reasons = grade.colour, grade.reasons_json
            pass_.policy_version, pass_.graded_at = grade.policy_version, now
            if pass_.colour != before:
                recolored.append((pass_, before))
        if changing:
            bulk_update_with_history(
                [p for p, _grade in changing],
                Pass,
                ["colour", "reasons", "policy_version", "graded_at"],
                batch_size=500,
                default_change_reason=reason[:100],
                default_date=now,
            )
            result.changed = len(changing)
        if recolored:
            # Hand-over hears of each new colour, and each driver is told it and why.
            signals.passes_recoloured.send(
                sender=Pass, changes=recolored, policy=policy, tell_drivers=True
            )
            result.notified = len(recolored)
        result.checked = len(passes)
    return result


def passes_regrade(
    *, scope: Q, reason: str, after_id: int = 0, deadline: float | None = None
) -> Regraded:
    """Regrade the active passes that ``scope`` selects, in chunks of LIFECYCLE_REGRADE_CHUNK
    by id from ``after_id``, each chunk its own transaction. Stops between chunks once
    ``deadline`` (``time.monotonic()``) has passed: ``finished`` is then False and ``last_id``
    says where to go on."""
    total = Regraded(last_id=after_id)
    while True:
        ids = list(
            Pass.objects.filter(scope, status=PassStatus.ACTIVE, pk__gt=total.last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[: settings.LIFECYCLE_REGRADE_CHUNK]
        )
        if not ids:
            total.finished = True
            return total
        total.add(_regrade_chunk(ids, reason=reason))
        total.last_id = ids[-1]
        if deadline_passed(deadline):
            total.finished = False
            return total


def passes_regrade_region(
    *, code: str, after_id: int = 0, deadline: float | None = None
) -> Regraded:
    """After a region's risk level changed: its passes, and those of the regions below it."""
    return passes_regrade(
        scope=in_region(code),
        reason=f"risk level of region {code}",
        after_id=after_id,
        deadline=deadline,
    )


def passes_regrade_all(*, after_id: int = 0, deadline: float | None = None) -> Regraded:
    """After a new policy version: every active pass."""
    version = services.policy_current().version
    return passes_regrade(
        scope=Q(), reason=f"policy version {version}", after_id=after_id, deadline=deadline
    )


def passes_regrade_stale(*, deadline: float | None = None) -> Regraded:
    """The sweep that makes sure no change is lost when its task was (the broker down when the
    change committed, a worker killed): regrade active passes graded under an older policy
    version, and passes graded before their region's risk level last changed. Both are cheap
    when nothing is stale: a query on the active passes' versions, their oldest grading time,
    and the regions changed since."""
    policy = services.policy_current()
    total = passes_regrade(
        scope=Q(policy_version__lt=policy.version),
        reason=f"policy version {policy.version}",
        deadline=deadline,
    )
    if not total.finished:
        return total
    oldest = Pass.objects.filter(status=PassStatus.ACTIVE).aggregate(oldest=Min("graded_at"))
    if oldest["oldest"] is None:
        return total
    changed = Region.objects.filter(risk_changed_at__gt=oldest["oldest"] - SWEEP_MARGIN)
    for code, changed_at in changed.order_by("risk_changed_at").values_list(
        "code", "risk_changed_at"
    ):
        assert changed_at is not None  # filtered above
        total.add(
            passes_regrade(
                scope=in_region(code) & Q(graded_at__lt=changed_at + SWEEP_MARGIN),
                reason=f"risk level of region {code}",
                deadline=deadline,
            )
        )
        if not total.finished or deadline_passed(deadline):
            total.finished = False
            return total
    return total
