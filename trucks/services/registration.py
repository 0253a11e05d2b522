"""Registering a trip (docs/architecture.md, "Registration"): every field checked at once, the
vehicle locked against an overlapping trip, the trip graded and its pass issued in one
transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from passcode_portal.errors import PermissionDenied
from places.models import Checkpoint
from trucks import signals, validators
from trucks.models import (
    CargoCategory,
    Company,
    CoRider,
    Driver,
    Policy,
    TestResult,
    Trip,
    Vehicle,
)
from trucks.roles import Role, roles_of
from trucks.selectors import company_of
from trucks.services.facts import TripFacts
from trucks.services.fleet import (
    check_vehicle_free,
    driver_upsert,
    refuse_foreign_plate,
    trip_from_records,
    vehicle_locked,
)
from trucks.services.inputs import (
    FieldErrors,
    PersonData,
    TripData,
    clean_person,
    person_errors,
    validate_test,
)
from trucks.services.passes import pass_issue
from trucks.services.whitelist import whitelist_match

# A truck cab seats the driver and at most four others.
MAX_CO_RIDERS = 4
MAX_TRAVEL_HISTORY = 30


@dataclass(frozen=True)
class CheckedTrip:
    """A registration whose every field passed its checks: what writing it needs."""

    acting: _Actor
    data: TripData
    parties: _Parties
    route: _Route
    policy: Policy
    now: datetime


def trip_validate(*, actor: User, data: TripData, facts: TripFacts | None = None) -> CheckedTrip:
    """Every check ``trip_register`` makes, writing nothing: the same ``DomainError`` with the
    same messages (field faults, a plate another company holds, a vehicle already booked). A
    file's import checks each row with it before anything is registered."""
    facts = facts or TripFacts()
    checked = _checked(actor, data, facts)
    vehicle = facts.vehicle(checked.parties.plate)
    if vehicle is not None:  # a plate never seen is nobody's and is free
        refuse_foreign_plate(vehicle, checked.acting.company, "vehicle_plate")
        if facts.may_be_booked(vehicle):
            check_vehicle_free(
                vehicle=vehicle,
                arrival=checked.data.planned_arrival,
                departure=checked.data.planned_departure,
                actor=actor,
            )
    return checked


@transaction.atomic
def trip_register(
    *,
    actor: User,
    data: TripData,
    facts: TripFacts | None = None,
    import_key: str = "",
    announce: bool = True,
) -> Trip:
    """Register a trip, grade it and issue its pass, all or nothing. ``import_key`` names the
    row of an imported file it comes from: the database holds one trip per key and company.
    ``announce=False`` leaves telling the driver to the caller (a series tells each driver once,
    not once per trip)."""
    facts = facts or TripFacts()
    checked = _checked(actor, data, facts)
    acting, data = checked.acting, checked.data
    vehicle = _vehicle_free(actor, acting, checked.parties.plate, data)
    trip = _trip_written(actor, checked, vehicle, import_key)
    pass_ = pass_issue(
        trip=trip,
        policy=checked.policy,
        travel_history=checked.route.history,
        new_trip=True,
        raised_risks=facts.raised_risks(),
    )
    # The driver is told at once, with the signed link to the pass (many never sign up): the
    # notifications app queues the message in this transaction.
    if announce:
        signals.trip_registered.send(sender=Trip, trip=trip, pass_=pass_)
    return trip


def _checked(actor: User, data: TripData, facts: TripFacts) -> CheckedTrip:
    """The checks of a registration, one rule each, every fault collected before raising."""
    acting = _acting_for(actor)
    policy = facts.policy()
    now = timezone.now()
    errors = FieldErrors()
    # The records are the dispatchers' to name (only they list them): a driver has none.
    data = trip_from_records(errors, data, acting.company if acting.driver is None else None)
    parties = _parties(errors, data, acting)
    route = _route(errors, data, facts)
    _validate_cargo(errors, data)
    validate_test(errors, data.test_result, data.test_sampled_at, now)
    _validate_times(errors, data, policy, now)
    if data.multi_entry:
        _validate_multi_entry(errors, data, policy, acting.company, parties.plate)
    errors.raise_if_any()
    return CheckedTrip(acting, data, parties, route, policy, now)


