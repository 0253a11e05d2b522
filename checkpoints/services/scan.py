"""Scanning a pass at the checkpoint.

``scan_perform`` is the hot path (a line of trucks waits on it). It checks the signature before
any database work, then decides under a row lock in one short transaction: one SELECT of the
pass with its trip, locking the trip's row (FOR UPDATE), one INSERT of the scan, and at most
two statements more (the trip's and the pass's new state, or an alert). Pretix's check-in
(base/services/checkin.py) is the model: lock the ticket, honour a client nonce once, store
refusals with their reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from checkpoints import verification
from checkpoints.models import Reason, ScanEvent, Verdict
from checkpoints.services.alerts import forged_alert
from checkpoints.services.locked import digest_of, recorded_answer, scan_locked, scan_one_trip
from checkpoints.services.offline import OFFLINE_LIMIT, scan_offline
from checkpoints.services.records import PlateDiffers, ScanInput, ScanOutcome, ScanRecord
from checkpoints.services.sql import postgresql
from passcode_portal.errors import DomainError
from passcode_portal.sessions import SessionCheck
from places.models import Checkpoint
from trucks import passcode, validators

# A device's clock may run a little ahead; a scan synced later than this is judged at the time
# it reached us (the device judged it offline already; this only bounds a wrong clock).
CLOCK_SKEW = timedelta(minutes=5)


def _judged_at(scanned_at: datetime | None, now: datetime) -> datetime:
    if scanned_at is None or scanned_at > now + CLOCK_SKEW or scanned_at < now - OFFLINE_LIMIT:
        return now
    return min(scanned_at, now)


def _record_unverified(
    *,
    staff: User,
    checkpoint: Checkpoint,
    data: ScanInput,
    reason: str,
    at: datetime,
    now: datetime,
    forged: bool,
) -> ScanOutcome:
    if data.scan_id is not None:
        replay = recorded_answer(data.scan_id)
        if replay is not None:
            return replay
    digest = digest_of(data.token)
    with transaction.atomic(savepoint=False):  # no savepoint: see scan_locked
        scan = ScanEvent.objects.create(
            checkpoint=checkpoint,
            staff=staff,
            direction=data.direction,
            verdict=Verdict.REFUSE,
            reason=reason,
            token_digest=digest,
            observed_plate=validators.normalise_plate(data.plate)[:16],
            persons=data.persons,
            scan_id=data.scan_id,
            scanned_at=at,
            received_at=now,
        )
        if forged:
            forged_alert(checkpoint=checkpoint, scan=scan, digest=digest)
    return ScanOutcome(scan, None, None, None)


def scan_id_check(
    *, checkpoint_id: int, staff_id: int | None, checkpoint: Checkpoint, staff: User
) -> None:
    """A client scan id names one record made by one account at one checkpoint. Sent again from
    there it is a retry, answered from the record; from another checkpoint or another account it
    is a clash (a copied or reused id), refused without a word of the other record, which may
    belong to another checkpoint and name its driver."""
    if checkpoint_id != checkpoint.pk or staff_id != staff.pk:
        raise DomainError(
            "scan_id_conflict",
            _("This scan id was already used for another record. Send the scan with a new id."),
            status=409,
        )


def plate_recheck_error(differs: PlateDiffers) -> DomainError:
    """The answer to a plate that differs from the registered one, not yet confirmed as
    different: both plates, so the device can show them side by side for a second look."""
    return DomainError(
        "plate_mismatch_unconfirmed",
        _(
            "The plate entered, %(observed)s, is not the registered plate %(registered)s. Check "
            "it again: correct it, or confirm that the plates differ."
        )
        % {"observed": differs.observed, "registered": differs.registered},
        status=409,
        extra={"registered_plate": differs.registered, "observed_plate": differs.observed},
    )


def scan_perform(*, staff: User, checkpoint: Checkpoint, data: ScanInput) -> ScanOutcome:
    """Verify a scanned pass and record the scan; see the module's docstring. A scan id already
    recorded is answered from its record (``replayed``) when it was this account's scan at this
    checkpoint, and refused with ``scan_id_conflict`` otherwise (``scan_id_check``). A plate
    that differs from the pass's is recorded only once confirmed (``plate_recheck_error``)."""
    outcome = _scan(staff=staff, checkpoint=checkpoint, data=data)
    if isinstance(outcome, PlateDiffers):
        raise plate_recheck_error(outcome)
    if outcome.replayed:
        scan = outcome.scan
        assert isinstance(scan, ScanEvent)  # replays are read from the record
        scan_id_check(
            checkpoint_id=scan.checkpoint_id,
            staff_id=scan.staff_id,
            checkpoint=checkpoint,
            staff=staff,
        )
    return outcome


