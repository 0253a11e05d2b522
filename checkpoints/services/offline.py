"""Scans a tablet decided without a connection and sends once it is back online
(docs/architecture.md, "Offline").

Each is recorded as the tablet decided it (verdict, reason, warnings), at the time it happened
on the server's clock; what happened at the gate is applied to the trip (an admitted entry puts
it inside, an admitted exit closes it); and the server's own ``decide``, on the facts as they
were at that time, checks it: an admission the server would have refused raises
``offline_conflict``, a clock far off raises ``offline_clock``. Both are keyed by the scan's
client id, so a scan sent again raises nothing twice (and is answered from its record).

Not the hot path: a tablet sends its queue once, so this takes the plain ORM, in one
transaction, under the trip's row lock as every scan does (``checkpoints.services.locked``): two
tablets' uploads admitting one pass are decided one after the other, and the second conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from checkpoints import verification
from checkpoints.models import (
    ADMITTED,
    ADMITTING_VERDICTS,
    Alert,
    Direction,
    Reason,
    ScanEvent,
    Verdict,
)
from checkpoints.services.alerts import forged_alert, raise_alert
from checkpoints.services.locked import digest_of, recorded_answer
from checkpoints.services.records import ScanInput, ScanOutcome
from places.models import Checkpoint
from trucks import passcode, validators
from trucks import services as trucks_services
from trucks.models import CoRider, Pass, PassStatus, Trip, TripStatus

# How old a scan may be when it reaches the server: a tablet is not offline longer than a shift
# or two, and its bundle holds no pass that ended longer ago than that.
OFFLINE_LIMIT = timedelta(hours=24)
# The tablet measures its clock against the server's at each sync; an offset larger than this, or
# a time it happened that is ahead of the server or older than a scan may be, is a clock to look
# at (``offline_clock``).
CLOCK_FAR_OFF = timedelta(minutes=5)
# Measured over the network, the offset can be wrong by a round trip, so a scan sent just after
# it was made may seem that much ahead of the server.
AHEAD = timedelta(minutes=1)

# What a refusal the tablet gave raises, as the online scan raises it (``verification.decide``).
_REFUSAL_ALERTS: dict[str, str] = {
    Reason.RED_CODE: Alert.Kind.RED_CODE,
    Reason.ALREADY_INSIDE: Alert.Kind.ALREADY_INSIDE,
    Reason.PLATE_MISMATCH: Alert.Kind.PLATE_MISMATCH,
}


@dataclass(frozen=True)
class Happened:
    """When an offline scan happened, on the server's clock."""

    happened: datetime  # the device's time corrected by its offset
    at: datetime  # as recorded: that, but never later than the time it reached the server
    clock_off: bool  # the device's clock was far off, or the time cannot be right


def happened_at(*, scanned_at: datetime, clock_offset_ms: int | None, now: datetime) -> Happened:
    happened = scanned_at + timedelta(milliseconds=clock_offset_ms or 0)
    offset = timedelta(milliseconds=abs(clock_offset_ms or 0))
    clock_off = offset > CLOCK_FAR_OFF or happened > now + AHEAD or happened < now - OFFLINE_LIMIT
    return Happened(happened=happened, at=min(happened, now), clock_off=clock_off)


def _by(when: datetime | None, at: datetime) -> bool:
    return when is not None and when <= at


def colour_then(pass_: Pass, at: datetime) -> str:
    """The pass's colour at ``at``: its colour now, unless it was graded again since, then the
    colour its history held at the time (every regrade is recorded there with its time;
    ``trucks.lifecycle.regrading``, ``trucks.services.pass_regrade``)."""
    if pass_.graded_at <= at:
        return pass_.colour
    then = (
        Pass.history.filter(id=pass_.pk, history_date__lte=at)
        .order_by("-history_date", "-history_id")
        .values_list("colour", flat=True)
        .first()
    )
    return str(then or pass_.colour)


