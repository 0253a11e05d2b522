"""Grading a trip and issuing, regrading and revoking its pass."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from django.contrib.auth.models import User
from django.utils import timezone

from places.models import Region
from trucks import grading, passcode, signals
from trucks.models import (
    Pass,
    PassStatus,
    Policy,
    Trip,
)
from trucks.services.policy import pass_window, policy_current


def trip_grade(
    *,
    trip: Trip,
    policy: Policy,
    travel_history: Sequence[str] | None = None,
    raised_risks: Mapping[str, str] | None = None,
) -> grading.Grade:
    """The trip's grade; ``raised_risks`` (every region whose level is not low, read once for
    many trips) spares the query for them."""
    history = (
        list(travel_history)
        if travel_history is not None
        else list(trip.travel_history.values_list("code", flat=True))
    )
    codes = grading.ancestor_codes([trip.origin_region_id, *history])
    if raised_risks is not None:
        risk = {code: raised_risks[code] for code in codes if code in raised_risks}
    else:
        risk = dict(
            Region.objects.filter(code__in=codes)
            .exclude(risk_level="low")
            .values_list("code", "risk_level")
        )
    return grading.grade(
        rules=policy,
        origin=trip.origin_region_id,
        travel_history=history,
        risk_by_code=risk,
        test_result=trip.test_result,
        test_sampled_at=trip.test_sampled_at,
        planned_arrival=trip.planned_arrival,
    )


def pass_issue(
    *,
    trip: Trip,
    policy: Policy | None = None,
    travel_history: Sequence[str] | None = None,
    replacing: str = Pass.REISSUED,
    actor: User | None = None,
    new_trip: bool = False,
    raised_risks: Mapping[str, str] | None = None,
) -> Pass:
    """Grade the trip and issue its pass, revoking any pass it held before (one active pass per
    trip, enforced by a partial unique index as well) for the reason ``replacing``; a trip
    written in this transaction (``new_trip``) has none to revoke."""
    policy = policy or policy_current()
    now = timezone.now()
    if not new_trip:
        revoke_active_passes(trip=trip, reason=replacing, now=now, actor=actor)
    result = trip_grade(
        trip=trip, policy=policy, travel_history=travel_history, raised_risks=raised_risks
    )
    valid_from, valid_until = pass_window(
        policy=policy, arrival=trip.planned_arrival, departure=trip.planned_departure
    )
    return Pass.objects.create(
        trip=trip,
        colour=result.colour,
        reasons=result.reasons_json,
        policy_version=result.policy_version,
        valid_from=valid_from,
        valid_until=valid_until,
        key_id=passcode.current_key_id(),
        issued_at=now,
        graded_at=now,
    )


def revoke_active_passes(
    *, trip: Trip, reason: str, now: datetime, actor: User | None = None
) -> None:
    """Revoke the trip's active pass (there is at most one) through save(), so that the
    revocation is audited in the pass history with who and when (docs/architecture.md, "Roles and
    access")."""
    for pass_ in Pass.objects.select_for_update().filter(trip=trip, status=PassStatus.ACTIVE):
        pass_.status = PassStatus.REVOKED
        pass_.revoked_at = now
        pass_.revoked_reason = reason
        pass_._history_user = actor  # type: ignore[attr-defined]
        pass_.save(update_fields=["status", "revoked_at", "revoked_reason"])
        # Hand-over: systems tracking the truck learn the code is void.
        signals.pass_revoked.send(sender=Pass, pass_=pass_, reason=reason, at=now)


def pass_regrade(*, pass_: Pass, policy: Policy | None = None) -> bool:
    """Grade an active pass again; save (and so record in its history) only if the colour or
    the reasons changed. Returns whether they did."""
    policy = policy or policy_current()
    result = trip_grade(trip=pass_.trip, policy=policy)
    if (pass_.colour, pass_.reasons) == (result.colour, result.reasons_json):
        return False
    previous_colour = pass_.colour
    pass_.colour = result.colour
    pass_.reasons = result.reasons_json
    pass_.policy_version = result.policy_version
    pass_.graded_at = timezone.now()
    pass_.save(update_fields=["colour", "reasons", "policy_version", "graded_at"])
    if pass_.colour != previous_colour:
        signals.passes_recoloured.send(
            sender=Pass, changes=[(pass_, previous_colour)], policy=policy, tell_drivers=False
        )
    return True


def pass_token(pass_: Pass) -> str:
    return passcode.encode(pass_id=pass_.pk, valid_until=pass_.valid_until)