@dataclass
class _Actor:
    company: Company | None
    driver: Driver | None


def _acting_for(actor: User) -> _Actor:
    roles = roles_of(actor)
    if Role.DISPATCHER in roles:
        company = company_of(actor)
        if company is None:
            raise PermissionDenied(
                "no_company", _("Your account is not linked to a company; ask an administrator.")
            )
        return _Actor(company=company, driver=None)
    if Role.DRIVER in roles:
        profile = Driver.objects.filter(user=actor).select_related("company").first()
        if profile is None:
            raise PermissionDenied(
                "no_driver_profile",
                _("Your account has no driver profile; ask your company or an administrator."),
            )
        return _Actor(company=profile.company, driver=profile)
    raise PermissionDenied("not_allowed", _("Only drivers and company dispatchers register trips."))


@dataclass(frozen=True)
class _Parties:
    """Who travels, as checked: the plate, the driver (None when missing) and the co-riders."""

    plate: str
    driver: PersonData | None
    co_riders: list[PersonData]


def _parties(errors: FieldErrors, data: TripData, acting: _Actor) -> _Parties:
    plate = validators.normalise_plate(data.vehicle_plate)
    if "vehicle_id" not in errors.fields:  # a vehicle chosen that is none of ours says so
        errors.check("vehicle_plate", validators.validate_plate, plate)

    if data.driver is None:
        if "driver_id" in errors.fields:
            driver_data = None
        elif acting.driver is None:
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
        errors.fields["co_riders"] = [
            _("At most %(n)d people ride with the driver.") % {"n": MAX_CO_RIDERS}
        ]
    else:
        seen = {driver_data.id_number} if driver_data else set()
        refused = errors.fields.get("co_riders", {})  # a row's id that is no record of ours
        for i, person in enumerate(data.co_riders):
            if str(i) in refused:
                continue
            found = person_errors(person)
            if not found and co_riders[i].id_number in seen:
                found = {"id_number": [_("This person is already listed on the trip.")]}
            seen.add(co_riders[i].id_number)
            errors.add_nested("co_riders", found, index=i)
    return _Parties(plate=plate, driver=driver_data, co_riders=co_riders)


@dataclass(frozen=True)
class _Route:
    """Where the trip goes, as checked: the travel history's codes (each once), the entry
    checkpoint and the consignee (None when missing or not given)."""

    history: list[str]
    checkpoint: Checkpoint | None
    consignee: Company | None


def _route(errors: FieldErrors, data: TripData, facts: TripFacts) -> _Route:
    history_codes = list(dict.fromkeys(c.strip() for c in data.travel_history if c.strip()))
    if len(history_codes) > MAX_TRAVEL_HISTORY:
        errors.add(
            "travel_history",
            _("List at most %(n)d regions.") % {"n": MAX_TRAVEL_HISTORY},
        )
    codes = {data.origin_region, *history_codes}
    known = facts.known_regions(codes)
    if data.origin_region not in known:
        errors.add("origin_region", _("Choose a region from the list."))
    unknown = [c for c in history_codes if c not in known]
    if unknown:
        errors.add(
            "travel_history",
            _("Unknown region codes: %(codes)s.") % {"codes": ", ".join(unknown[:5])},
        )

    checkpoint = facts.open_checkpoint(data.entry_checkpoint)
    if checkpoint is None:
        errors.add("entry_checkpoint", _("Choose an open checkpoint from the list."))

    consignee = None
    if data.consignee is not None:
        consignee = facts.consignee(data.consignee)
        if consignee is None:
            errors.add("consignee", _("Choose a consignee from the list."))

    if not data.destination_name.strip():
        errors.add("destination_name", _("Enter where the goods are going."))
    if not data.destination_address.strip():
        errors.add("destination_address", _("Enter the destination address."))
    return _Route(history=history_codes, checkpoint=checkpoint, consignee=consignee)