def facts_then(
    *,
    trip: Trip,
    pass_: Pass,
    data: ScanInput,
    at: datetime,
    checkpoint: Checkpoint,
    persons_expected: int,
) -> verification.Facts:
    """The facts of an offline scan as they were at ``at``, from the trip and pass as they are
    now, with what came after the scan taken back where the tablet could not have known it: a
    revocation or cancellation later than the scan, the sweep that expired the pass since, an
    exit recorded later by a truck not yet entered (this entry was its way in) or inside at the
    time. What is not taken back is a second passage the same way, whichever came first: two
    entries of one pass with no exit between are a copied code, and so are two exits."""
    trip_status, pass_status = trip.status, pass_.status
    if trip_status == TripStatus.CANCELLED and not _by(trip.cancelled_at, at):
        trip_status = TripStatus.REGISTERED  # only a trip not yet entered is cancelled
    if pass_status == PassStatus.REVOKED and not _by(pass_.revoked_at, at):
        pass_status = PassStatus.ACTIVE
    if at < pass_.valid_until:
        if trip_status == TripStatus.EXPIRED:
            trip_status = TripStatus.REGISTERED
        if pass_status == PassStatus.EXPIRED:
            pass_status = PassStatus.ACTIVE
    left_later = (
        trip_status == TripStatus.EXITED
        and trip.exited_at is not None
        and trip.exited_at > at
        and not (trip.entered_at is not None and trip.entered_at > at)
    )
    if data.direction == Direction.IN and left_later:
        trip_status = TripStatus.REGISTERED if trip.entered_at is None else TripStatus.INSIDE
        if pass_status == PassStatus.COMPLETED:
            pass_status = PassStatus.ACTIVE
    observed = validators.normalise_plate(data.plate) if data.plate_mismatch_confirmed else ""
    return verification.Facts(
        direction=data.direction,
        at=at,
        pass_status=pass_status,
        colour=colour_then(pass_, at),
        valid_from=pass_.valid_from,
        valid_until=pass_.valid_until,
        trip_status=trip_status,
        multi_entry=trip.multi_entry,
        registered_plate=trip.vehicle.plate,
        entry_checkpoint_id=trip.entry_checkpoint_id,
        checkpoint_id=checkpoint.pk,
        strict_checkpoint=trucks_services.policy_current_cached().strict_checkpoint,
        persons_expected=persons_expected,
        observed_plate=observed,
        observed_persons=data.persons,
    )


def _locked(claims: passcode.Claims) -> tuple[Trip, Pass] | None:
    """The claimed pass and its trip, the trip's row locked first (as the scan and the trucks
    services lock them); None for no such pass or not this pass's window."""
    trip = (
        Trip.objects.select_for_update(of=("self",))
        .select_related("vehicle", "driver", "entry_checkpoint")
        .filter(passes__pk=claims.pass_id)
        .first()
    )
    if trip is None:
        return None
    pass_ = Pass.objects.get(pk=claims.pass_id)
    if passcode.window_minute(pass_.valid_until) != claims.valid_until:
        return None
    return trip, pass_


def _move(trip: Trip, now: datetime, **changes: object) -> None:
    Trip.objects.filter(pk=trip.pk).update(updated_at=now, **changes)
    for name, value in changes.items():
        setattr(trip, name, value)


def _apply(*, trip: Trip, pass_: Pass, direction: str, at: datetime, now: datetime) -> None:
    """What an admission at the gate did, on the trip (locked) and its pass: an entry puts the
    trip inside, unless it already is or is closed (a multi-entry trip that left before comes
    back in); an exit closes it as the online exit does, unless it came in again after."""
    if direction == Direction.IN:
        back_in = (
            trip.status == TripStatus.EXITED
            and trip.multi_entry
            and pass_.status == PassStatus.ACTIVE
            and _by(trip.exited_at, at)
        )
        if trip.status == TripStatus.REGISTERED or back_in:
            _move(trip, now, status=TripStatus.INSIDE, entered_at=at)
        return
    open_ = (TripStatus.REGISTERED, TripStatus.INSIDE, TripStatus.ARRIVED, TripStatus.EXPIRED)
    if trip.status not in open_ or (trip.entered_at is not None and trip.entered_at > at):
        return
    _move(trip, now, status=TripStatus.EXITED, exited_at=at)
    keeps_pass = trip.multi_entry and pass_.status == PassStatus.ACTIVE and at < pass_.valid_until
    if pass_.status in (PassStatus.ACTIVE, PassStatus.EXPIRED) and not keeps_pass:
        Pass.objects.filter(pk=pass_.pk).update(status=PassStatus.COMPLETED)
        pass_.status = PassStatus.COMPLETED


def _conflict_detail(
    scan: ScanEvent, decision: verification.Decision, trip: Trip | None, pass_: Pass | None
) -> dict[str, Any]:
    """What the server found: its reason and, for a truck already inside, where it entered (the
    latest admitted entry but this one); for a revoked pass or cancelled trip, since when."""
    detail: dict[str, Any] = {
        "reason": decision.reason,
        "offline_verdict": scan.verdict,
        "offline_reason": scan.reason,
    }
    if decision.reason == Reason.ALREADY_INSIDE and trip is not None:
        entered = (
            ScanEvent.objects.filter(ADMITTED, trip=trip, direction=Direction.IN)
            .exclude(pk=scan.pk)
            .order_by("-received_at")
            .values_list("checkpoint__code", flat=True)
            .first()
        )
        if entered is not None:
            detail["entered_at_checkpoint"] = entered
    if pass_ is not None and pass_.revoked_at is not None and decision.reason == Reason.REVOKED:
        detail["revoked_at"] = pass_.revoked_at.isoformat()
    if trip is not None and trip.cancelled_at is not None and decision.reason == Reason.CANCELLED:
        detail["cancelled_at"] = trip.cancelled_at.isoformat()
    return detail


