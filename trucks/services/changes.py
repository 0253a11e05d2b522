"""Changes to a registered trip: cancelling, a new test result, a landing test, a corrected
plate."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from passcode_portal.errors import DomainError, PermissionDenied
from trucks import access, validators
from trucks.models import (
    Pass,
    PassStatus,
    TestResult,
    Trip,
    TripStatus,
)
from trucks.services.fleet import check_vehicle_free, vehicle_locked
from trucks.services.inputs import CLOCK_SKEW, FieldErrors
from trucks.services.passes import pass_regrade, revoke_active_passes
from trucks.services.whitelist import whitelist_match


def check_may_change(actor: User, trip: Trip) -> None:
    """Callers reach trips through scoped selectors; this holds the rule of who changes a trip
    (``trucks.access``) for every caller."""
    if not access.trip_changeable_by(user=actor, trip=trip):
        raise PermissionDenied("not_allowed", _("You may not change this trip."))


def _active_pass(trip: Trip) -> Pass | None:
    return Pass.objects.filter(trip=trip, status=PassStatus.ACTIVE).first()


@transaction.atomic
def trip_cancel(*, actor: User, trip: Trip) -> Trip:
    """Cancel a trip that has not entered yet; its pass is revoked."""
    trip = Trip.objects.select_for_update().get(pk=trip.pk)
    check_may_change(actor, trip)
    if trip.status == TripStatus.CANCELLED:
        return trip
    if trip.status != TripStatus.REGISTERED:
        raise DomainError(
            "not_cancellable",
            _("This trip can no longer be cancelled: the truck has already entered."),
            status=409,
        )
    trip_cancelled(actor=actor, trip=trip, now=timezone.now())
    return trip


def trip_cancelled(*, actor: User, trip: Trip, now: datetime) -> None:
    """Cancel a registered trip the caller holds locked and may change; its pass is revoked.
    The one rule of what cancelling does, for one trip and for a series."""
    trip.status = TripStatus.CANCELLED
    trip.cancelled_at = now
    trip.save(update_fields=["status", "cancelled_at", "updated_at"])
    revoke_active_passes(trip=trip, reason="trip cancelled", now=now, actor=actor)


@transaction.atomic
def trip_set_test_result(
    *, actor: User, trip: Trip, result: str, sampled_at: datetime | None
) -> Trip:
    """Record a new test result and regrade the pass at once (docs/architecture.md,
    "Registration")."""
    trip = Trip.objects.select_for_update().get(pk=trip.pk)
    check_may_change(actor, trip)
    if trip.status not in Trip.OPEN_STATUSES:
        raise DomainError(
            "trip_closed", _("This trip is closed; its test result cannot change."), status=409
        )
    errors = FieldErrors()
    now = timezone.now()
    if result not in TestResult.values:
        errors.add("test_result", _("Choose negative, positive or no result."))
    elif result != TestResult.NONE:
        if sampled_at is None:
            errors.add("test_sampled_at", _("Enter when the test sample was taken."))
        elif sampled_at > now + CLOCK_SKEW:
            errors.add("test_sampled_at", _("The sample time cannot be in the future."))
        elif trip.test_sampled_at and sampled_at < trip.test_sampled_at:
            errors.add("test_sampled_at", _("This sample is older than the result already given."))
    errors.raise_if_any()
    trip.test_result = result
    trip.test_sampled_at = sampled_at if result != TestResult.NONE else None
    trip.save(update_fields=["test_result", "test_sampled_at", "updated_at"])
    pass_ = _active_pass(trip)
    if pass_ is not None:
        pass_.trip = trip
        pass_regrade(pass_=pass_)
    return trip


@transaction.atomic
def trip_record_landing_test(*, trip: Trip, result: str, sampled_at: datetime) -> Trip:
    """A landing test (落地核酸) taken at a checkpoint becomes the trip's latest test and
    regrades its pass at once. Checkpoint staff record it (``checkpoints.services``), who may not
    otherwise change a trip; a result older than the one on file changes nothing."""
    trip = Trip.objects.select_for_update().get(pk=trip.pk)
    if result not in (TestResult.NEGATIVE, TestResult.POSITIVE):
        raise DomainError(
            "validation_error",
            _("Some fields are not valid."),
            fields={"result": [_("Choose negative or positive.")]},
        )
    if trip.test_sampled_at is not None and sampled_at < trip.test_sampled_at:
        return trip
    trip.test_result = result
    trip.test_sampled_at = sampled_at
    trip.save(update_fields=["test_result", "test_sampled_at", "updated_at"])
    pass_ = _active_pass(trip)
    if pass_ is not None:
        pass_.trip = trip
        pass_regrade(pass_=pass_)
    return trip


@transaction.atomic
def trip_correct_plate(*, actor: User, trip: Trip, plate: str) -> Trip:
    """Correct the number plate; allowed until the pass window opens (docs/architecture.md,
    "Registration"). The token does not carry the plate, so the pass stays the same."""
    trip = Trip.objects.select_for_update().select_related("vehicle").get(pk=trip.pk)
    check_may_change(actor, trip)
    pass_ = _active_pass(trip)
    if trip.status != TripStatus.REGISTERED or (
        pass_ is not None and timezone.now() >= pass_.valid_from
    ):
        raise DomainError(
            "plate_locked",
            _("The plate can only be corrected before the pass window opens."),
            status=409,
        )
    errors = FieldErrors()
    normalised = validators.normalise_plate(plate)
    errors.check("vehicle_plate", validators.validate_plate, normalised)
    if trip.multi_entry and "vehicle_plate" not in errors.fields:
        # A multi-entry pass is for the plates its company's whitelist entry covers: a
        # correction must not carry it to a truck outside the scope.
        match = whitelist_match(
            company=trip.company,
            plate=normalised,
            cargo_category=trip.cargo_category,
            at=trip.planned_arrival,
        )
        if match.entry is None:
            errors.add(
                "vehicle_plate", match.message(plate=normalised, cargo_category=trip.cargo_category)
            )
    errors.raise_if_any()
    if normalised != trip.vehicle.plate:
        # The corrected plate must not be another company's, nor on the road for another trip
        # at the same time (locked as in trip_register, so two corrections cannot both pass).
        vehicle = vehicle_locked(plate=normalised, company=trip.company, field="vehicle_plate")
        check_vehicle_free(
            vehicle=vehicle,
            arrival=trip.planned_arrival,
            departure=trip.planned_departure,
            actor=actor,
            trip=trip,
        )
        trip.vehicle = vehicle
        trip.save(update_fields=["vehicle", "updated_at"])
    return trip
