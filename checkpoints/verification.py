"""The verdict of a scan (docs/architecture.md, "Verification outcomes"), as one pure function of
what is known at that instant.

``scan_perform`` in ``checkpoints.services`` loads the facts under a row lock and records what
this decides; keeping the decision pure lets every reason code and warning be tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from checkpoints.models import Alert, Direction, Reason, Verdict, Warning

# Trip and pass states as the trucks app stores them.
REGISTERED, INSIDE, ARRIVED, EXITED, CANCELLED, EXPIRED = (
    "registered",
    "inside",
    "arrived",
    "exited",
    "cancelled",
    "expired",
)
ACTIVE, REVOKED, PASS_EXPIRED, COMPLETED = "active", "revoked", "expired", "completed"

# A refusal of the same pass at the same checkpoint at most this long before a scan is recalled
# with it (``refused_recently``): long enough for a truck turned away to come back through the
# queue (with another plate typed, or on another lane to another colleague), short enough that a
# refusal from an earlier shift is not pinned on this visit. It is about the staff on duty seeing
# what was decided here a moment ago, not about risk, so it is a constant, not the officials'
# policy.
RECENT_REFUSAL = timedelta(minutes=30)


@dataclass(frozen=True)
class Facts:
    """What the checkpoint knows about the pass and its trip when the scan is judged."""

    direction: str
    at: datetime
    pass_status: str
    colour: str
    valid_from: datetime
    valid_until: datetime
    trip_status: str
    multi_entry: bool
    registered_plate: str
    entry_checkpoint_id: int
    checkpoint_id: int
    strict_checkpoint: bool
    persons_expected: int
    observed_plate: str = ""
    observed_persons: int | None = None
    # When this pass was last refused at this checkpoint (overridden refusals aside), if ever.
    earlier_refusal_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    verdict: str
    reason: str
    warnings: tuple[str, ...] = ()
    trip_status: str | None = None  # the trip's new state, if it changes
    pass_status: str | None = None  # the pass's new state, if it changes
    alert: str | None = None  # the kind of alert this scan raises, if any
    extra: dict[str, str] = field(default_factory=dict)


def _refuse(reason: str, alert: str | None = None, *warnings: str) -> Decision:
    return Decision(Verdict.REFUSE, reason, tuple(warnings), alert=alert)


def plate_differs(observed: str, registered: str) -> bool:
    """Whether staff entered a plate (normalised) that is not the registered one. No plate
    entered is no difference."""
    return bool(observed) and observed != registered


def decide(f: Facts) -> Decision:
    warnings: list[str] = []
    if f.earlier_refusal_at is not None and (
        timedelta(0) <= f.at - f.earlier_refusal_at <= RECENT_REFUSAL
    ):
        # Whatever this scan decides, staff must know the truck was turned away here just now
        # (a wrong plate corrected, a code handed to another truck).
        warnings.append(Warning.REFUSED_RECENTLY)
    if f.observed_persons is not None and f.observed_persons != f.persons_expected:
        warnings.append(Warning.PERSONS_MISMATCH)
    if plate_differs(f.observed_plate, f.registered_plate):
        # The code belongs to another vehicle: a shared or borrowed pass, in either direction.
        return _refuse(Reason.PLATE_MISMATCH, Alert.Kind.PLATE_MISMATCH, *warnings)
    if f.direction == Direction.OUT:
        return _decide_exit(f, warnings)
    return _decide_entry(f, warnings)


def _decide_entry(f: Facts, warnings: list[str]) -> Decision:
    if f.trip_status == CANCELLED:
        return _refuse(Reason.CANCELLED, None, *warnings)
    if f.pass_status == REVOKED:
        return _refuse(Reason.REVOKED, None, *warnings)
    if f.trip_status in (INSIDE, ARRIVED):
        # An entry for a truck already inside: the code was copied or shared.
        return _refuse(Reason.ALREADY_INSIDE, Alert.Kind.ALREADY_INSIDE, *warnings)
    if f.pass_status == COMPLETED or (f.trip_status == EXITED and not f.multi_entry):
        return _refuse(Reason.USED, None, *warnings)
    if f.pass_status == PASS_EXPIRED or f.trip_status == EXPIRED or f.at >= f.valid_until:
        return _refuse(Reason.EXPIRED, None, *warnings)
    if f.at < f.valid_from:
        return _refuse(Reason.NOT_YET_VALID, None, *warnings)
    if f.entry_checkpoint_id != f.checkpoint_id:
        if f.strict_checkpoint:
            return _refuse(Reason.WRONG_CHECKPOINT, None, *warnings)
        warnings.append(Warning.WRONG_CHECKPOINT)
    if f.colour == "red":
        return _refuse(Reason.RED_CODE, Alert.Kind.RED_CODE, *warnings)
    verdict, reason = (
        (Verdict.ADMIT_WITH_TEST, Reason.TEST_REQUIRED)
        if f.colour == "yellow"
        else (Verdict.ADMIT, Reason.OK)
    )
    return Decision(verdict, reason, tuple(warnings), trip_status=INSIDE)


def _decide_exit(f: Facts, warnings: list[str]) -> Decision:
    """Trucks are let out of the city; an exit is refused only when the code cannot be this
    truck's way out: cancelled or revoked, or already used to leave."""
    if f.trip_status == CANCELLED:
        return _refuse(Reason.CANCELLED, None, *warnings)
    if f.pass_status == REVOKED:
        return _refuse(Reason.REVOKED, None, *warnings)
    if f.pass_status == COMPLETED or f.trip_status == EXITED:
        return _refuse(Reason.USED, None, *warnings)
    if f.trip_status not in (INSIDE, ARRIVED):
        warnings.append(Warning.NOT_INSIDE)
    if f.pass_status == PASS_EXPIRED or f.at >= f.valid_until:
        warnings.append(Warning.LATE_EXIT)
    # A multi-entry pass stays in force for the next entry while its window lasts.
    keeps_pass = f.multi_entry and f.pass_status == ACTIVE and f.at < f.valid_until
    return Decision(
        Verdict.ADMIT,
        Reason.OK,
        tuple(warnings),
        trip_status=EXITED,
        pass_status=None if keeps_pass else COMPLETED,
    )