def _validate_cargo(errors: FieldErrors, data: TripData) -> None:
    if data.cargo_category not in CargoCategory.values:
        errors.add("cargo_category", _("Choose a cargo category."))
    if not data.cargo_description.strip():
        errors.add("cargo_description", _("Describe the cargo."))


def _validate_times(errors: FieldErrors, data: TripData, policy: Policy, now: datetime) -> None:
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
    if not data.multi_entry and departure - arrival > timedelta(hours=policy.max_window_hours):
        errors.add(
            "planned_departure",
            _("A trip may last at most %(hours)d hours from arrival to departure.")
            % {"hours": policy.max_window_hours},
        )


def _validate_multi_entry(
    errors: FieldErrors, data: TripData, policy: Policy, company: Company | None, plate: str
) -> None:
    """A multi-entry pass is for a whitelisted company's truck inside its entry's scope (the
    plate and the cargo category) for the whole trip: an entry in force at the arrival that
    still holds at the departure, or the pass would keep the privilege after it lapsed."""
    arrival, departure = data.planned_arrival, data.planned_departure
    if departure <= arrival:
        return  # said already (_validate_times)
    match = whitelist_match(
        company=company, plate=plate, cargo_category=data.cargo_category, at=arrival
    )
    if match.entry is None:
        errors.add(
            "multi_entry",
            match.message(plate=plate, cargo_category=data.cargo_category),
        )
    elif not match.entry.covers(plate=plate, cargo_category=data.cargo_category, at=departure):
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


def _vehicle_free(actor: User, acting: _Actor, plate: str, data: TripData) -> Vehicle:
    """One vehicle, one trip at a time: the vehicle row is locked so that two registrations for
    the same plate cannot both pass the overlap check."""
    vehicle = vehicle_locked(plate=plate, company=acting.company, field="vehicle_plate")
    check_vehicle_free(
        vehicle=vehicle,
        arrival=data.planned_arrival,
        departure=data.planned_departure,
        actor=actor,
    )
    return vehicle


def _trip_written(actor: User, checked: CheckedTrip, vehicle: Vehicle, import_key: str) -> Trip:
    """The trip's rows: the driver (found or made), the trip with its reference, its travel
    history and its co-riders. The checks have passed, so the driver and checkpoint are known."""
    acting, data, parties, route = checked.acting, checked.data, checked.parties, checked.route
    assert parties.driver is not None and route.checkpoint is not None
    driver = acting.driver or driver_upsert(company=acting.company, person=parties.driver)
    trip = Trip.objects.create(
        company=acting.company,
        registered_by=actor,
        vehicle=vehicle,
        driver=driver,
        origin_region_id=data.origin_region,
        destination_name=data.destination_name.strip(),
        destination_address=data.destination_address.strip(),
        consignee=route.consignee,
        entry_checkpoint=route.checkpoint,
        planned_arrival=data.planned_arrival,
        planned_departure=data.planned_departure,
        cargo_category=data.cargo_category,
        cargo_description=data.cargo_description.strip(),
        test_result=data.test_result,
        test_sampled_at=data.test_sampled_at if data.test_result != TestResult.NONE else None,
        multi_entry=data.multi_entry,
        created_at=checked.now,
        import_key=import_key,
    )
    trip.reference = trip_reference(trip)
    Trip.objects.filter(pk=trip.pk).update(reference=trip.reference)
    if route.history:
        # One INSERT for the whole list (the codes were checked above).
        through = Trip.travel_history.through
        through.objects.bulk_create(through(trip=trip, region_id=c) for c in route.history)
    CoRider.objects.bulk_create(
        CoRider(trip=trip, position=i, name=p.name, id_number=p.id_number, phone=p.phone)
        for i, p in enumerate(parties.co_riders)
    )
    return trip


def trip_reference(trip: Trip) -> str:
    day = timezone.localtime(trip.created_at).strftime("%Y%m%d")
    return f"{settings.TRIP_REFERENCE_PREFIX}-{day}-{trip.pk:06d}"
