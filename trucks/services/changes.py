"""Changes to a registered trip: cancelling, a new test result, a landing test, a corrected
plate, a new driver. A plate corrected and a driver changed are recorded as ``TripChange`` rows,
the audit the trip page and the officials' timeline show."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from passcode_portal.errors import DomainError, PermissionDenied
from trucks import access, signals, validators
from trucks.models import (
    Driver,
    Pass,
    PassStatus,
    TestResult,
    Trip,
    TripChange,
    TripStatus,
)
from trucks.services.fleet import (
    check_vehicle_free,
    driver_from_records,
    driver_upsert,
    vehicle_locked,
)
from trucks.services.inputs import (
    FieldErrors,
    PersonData,
    clean_person,
    person_errors,
    validate_test,
)
from trucks.services.passes import pass_issue, pass_regrade, revoke_active_passes
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
    validate_test(errors, result, sampled_at, timezone.now())
    if (
        "test_sampled_at" not in errors.fields
        and result in (TestResult.NEGATIVE, TestResult.POSITIVE)
        and sampled_at is not None
        and trip.test_sampled_at
        and sampled_at < trip.test_sampled_at
    ):
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
    _check_before_window(
        trip,
        _active_pass(trip),
        "plate_locked",
        _("The plate can only be corrected before the pass window opens."),
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
        TripChange.objects.create(
            trip=trip,
            kind=TripChange.Kind.PLATE,
            before={"plate": trip.vehicle.plate},
            after={"plate": vehicle.plate},
            actor=actor,
        )
        trip.vehicle = vehicle
        trip.save(update_fields=["vehicle", "updated_at"])
    return trip


def _check_before_window(trip: Trip, pass_: Pass | None, code: str, message: str) -> None:
    """What the registration fixes may change only until the pass window opens: after that the
    truck may be on its way, and the checkpoint expects what it was told."""
    if trip.status != TripStatus.REGISTERED or (
        pass_ is not None and timezone.now() >= pass_.valid_from
    ):
        raise DomainError(code, message, status=409)


@transaction.atomic
def trip_change_driver(
    *,
    actor: User,
    trip: Trip,
    driver_id: int | None = None,
    person: PersonData | None = None,
    test_result: str,
    test_sampled_at: datetime | None,
) -> Trip:
    """Give the trip another driver until the pass window opens: one of the company's own
    (``driver_id``) or a person typed (found in or added to the company's records), with their
    own test result. The old driver holds a signed link to the pass and may hold its QR, so a
    new pass is issued, graded for the new driver's test, and the old one revoked: the old link
    and code stop working, the new driver is sent the new pass and the old one is told they no
    longer drive the trip (``signals.trip_driver_changed``)."""
    trip = Trip.objects.select_for_update().select_related("driver").get(pk=trip.pk)
    check_may_change(actor, trip)
    if not access.trip_driver_changeable_by(user=actor, trip=trip):
        raise PermissionDenied(
            "not_allowed",
            _("Only the company's dispatcher may change the driver of a trip."),
        )
    pass_ = _active_pass(trip)
    _check_before_window(
        trip,
        pass_,
        "driver_locked",
        _("The driver can only be changed before the pass window opens."),
    )
    if pass_ is None:
        # A pass revoked by an official is not given back by changing the driver.
        raise DomainError(
            "driver_locked",
            _("This trip has no valid pass; its driver cannot be changed."),
            status=409,
        )
    errors = FieldErrors()
    new = _new_driver(errors, trip, driver_id=driver_id, person=person)
    validate_test(errors, test_result, test_sampled_at, timezone.now())
    errors.raise_if_any()
    assert new is not None
    previous = trip.driver
    trip.driver = driver_upsert(company=trip.company, person=new)
    trip.test_result = test_result
    trip.test_sampled_at = test_sampled_at if test_result != TestResult.NONE else None
    trip.save(update_fields=["driver", "test_result", "test_sampled_at", "updated_at"])
    TripChange.objects.create(
        trip=trip,
        kind=TripChange.Kind.DRIVER,
        before=_driver_shown(previous),
        after=_driver_shown(trip.driver),
        actor=actor,
    )
    new_pass = pass_issue(trip=trip, replacing=Pass.DRIVER_CHANGED, actor=actor)
    signals.trip_driver_changed.send(
        sender=Trip, trip=trip, pass_=new_pass, previous_driver=previous
    )
    return trip


def _new_driver(
    errors: FieldErrors, trip: Trip, *, driver_id: int | None, person: PersonData | None
) -> PersonData | None:
    """The new driver's details, checked as registration checks them; None with the fault on
    ``driver_id`` or ``driver``. Not the driver already, nor one of the trip's co-riders: the
    checkpoint checks the persons it was told of, and a co-rider listed as its own driver would
    be one person counted twice (take them off the trip by registering it again instead)."""
    if driver_id is not None:
        found = driver_from_records(errors, driver_id=driver_id, typed=person, company=trip.company)
        field = "driver_id"
    elif person is not None:
        faults = person_errors(person)
        errors.add_nested("driver", faults)
        found = None if faults else clean_person(person)
        field = "driver"
    else:
        errors.add("driver", _("Enter the driver's name, ID number and phone."))
        return None
    if found is None:
        return None
    if found.id_number == trip.driver.id_number:
        message = _("This person is already the trip's driver.")
    elif trip.co_riders.filter(id_number=found.id_number).exists():
        message = _("This person rides on the trip as a co-rider and cannot also drive it.")
    else:
        return found
    if field == "driver":
        errors.add_nested("driver", {"id_number": [message]})
    else:
        errors.add(field, message)
    return None


def _driver_shown(driver: Driver) -> dict[str, str]:
    """A driver as the audit keeps them: the name and the masked ID number, never the full one."""
    return {"name": driver.name, "id_number": validators.mask_id_number(driver.id_number)}