# Every (direction, verdict, reason) a scan can answer: what ``decide`` gives, and what the scan
# gives before it (``invalid``: not one of our tokens; ``unknown``: well signed, no such pass). A
# verdict a tablet reached offline is one of these (``checkpoints.serializers``).
_REFUSED_EITHER_WAY = (
    Reason.INVALID,
    Reason.UNKNOWN,
    Reason.CANCELLED,
    Reason.REVOKED,
    Reason.USED,
    Reason.PLATE_MISMATCH,
)
OUTCOMES: frozenset[tuple[str, str, str]] = frozenset(
    {
        (Direction.IN, Verdict.ADMIT, Reason.OK),
        (Direction.IN, Verdict.ADMIT_WITH_TEST, Reason.TEST_REQUIRED),
        (Direction.OUT, Verdict.ADMIT, Reason.OK),
        *(
            (Direction.IN, Verdict.REFUSE, reason)
            for reason in (
                *_REFUSED_EITHER_WAY,
                Reason.ALREADY_INSIDE,
                Reason.EXPIRED,
                Reason.NOT_YET_VALID,
                Reason.WRONG_CHECKPOINT,
                Reason.RED_CODE,
            )
        ),
        *((Direction.OUT, Verdict.REFUSE, reason) for reason in _REFUSED_EITHER_WAY),
    }
)


# What staff read on the tablet, in their language. Codes are the API; these are for people.
MESSAGES: dict[str, Promise] = {
    Reason.OK: _("Valid pass. Admit."),
    Reason.TEST_REQUIRED: _("Yellow code: admit after a landing test."),
    Reason.RED_CODE: _("Red code: do not admit. Officials have been alerted."),
    Reason.INVALID: _("Not a valid pass code. Do not admit."),
    Reason.UNKNOWN: _("No such pass. Do not admit."),
    Reason.REVOKED: _("This pass has been revoked. Do not admit."),
    Reason.CANCELLED: _("The trip was cancelled. Do not admit."),
    Reason.EXPIRED: _("The pass has expired. Do not admit."),
    Reason.NOT_YET_VALID: _("The pass is not valid yet. Do not admit."),
    Reason.ALREADY_INSIDE: _(
        "This pass is already inside: possibly a copied code. Officials have been alerted."
    ),
    Reason.PLATE_MISMATCH: _(
        "The plate does not match the pass. Do not admit. Officials have been alerted."
    ),
    Reason.WRONG_CHECKPOINT: _("The pass is registered for another checkpoint. Do not admit."),
    Reason.USED: _("This pass has already been used for its entry and exit."),
    "exit_ok": _("Exit recorded."),
}

WARNING_MESSAGES: dict[str, Promise] = {
    Warning.WRONG_CHECKPOINT: _("Registered for another checkpoint."),
    Warning.NOT_INSIDE: _("No entry was recorded for this truck."),
    Warning.PERSONS_MISMATCH: _("The number of persons differs from the registration."),
    Warning.LATE_EXIT: _("The pass expired before the truck left."),
    Warning.REFUSED_RECENTLY: _(
        "This pass was refused at this checkpoint a short while ago: check why before admitting."
    ),
}


def message(
    direction: str, verdict: str, reason: str, warnings: tuple[str, ...] | list[str]
) -> str:
    """The verdict in a sentence or two for the person at the checkpoint."""
    key = "exit_ok" if direction == Direction.OUT and verdict == Verdict.ADMIT else reason
    parts = [str(MESSAGES[key])] + [str(WARNING_MESSAGES[w]) for w in warnings]
    return " ".join(parts)
