"""Registering a trip (docs/architecture.md, "Registration"): every field checked at once, the
vehicle locked against an overlapping trip, the trip graded and its pass issued in one
transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from passcode_portal.errors import DomainError, PermissionDenied
from places.models import Checkpoint, Region
from trucks import access, signals, validators
from trucks.models import (
    CargoCategory,
    Company,
    CoRider,
    Driver,
    Pass,
    PassStatus,
    Policy,
    TestResult,
    Trip,
    Vehicle,
)
from trucks.roles import Role, roles_of
from trucks.services.passes import pass_issue
from trucks.services.policy import policy_current

# A truck cab seats the driver and at most four others.
MAX_CO_RIDERS = 4
MAX_TRAVEL_HISTORY = 30
# Devices' clocks drift; a sample time a few minutes ahead of ours is not "in the future".
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class PersonData:
    name: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class TripData:
    """What a trip registration names (docs/architecture.md, "Registration", the API's trip
    input)."""

    vehicle_plate: str
    driver: PersonData | None
    origin_region: str
    destination_name: str
    destination_address: str
    entry_checkpoint: str
    planned_arrival: datetime
    planned_departure: datetime
    cargo_category: str
    cargo_description: str
    test_result: str
    test_sampled_at: datetime | None = None
    co_riders: Sequence[PersonData] = field(default_factory=tuple)
    travel_history: Sequence[str] = field(default_factory=tuple)
    consignee: int | None = None
    multi_entry: bool = False


class FieldErrors:
    """Collects field messages so one answer lists every fault, nested as the input is."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def add_nested(self, name: str, errors: dict[str, list[str]], index: int | None = None) -> None:
        if not errors:
            return
        if index is None:
            self.fields[name] = errors
        else:
            self.fields.setdefault(name, {})[str(index)] = errors

    def check(self, name: str, validator: Any, value: str) -> None:
        try:
            validator(value)
        except ValidationError as exc:
            for message in exc.messages:
                self.add(name, message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise DomainError(
                "validation_error", _("Some fields are not valid."), fields=self.fields
            )


def person_errors(person: PersonData) -> dict[str, list[str]]:
    errors = FieldErrors()
    if not person.name.strip():
        errors.add("name", _("Enter the person's name."))
    elif len(person.name.strip()) > validators.NAME_MAX_LENGTH:
        errors.add(
            "name",
            _("The name can have at most %(n)d characters.") % {"n": validators.NAME_MAX_LENGTH},
        )
    errors.check("id_number", validators.validate_id_number, person.id_number)
    errors.check("phone", validators.validate_phone, person.phone)
    return errors.fields


def clean_person(person: PersonData) -> PersonData:
    return PersonData(
        name=person.name.strip(),
        id_number=validators.normalise_id_number(person.id_number),
        phone=validators.normalise_phone(person.phone),
    )


@dataclass
class _Actor:
    company: Company | None
    driver: Driver | None


def _acting_for(actor: User) -> _Actor:
    roles = roles_of(actor)
    if Role.DISPATCHER in roles:
        membership = getattr(actor, "company_membership", None)
        if membership is None:
            raise PermissionDenied(
                "no_company", _("Your account is not linked to a company; ask an administrator.")
            )
        return _Actor(company=membership.company, driver=None)
    if Role.DRIVER in roles:
        profile = Driver.objects.filter(user=actor).select_related("company").first()
        if profile is None:
            raise PermissionDenied(
                "no_driver_profile",
                _("Your account has no driver profile; ask your company or an administrator."),
            )
        return _Actor(company=profile.company, driver=profile)
    raise PermissionDenied("not_allowed", _("Only drivers and company dispatchers register trips."))


def _validate_times(
    errors: FieldErrors, data: TripData, policy: Policy, company: Company | None, now: datetime
) -> None:
    arrival, departure = data.planned_arrival, data.planned_departure
    if arrival <= now:
        errors.add("planned_arrival", _("The planned arrival must be in the future."))
    elif arrival < now + timedelta(hours=policy.min_lead_hours):
        errors.add(
            "planned_arrival",
            _("Register at least %(hours)d hours before arrival.")
            % {"hours": policy.min_lead_hours},
        )
    elif arrival > now + timedelta(days=policy.max_advance_days):
        errors.add(
            "planned_arrival",
            _(
                "The planned arrival can be at most %(days)d days ahead; register the trip "
                "closer to the day."
            )
            % {"days": policy.max_advance_days},
        )
    if departure <= arrival:
        errors.add("planned_departure", _("The planned departure must be after the arrival."))
        return
    if data.multi_entry:
        if company is None or not company.is_whitelisted_at(arrival):
            errors.add(
                "multi_entry", _("Only whitelisted companies may register multi-entry passes.")
            )
        elif not company.is_whitelisted_at(departure):
            # Otherwise the pass would keep the privilege after the whitelist lapsed.
            errors.add(
                "planned_departure",
                _("The company's whitelisting ends before the planned departure."),
            )
        elif departure - arrival > timedelta(days=policy.multi_entry_max_days):
            errors.add(
                "planned_departure",
                _("A multi-entry pass covers at most %(days)d days.")
                % {"days": policy.multi_entry_max_days},
            )
    elif departure - arrival > timedelta(hours=policy.max_window_hours):
        errors.add(
            "planned_departure",
            _("A trip may last at most %(hours)d hours from arrival to departure.")
            % {"hours": policy.max_window_hours},
        )


def _validate_test(errors: FieldErrors, data: TripData, now: datetime) -> None:
    if data.test_result not in TestResult.values:
        errors.add("test_result", _("Choose negative, positive or no result."))
    elif data.test_result != TestResult.NONE:
        if data.test_sampled_at is None:
            errors.add("test_sampled_at", _("Enter when the test sample was taken."))
        elif data.test_sampled_at > now + CLOCK_SKEW:
            errors.add("test_sampled_at", _("The sample time cannot be in the future."))


@transaction.atomic
def trip_register(*, actor: User, data: TripData) -> Trip:
    """Register a trip, grade it and issue its pass, all or nothing."""
    acting = _acting_for(actor)
    policy = policy_current()
    now = timezone.now()
    errors = FieldErrors()

    plate = validators.normalise_plate(data.vehicle_plate)
    errors.check("vehicle_plate", validators.validate_plate, plate)

    if data.driver is None:
        if acting.driver is None:
            errors.add("driver", _("Enter the driver's name, ID number and phone."))
            driver_data = None
        else:
            driver_data = PersonData(
                acting.driver.name, acting.driver.id_number, acting.driver.phone
            )
    else:
        driver_errors = person_errors(data.driver)
        driver_data = clean_person(data.driver)
        if (
            acting.driver is not None
            and "id_number" not in driver_errors
            and driver_data.id_number != acting.driver.id_number
        ):
            driver_errors["id_number"] = [_("Drivers register their own trips only.")]
        errors.add_nested("driver", driver_errors)

    co_riders = [clean_person(p) for p in data.co_riders]
    if len(co_riders) > MAX_CO_RIDERS:
        # A list-level message; the rows are not checked, since one of them has to go anyway
        # (and fields["co_riders"] cannot be both a list of messages and a dict of rows).
        errors.add(
            "co_riders", _("At most %(n)d people ride with the driver.") % {"n": MAX_CO_RIDERS}
        )
    else:
        seen = {driver_data.id_number} if driver_data else set()
        for i, person in enumerate(data.co_riders):
            found = person_errors(person)
            if not found and co_riders[i].id_number in seen:
                found = {"id_number": [_("This person is already listed on the trip.")]}
            seen.add(co_riders[i].id_number)
            errors.add_nested("co_riders", found, index=i)

    history_codes = list(dict.fromkeys(c.strip() for c in data.travel_history if c.strip()))
    if len(history_codes) > MAX_TRAVEL_HISTORY:
        errors.add(
            "travel_history",
            _("List at most %(n)d regions.") % {"n": MAX_TRAVEL_HISTORY},
        )
    codes = {data.origin_region, *history_codes}
    known = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
    if data.origin_region not in known:
        errors.add("origin_region", _("Choose a region from the list."))
    unknown = [c for c in history_codes if c not in known]
    if unknown:
        errors.add(
            "travel_history",
            _("Unknown region codes: %(codes)s.") % {"codes": ", ".join(unknown[:5])},
        )

    checkpoint = Checkpoint.objects.filter(code=data.entry_checkpoint, active=True).first()
    if checkpoint is None:
        errors.add("entry_checkpoint", _("Choose an open checkpoint from the list."))

    consignee = None
    if data.consignee is not None:
        consignee = Company.objects.filter(pk=data.consignee, is_consignee=True).first()
        if consignee is None:
            errors.add("consignee", _("Choose a consignee from the list."))

    if not data.destination_name.strip():
        errors.add("destination_name", _("Enter where the goods are going."))
    if not data.destination_address.strip():
        errors.add("destination_address", _("Enter the destination address."))
    if data.cargo_category not in CargoCategory.values:
        errors.add("cargo_category", _("Choose a cargo category."))
    if not data.cargo_description.strip():
        errors.add("cargo_description", _("Describe the cargo."))
    _validate_test(errors, data, now)
    _validate_times(errors, data, policy, acting.company, now)
    errors.raise_if_any()
    assert driver_data is not None and checkpoint is not None

    # One vehicle, one trip at a time: the vehicle row is locked so that two registrations for
    # the same plate cannot both pass the overlap check.
    vehicle = vehicle_locked(plate=plate, company=acting.company, field="vehicle_plate")
    check_vehicle_free(
        vehicle=vehicle,
        arrival=data.planned_arrival,
        departure=data.planned_departure,
        actor=actor,
    )

    driver = acting.driver or driver_upsert(company=acting.company, person=driver_data)
    trip = Trip.objects.create(
        company=acting.company,
        registered_by=actor,
        vehicle=vehicle,
        driver=driver,
        origin_region_id=data.origin_region,
        destination_name=data.destination_name.strip(),
        destination_address=data.destination_address.strip(),
        consignee=consignee,
        entry_checkpoint=checkpoint,
        planned_arrival=data.planned_arrival,
        planned_departure=data.planned_departure,
        cargo_category=data.cargo_category,
        cargo_description=data.cargo_description.strip(),
        test_result=data.test_result,
        test_sampled_at=data.test_sampled_at if data.test_result != TestResult.NONE else None,
        multi_entry=data.multi_entry,
        created_at=now,
    )
    trip.reference = trip_reference(trip)
    Trip.objects.filter(pk=trip.pk).update(reference=trip.reference)
    if history_codes:
        # One INSERT for the whole list (the codes were checked above).
        through = Trip.travel_history.through
        through.objects.bulk_create(through(trip=trip, region_id=c) for c in history_codes)
    CoRider.objects.bulk_create(
        CoRider(trip=trip, position=i, name=p.name, id_number=p.id_number, phone=p.phone)
        for i, p in enumerate(co_riders)
    )
    pass_ = pass_issue(trip=trip, policy=policy, travel_history=history_codes)
    # The driver is told at once, with the signed link to the pass (many never sign up): the
    # notifications app queues the message in this transaction.
    signals.trip_registered.send(sender=Trip, trip=trip, pass_=pass_)
    return trip


def refuse_foreign_plate(vehicle: Vehicle, company: Company | None, field: str) -> None:
    """A plate another company holds is theirs: refused (409) without naming anything of that
    company's. A vehicle no company holds (an independent driver's) may be used by anyone."""
    if vehicle.company_id is not None and vehicle.company_id != (company.pk if company else None):
        message = _("This plate is registered to another company.")
        raise DomainError("plate_taken", message, fields={field: [message]}, status=409)


def vehicle_locked(*, plate: str, company: Company | None, field: str) -> Vehicle:
    """The vehicle of the plate, created for ``company`` if new, locked (FOR UPDATE) for the
    caller's transaction; refused if another company holds it."""
    vehicle, _created = Vehicle.objects.get_or_create(plate=plate, defaults={"company": company})
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    refuse_foreign_plate(vehicle, company, field)
    return vehicle


def check_vehicle_free(
    *,
    vehicle: Vehicle,
    arrival: datetime,
    departure: datetime,
    actor: User,
    trip: Trip | None = None,
) -> None:
    """Refuse (409) when another trip of the vehicle, still holding an active pass, is planned
    to be in the city at an overlapping time. Planned times, not pass windows, are compared:
    the windows' margins overlap for a truck that turns round within hours, which is normal.
    The other trip's reference is named only to someone who may see that trip. The caller
    holds the vehicle row locked."""
    clashes = Pass.objects.filter(
        trip__vehicle=vehicle,
        status=PassStatus.ACTIVE,
        trip__planned_arrival__lt=departure,
        trip__planned_departure__gt=arrival,
    )
    if trip is not None:
        clashes = clashes.exclude(trip=trip)
    clash = clashes.select_related("trip", "trip__driver").first()
    if clash is None:
        return
    if access.trip_visible_to(user=actor, trip=clash.trip):
        message = _(
            "This vehicle already has trip %(ref)s in that time; cancel it or change the times."
        ) % {"ref": clash.trip.reference}
    else:
        message = _("This vehicle is already registered for a trip in that time.")
    raise DomainError(
        "vehicle_busy",
        message,
        fields={"vehicle_plate": [_("Already registered for an overlapping trip.")]},
        status=409,
    )


def driver_upsert(*, company: Company | None, person: PersonData) -> Driver:
    driver, created = Driver.objects.get_or_create(
        company=company,
        id_number=person.id_number,
        defaults={"name": person.name, "phone": person.phone},
    )
    if not created and (driver.name, driver.phone) != (person.name, person.phone):
        driver.name, driver.phone = person.name, person.phone
        driver.save(update_fields=["name", "phone"])
    return driver


def trip_reference(trip: Trip) -> str:
    day = timezone.localtime(trip.created_at).strftime("%Y%m%d")
    return f"{settings.TRIP_REFERENCE_PREFIX}-{day}-{trip.pk:06d}"
