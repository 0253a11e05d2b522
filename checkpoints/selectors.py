"""Reads on the checkpoint side."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from checkpoints import verification
from checkpoints.models import Direction, Reason, ScanEvent
from passcode_portal.errors import NotFound
from passcode_portal.ttlcache import TTLCache
from places.models import Checkpoint
from trucks import selectors as trucks_selectors
from trucks import services as trucks_services
from trucks.models import Pass


def checkpoints_active() -> QuerySet[Checkpoint]:
    """Checkpoints in service, the ones a trip may name as its entry."""
    return Checkpoint.objects.filter(active=True).order_by("code")


_by_code: TTLCache[Checkpoint | None] = TTLCache(lambda: settings.HOT_CACHE_SECONDS)


def checkpoint_by_code(code: str) -> Checkpoint:
    """An open checkpoint by its code, kept a few seconds in the process (a scan reads it on
    every request). Unknown or closed checkpoints are absent."""
    checkpoint = _by_code.get_or_load(
        code, lambda: Checkpoint.objects.filter(code=code, active=True).first()
    )
    if checkpoint is None:
        raise NotFound("not_found", _("No such checkpoint."))
    return checkpoint


# What a scan's answer shows of its related rows (``checkpoints.scan_bodies.scan_body``),
# loaded with the scan wherever an answer is read from the record.
SCAN_ANSWER_RELATED = (
    "trip_pass",
    "trip",
    "trip__vehicle",
    "trip__driver",
    "trip__entry_checkpoint",
    "overridden_by",
    "earlier_refusal",
)


def scans_recent(*, checkpoint: Checkpoint, staff: User, limit: int = 20) -> QuerySet[ScanEvent]:
    """The staff member's latest scans at this checkpoint, newest first, with their trips'
    co-riders (the persons expected)."""
    return (
        ScanEvent.objects.filter(checkpoint=checkpoint, staff=staff)
        .select_related(*SCAN_ANSWER_RELATED)
        .prefetch_related("trip__co_riders")
        .order_by("-received_at")[:limit]
    )


# Refusals that say a pass is done with (used up, revoked, its trip cancelled, its window over):
# scanning it again checks nothing. Any other refusal (a red code, a window not open yet, a
# copied code) is still a check to make and record.
CLOSED_REASONS = frozenset({Reason.USED, Reason.REVOKED, Reason.CANCELLED, Reason.EXPIRED})


def pass_closed_reason(
    pass_: Pass, *, checkpoint: Checkpoint, direction: str | None = None, at: datetime | None = None
) -> str | None:
    """Why a scan of the pass here would check nothing, as the reason the scan would give
    (``verification.decide``, so the rule is the scan's own); None while it can still be
    verified: in ``direction``, or in either direction when none is given (a truck inside may
    still leave on a pass whose window is over)."""
    trip = pass_.trip
    facts = verification.Facts(
        direction=Direction.IN,
        at=at or timezone.now(),
        pass_status=pass_.status,
        colour=pass_.colour,
        valid_from=pass_.valid_from,
        valid_until=pass_.valid_until,
        trip_status=trip.status,
        multi_entry=trip.multi_entry,
        registered_plate=trip.vehicle.plate,
        entry_checkpoint_id=trip.entry_checkpoint_id,
        checkpoint_id=checkpoint.pk,
        strict_checkpoint=trucks_services.policy_current_cached().strict_checkpoint,
        persons_expected=1,
    )
    reasons = [
        verification.decide(replace(facts, direction=d)).reason
        for d in ([direction] if direction else [Direction.IN, Direction.OUT])
    ]
    return reasons[0] if all(r in CLOSED_REASONS for r in reasons) else None


def passes_for_lookup(
    *, checkpoint: Checkpoint, plate: str = "", reference: str = "", at: datetime | None = None
) -> list[Pass]:
    """Today's passes for a plate, or the pass of a trip reference printed on a paper pass, so
    staff can verify a driver without a phone. Active passes whose window holds ``at`` come
    first, then those opening or closing later today, so a driver early or late is still found."""
    at = at or timezone.now()
    day_start = timezone.localtime(at).replace(hour=0, minute=0, second=0, microsecond=0)
    day_end = day_start + timedelta(days=1)
    passes = Pass.objects.select_related(
        "trip", "trip__vehicle", "trip__driver", "trip__entry_checkpoint"
    ).filter(valid_from__lt=day_end, valid_until__gt=day_start)
    # A blank field sent beside a filled one (a form posts both) must not hide the other.
    reference, plate = reference.strip(), plate.strip()
    if reference:
        passes = passes.filter(trip__reference=reference.upper())
    elif plate:
        # Every vehicle the plate may name is listed (a plate without its province character
        # may end several): staff pick the one at the gate.
        passes = passes.filter(trip__vehicle__in=trucks_selectors.vehicles_by_plate(plate))
    else:
        return []
    found = list(passes.order_by("-issued_at")[:10])
    found.sort(key=lambda p: (p.status != "active", not (p.valid_from <= at < p.valid_until)))
    return found
