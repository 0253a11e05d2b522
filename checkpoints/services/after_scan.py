"""What staff do after a scan: record a walk-in (an unregistered vehicle), a landing test and
its result, a supervisor's override, and the plate and persons they confirm."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from checkpoints import signals, verification
from checkpoints.models import (
    ADMITTED,
    MAX_PERSONS,
    Alert,
    Direction,
    LandingTest,
    Reason,
    ScanEvent,
    Verdict,
    WalkIn,
    Warning,
)
from checkpoints.services.access import checkpoint_access, require_staff
from checkpoints.services.alerts import raise_alert
from checkpoints.services.records import PlateDiffers
from checkpoints.services.scan import plate_recheck_error, scan_id_check
from passcode_portal.errors import DomainError, PermissionDenied
from places.models import Checkpoint
from trucks import services as trucks_services
from trucks import validators
from trucks.models import CoRider, Pass, PassStatus, Trip, TripStatus


@dataclass(frozen=True)
class WalkInInput:
    plate: str
    outcome: str
    driver_name: str = ""
    phone: str = ""
    persons: int = 1
    note: str = ""
    direction: str = Direction.IN
    scan_id: uuid.UUID | None = None


def walk_in_record(*, staff: User, checkpoint: Checkpoint, data: WalkInInput) -> WalkIn:
    """Record an unregistered vehicle. The plate is kept as typed when it does not parse (a
    foreign or damaged plate is still a vehicle that must leave a record)."""
    require_staff(staff, checkpoint)
    if data.scan_id is not None:
        existing = WalkIn.objects.filter(scan_id=data.scan_id).first()
        if existing is not None:
            return _walk_in_replayed(existing, staff=staff, checkpoint=checkpoint)
    fields: dict[str, list[str]] = {}
    plate = validators.normalise_plate(data.plate)
    if not plate:
        fields["plate"] = [_("Enter the number plate.")]
    if data.outcome not in WalkIn.Outcome.values:
        fields["outcome"] = [_("Choose turned back or sent to register.")]
    phone = validators.normalise_phone(data.phone) if data.phone else ""
    if phone:
        try:
            validators.validate_phone(phone)
        except Exception:
            fields["phone"] = [_("Enter an 11-digit mobile number, for example 13812345678.")]
    if not 1 <= data.persons <= MAX_PERSONS:
        fields["persons"] = [_("Enter the number of persons in the vehicle.")]
    if fields:
        raise DomainError("validation_error", _("Some fields are not valid."), fields=fields)
    try:
        with transaction.atomic():
            return WalkIn.objects.create(
                checkpoint=checkpoint,
                staff=staff,
                direction=data.direction,
                plate=plate[:16],
                driver_name=data.driver_name.strip()[:50],
                phone=phone,
                persons=data.persons,
                note=data.note.strip()[:500],
                outcome=data.outcome,
                scan_id=data.scan_id,
            )
    except IntegrityError:
        # The same scan id at the same instant: the other request recorded it first.
        if data.scan_id is not None:
            existing = WalkIn.objects.get(scan_id=data.scan_id)
            return _walk_in_replayed(existing, staff=staff, checkpoint=checkpoint)
        raise


def _walk_in_replayed(walk_in: WalkIn, *, staff: User, checkpoint: Checkpoint) -> WalkIn:
    scan_id_check(
        checkpoint_id=walk_in.checkpoint_id,
        staff_id=walk_in.staff_id,
        checkpoint=checkpoint,
        staff=staff,
    )
    return walk_in


def _scan_for_staff(*, staff: User, checkpoint: Checkpoint, scan_pk: int) -> ScanEvent:
    require_staff(staff, checkpoint)
    scan = (
        # Lock the scan's row only: the trip is joined by a LEFT JOIN (a scan of no pass has
        # none), and PostgreSQL cannot lock the nullable side of an outer join. What changes
        # the trip below locks it (or updates it conditionally) itself.
        ScanEvent.objects.select_for_update(of=("self",))
        .select_related("trip")
        .filter(pk=scan_pk, checkpoint=checkpoint)
        .first()
    )
    if scan is None:
        raise DomainError("not_found", _("No such scan at this checkpoint."), status=404)
    return scan


@transaction.atomic
def landing_test_sample(*, staff: User, checkpoint: Checkpoint, scan_pk: int) -> ScanEvent:
    """Mark that a landing test (落地核酸) was sampled for the scanned vehicle."""
    scan = _scan_for_staff(staff=staff, checkpoint=checkpoint, scan_pk=scan_pk)
    if scan.trip is None:
        raise DomainError(
            "no_trip", _("Only a scan of a registered trip can carry a landing test."), status=409
        )
    if scan.landing_test:
        return scan
    scan.landing_test = LandingTest.SAMPLED
    scan.landing_test_sampled_at = timezone.now()
    scan.save(update_fields=["landing_test", "landing_test_sampled_at"])
    return scan


@transaction.atomic
def landing_test_result(
    *, staff: User, checkpoint: Checkpoint, scan_pk: int, result: str
) -> ScanEvent:
    """Enter the landing test's result; it becomes the trip's latest test and regrades the pass
    at once. A positive result raises an alert: the truck is inside."""
    scan = _scan_for_staff(staff=staff, checkpoint=checkpoint, scan_pk=scan_pk)
    if result not in (LandingTest.NEGATIVE, LandingTest.POSITIVE):
        raise DomainError(
            "validation_error",
            _("Some fields are not valid."),
            fields={"result": [_("Choose negative or positive.")]},
        )
    if scan.landing_test_sampled_at is None or scan.trip is None:
        raise DomainError(
            "not_sampled", _("Mark the sample as taken before entering its result."), status=409
        )
    if scan.landing_test == result:
        return scan
    scan.landing_test = result
    scan.landing_test_result_at = timezone.now()
    scan.save(update_fields=["landing_test", "landing_test_result_at"])
    trucks_services.trip_record_landing_test(
        trip=scan.trip, result=result, sampled_at=scan.landing_test_sampled_at
    )
    if result == LandingTest.POSITIVE:
        raise_alert(
            kind=Alert.Kind.POSITIVE_LANDING_TEST,
            key=f"positive_landing_test:{scan.pk}",
            checkpoint=checkpoint,
            scan=scan,
            trip=scan.trip,
        )
    return scan


@transaction.atomic
def scan_override(
    *, supervisor: User, checkpoint: Checkpoint, scan_pk: int, reason: str
) -> ScanEvent:
    """A supervisor admits a refused vehicle, in writing. The scan keeps its original verdict
    and reason; the override is recorded beside it (who, when, why), an alert tells officials,
    and an entry moves the trip inside as an admitted scan would."""
    scan = _scan_for_staff(staff=supervisor, checkpoint=checkpoint, scan_pk=scan_pk)
    if not checkpoint_access(supervisor).get(checkpoint.pk):
        raise PermissionDenied(
            "not_supervisor", _("Only a supervisor of this checkpoint may override a refusal.")
        )
    text = reason.strip()
    if len(text) < 4:
        raise DomainError(
            "validation_error",
            _("Some fields are not valid."),
            fields={"reason": [_("Write why the vehicle is admitted.")]},
        )
    if scan.verdict != Verdict.REFUSE:
        raise DomainError("not_refused", _("Only a refusal can be overridden."), status=409)
    if scan.overridden_by_id is not None:
        return scan
    now = timezone.now()
    scan.overridden_by = supervisor
    scan.overridden_at = now
    scan.override_reason = text[:500]
    scan.save(update_fields=["overridden_by", "overridden_at", "override_reason"])
    signals.scan_reclassified.send(
        sender=ScanEvent,
        scan=scan,
        before={"verdict": scan.verdict, "reason": scan.reason, "overridden": False},
    )
    if scan.trip is not None and scan.direction == Direction.IN:
        Trip.objects.filter(
            pk=scan.trip.pk, status__in=[TripStatus.REGISTERED, TripStatus.EXITED]
        ).update(status=TripStatus.INSIDE, entered_at=now, updated_at=now)
    raise_alert(
        kind=Alert.Kind.OVERRIDE,
        key=f"override:{scan.pk}",
        checkpoint=checkpoint,
        scan=scan,
        trip=scan.trip,
        detail={"reason": text[:500], "original_reason": scan.reason},
    )
    return scan


@transaction.atomic
def scan_confirm(
    *,
    staff: User,
    checkpoint: Checkpoint,
    scan_pk: int,
    plate: str,
    persons: int | None,
    plate_mismatch_confirmed: bool = False,
) -> ScanEvent:
    """Staff confirm the plate they read off the truck and the persons they counted. A plate
    that is not the registered one is first sent back for a second look (``plate_recheck_error``:
    a slip of the finger must not refuse a truck) and changes nothing; confirmed as different,
    it turns the scan into a refusal (plate_mismatch, with its alert) and undoes what an
    admitted scan did, entry or exit: the registered truck did not pass. A different head count
    adds a warning."""
    scan = _scan_for_staff(staff=staff, checkpoint=checkpoint, scan_pk=scan_pk)
    if scan.trip is None:
        raise DomainError(
            "no_trip", _("Only a scan of a registered trip can be confirmed."), status=409
        )
    # The trip's row is locked before its pass is changed, as the scan and the trucks services
    # lock them.
    trip = (
        Trip.objects.select_for_update(of=("self",)).select_related("vehicle").get(pk=scan.trip.pk)
    )
    observed = validators.normalise_plate(plate)[:16]
    if not observed:
        raise DomainError(
            "validation_error",
            _("Some fields are not valid."),
            fields={"plate": [_("Enter the number plate you read on the truck.")]},
        )
    differs = verification.plate_differs(observed, trip.vehicle.plate)
    if differs and not plate_mismatch_confirmed:
        raise plate_recheck_error(PlateDiffers(registered=trip.vehicle.plate, observed=observed))
    now = timezone.now()
    scan.observed_plate = observed
    scan.confirmed_at = now
    warnings = list(scan.warnings)
    expected = 1 + CoRider.objects.filter(trip=trip).count()
    if persons is not None:
        scan.persons = persons
        if persons != expected and "persons_mismatch" not in warnings:
            warnings.append("persons_mismatch")
        elif persons == expected and "persons_mismatch" in warnings:
            warnings.remove("persons_mismatch")
    scan.warnings = warnings
    fields = ["observed_plate", "confirmed_at", "persons", "warnings"]
    before = {
        "verdict": scan.verdict,
        "reason": scan.reason,
        "overridden": scan.overridden_by_id is not None,
    }
    if differs and scan.reason != Reason.PLATE_MISMATCH:
        admitted = scan.verdict != Verdict.REFUSE
        scan.verdict, scan.reason = Verdict.REFUSE, Reason.PLATE_MISMATCH
        fields += ["verdict", "reason"]
        if admitted:
            _admission_undo(scan=scan, trip=trip, now=now)
        raise_alert(
            kind=Alert.Kind.PLATE_MISMATCH,
            key=f"plate_mismatch:{scan.trip_pass_id}:{observed}",
            checkpoint=checkpoint,
            scan=scan,
            trip=trip,
            detail={"observed_plate": observed, "registered_plate": trip.vehicle.plate},
        )
    scan.save(update_fields=fields)
    if "verdict" in fields:
        signals.scan_reclassified.send(sender=ScanEvent, scan=scan, before=before)
    return scan


def _admission_undo(*, scan: ScanEvent, trip: Trip, now: datetime) -> None:
    """Take back what an admitted scan did to its trip (locked by the caller) and pass: the
    truck that passed was not the registered one, so the registered truck is where it was."""
    if scan.direction == Direction.IN:
        # A multi-entry trip that had been in and out before is out again, with the time of
        # the entry before this one; any other trip has not entered yet.
        entered_before = _admitted_before(scan, trip)
        came_back = trip.exited_at is not None and entered_before is not None
        Trip.objects.filter(pk=trip.pk, status=TripStatus.INSIDE).update(
            status=TripStatus.EXITED if came_back else TripStatus.REGISTERED,
            entered_at=entered_before if came_back else None,
            updated_at=now,
        )
        return
    if trip.status != TripStatus.EXITED:
        return  # something else moved the trip since; leave it
    pass_ = scan.trip_pass
    in_window = pass_ is not None and now < pass_.valid_until
    if Warning.NOT_INSIDE in scan.warnings:
        # It had not entered: waiting for its window, or past it (as the lifecycle leaves it).
        status = TripStatus.REGISTERED if in_window else TripStatus.EXPIRED
    elif trip.arrived_at is not None and trip.entered_at is not None:
        status = TripStatus.ARRIVED if trip.arrived_at >= trip.entered_at else TripStatus.INSIDE
    else:
        status = TripStatus.INSIDE
    # A multi-entry trip keeps the time of the exit before this one.
    exited_before = _admitted_before(scan, trip)
    Trip.objects.filter(pk=trip.pk).update(status=status, exited_at=exited_before, updated_at=now)
    if pass_ is not None:
        # The exit completed the pass (a multi-entry pass it kept active is left as it is).
        Pass.objects.filter(pk=pass_.pk, status=PassStatus.COMPLETED).update(
            status=PassStatus.ACTIVE if in_window else PassStatus.EXPIRED
        )


def _admitted_before(scan: ScanEvent, trip: Trip) -> datetime | None:
    """When the trip last passed in the scan's direction before this scan, if it did. An
    overridden entry let the truck in (it moved the trip inside); an overridden exit did not move
    the trip, so only admitted exits count."""
    passed = ADMITTED if scan.direction == Direction.IN else Q(verdict=Verdict.ADMIT)
    return (
        ScanEvent.objects.filter(passed, trip=trip, direction=scan.direction)
        .exclude(pk=scan.pk)
        .order_by("-received_at")
        .values_list("scanned_at", flat=True)
        .first()
    )