def sessions_confirmable() -> bool:
    """Whether a scan can confirm a session taken on trust (``scan_if_session_holds``): only its
    short path, on PostgreSQL outside any transaction, reads the session with the lock."""
    return postgresql() and not connection.in_atomic_block


def scan_if_session_holds(
    *, staff: User, checkpoint: Checkpoint, data: ScanInput, session: SessionCheck
) -> ScanOutcome | None:
    """``scan_perform`` for a user taken on trust from a session (``session_on_trust``), on the
    common path only: a well-signed token, on PostgreSQL outside any transaction, whose lock
    statement reads the session again (``scan_one_trip``). The scan is recorded only if the
    session still holds the data its user was found from. Anything else returns None with
    nothing recorded, and the caller authenticates the request in full and calls
    ``scan_perform``. A plate to check again is refused as ``scan_perform`` refuses it: the
    session held, or the lock would not have gone on to decide."""
    if not sessions_confirmable() or data.offline is not None:
        return None
    now = timezone.now()
    try:
        claims = passcode.decode(data.token)
    except passcode.TokenError:
        return None
    try:
        outcome = scan_one_trip(
            staff=staff,
            checkpoint=checkpoint,
            data=data,
            claims=claims,
            at=_judged_at(data.scanned_at, now),
            now=now,
            session=session,
        )
    except IntegrityError:
        return None  # rolled back whole; the full path answers what the other request recorded
    if isinstance(outcome, PlateDiffers):
        raise plate_recheck_error(outcome)
    return outcome


def _scan(*, staff: User, checkpoint: Checkpoint, data: ScanInput) -> ScanOutcome | PlateDiffers:
    now = timezone.now()
    at = _judged_at(data.scanned_at, now)
    try:
        if data.offline is not None:
            return scan_offline(staff=staff, checkpoint=checkpoint, data=data, now=now)
        try:
            claims = passcode.decode(data.token)
        except passcode.TokenError as exc:
            return _record_unverified(
                staff=staff,
                checkpoint=checkpoint,
                data=data,
                reason=Reason.INVALID,
                at=at,
                now=now,
                forged=exc.code == "bad_signature",
            )
        if postgresql() and not connection.in_atomic_block:
            outcome = scan_one_trip(
                staff=staff, checkpoint=checkpoint, data=data, claims=claims, at=at, now=now
            )
            if outcome is not None:
                return outcome
        return scan_locked(
            staff=staff, checkpoint=checkpoint, data=data, claims=claims, at=at, now=now
        )
    except IntegrityError:
        # The same scan id, sent twice at the same instant: the other request recorded it
        # first (the unique index decided). Answer what it answered; this scan's transaction
        # was rolled back whole. (Inside a caller's transaction, which the scan takes no
        # savepoint in, that transaction is spoiled: the caller must roll back and retry.)
        if data.scan_id is not None and not transaction.get_connection().in_atomic_block:
            replay = recorded_answer(data.scan_id)
            if replay is not None:
                return replay
        raise


def scan_message(scan: ScanEvent | ScanRecord) -> str:
    return verification.message(scan.direction, scan.verdict, scan.reason, scan.warnings)