def _alerts(
    scan: ScanEvent,
    decision: verification.Decision,
    when: Happened,
    data: ScanInput,
    trip: Trip | None,
    pass_: Pass | None,
) -> tuple[str, ...]:
    """Raise what the offline scan raises, each once (keyed by its cause): a refusal's alert as
    online, ``offline_conflict`` for an admission the server refuses, ``offline_clock`` for a
    clock far off. Returns the conflicts: the server's reason, or none."""
    offline = data.offline
    assert offline is not None and data.scanned_at is not None
    admitted = scan.verdict in ADMITTING_VERDICTS
    kind = None if admitted or pass_ is None else _REFUSAL_ALERTS.get(scan.reason)
    if kind is not None and pass_ is not None:
        key = f"{kind}:{pass_.pk}"
        if kind == Alert.Kind.PLATE_MISMATCH:
            key += f":{scan.observed_plate}"
        detail = {"reason": scan.reason, "observed_plate": scan.observed_plate}
        raise_alert(
            kind=kind, key=key, checkpoint=scan.checkpoint, scan=scan, trip=trip, detail=detail
        )
    conflicts: tuple[str, ...] = ()
    if admitted and decision.verdict == Verdict.REFUSE:
        conflicts = (decision.reason,)
        raise_alert(
            kind=Alert.Kind.OFFLINE_CONFLICT,
            key=f"offline_conflict:{scan.scan_id}",
            checkpoint=scan.checkpoint,
            scan=scan,
            trip=trip,
            detail=_conflict_detail(scan, decision, trip, pass_),
        )
    if when.clock_off:
        raise_alert(
            kind=Alert.Kind.OFFLINE_CLOCK,
            key=f"offline_clock:{scan.scan_id}",
            checkpoint=scan.checkpoint,
            scan=scan,
            trip=trip,
            detail={
                "clock_offset_ms": offline.clock_offset_ms,
                "device_scanned_at": data.scanned_at.isoformat(),
                "happened_at": when.happened.isoformat(),
            },
        )
    return conflicts


def scan_offline(
    *, staff: User, checkpoint: Checkpoint, data: ScanInput, now: datetime
) -> ScanOutcome:
    """Record a scan decided offline (``data.offline``; ``scan_id`` and ``scanned_at`` given):
    see the module's docstring. A scan id already recorded is answered from its record."""
    offline = data.offline
    assert offline is not None and data.scan_id is not None and data.scanned_at is not None
    replay = recorded_answer(data.scan_id)
    if replay is not None:
        return replay
    when = happened_at(scanned_at=data.scanned_at, clock_offset_ms=offline.clock_offset_ms, now=now)
    try:
        claims: passcode.Claims | None = passcode.decode(data.token)
        forged = False
    except passcode.TokenError as exc:
        claims, forged = None, exc.code == "bad_signature"
    with transaction.atomic():
        found = _locked(claims) if claims is not None else None
        trip, pass_ = found if found is not None else (None, None)
        persons = None
        decision = verification.Decision(
            Verdict.REFUSE, Reason.INVALID if claims is None else Reason.UNKNOWN
        )
        if trip is not None and pass_ is not None:
            persons = 1 + CoRider.objects.filter(trip=trip).count()
            facts = facts_then(
                trip=trip,
                pass_=pass_,
                data=data,
                at=when.at,
                checkpoint=checkpoint,
                persons_expected=persons,
            )
            decision = verification.decide(facts)
        digest = digest_of(data.token)
        plate = validators.normalise_plate(data.plate)[:16]
        scan = ScanEvent.objects.create(
            checkpoint=checkpoint,
            staff=staff,
            trip_pass=pass_,
            trip=trip,
            direction=data.direction,
            verdict=offline.verdict,
            reason=offline.reason,
            warnings=list(offline.warnings),
            token_digest=digest if pass_ is None else "",
            observed_plate=plate,
            persons=data.persons,
            scan_id=data.scan_id,
            scanned_at=when.at,
            received_at=now,
            offline=True,
            clock_offset_ms=offline.clock_offset_ms,
        )
        admitted = offline.verdict in ADMITTING_VERDICTS
        if admitted and trip is not None and pass_ is not None:
            _apply(trip=trip, pass_=pass_, direction=data.direction, at=when.at, now=now)
        if forged:
            forged_alert(checkpoint=checkpoint, scan=scan, digest=digest)
        conflicts = _alerts(scan, decision, when, data, trip, pass_)
    return ScanOutcome(
        scan,
        pass_,
        trip,
        persons,
        priority_lane=trip is not None
        and trucks_services.priority_lane_at(
            company_id=trip.company_id,
            plate=trip.vehicle.plate,
            cargo_category=trip.cargo_category,
            at=when.at,
        ),
        conflicts=conflicts,
    )
