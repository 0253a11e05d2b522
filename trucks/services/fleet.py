"""A company's vehicles and drivers: the dispatcher's pages add them, and registration and plate
corrections find or make them, each vehicle locked for the trip that takes it."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from passcode_portal.errors import DomainError, PermissionDenied
from trucks import access, validators
from trucks.models import (
    Company,
    Driver,
    Pass,
    PassStatus,
    Trip,
    Vehicle,
)
from trucks.selectors import company_of
from trucks.services.inputs import (
    FieldErrors,
    PersonData,
    TripData,
    clean_person,
    person_errors,
)


def _company_of(actor: User) -> Company:
    company = company_of(actor)
    if company is None:
        raise PermissionDenied("not_allowed", _("Only company dispatchers manage vehicles."))
    return company


@transaction.atomic
def vehicle_add(*, actor: User, plate: str, description: str = "") -> Vehicle:
    company = _company_of(actor)
    errors = FieldErrors()
    normalised = validators.normalise_plate(plate)
    errors.check("plate", validators.validate_plate, normalised)
    errors.raise_if_any()
    vehicle, created = Vehicle.objects.get_or_create(
        plate=normalised, defaults={"company": company, "description": description.strip()}
    )
    if not created:
        refuse_foreign_plate(vehicle, company, "plate")
        vehicle.company = company
        vehicle.description = description.strip() or vehicle.description
        vehicle.save(update_fields=["company", "description"])
    return vehicle


@transaction.atomic
def driver_add(*, actor: User, person: PersonData) -> Driver:
    company = _company_of(actor)
    errors = FieldErrors()
    for name, messages in person_errors(person).items():
        for message in messages:
            errors.add(name, message)
    errors.raise_if_any()
    return driver_upsert(company=company, person=clean_person(person))


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


def trip_from_records(errors: FieldErrors, data: TripData, company: Company | None) -> TripData:
    """A registration naming the company's own vehicle and driver by id (``vehicle_id``,
    ``driver_id``), as one typing their plate and details: the plate, name, ID number and phone
    come from the records, so an 18-digit ID number is never typed twice. Another company's id
    is no record of this one's, and with no company (a driver registering) there are no records:
    ``company=None`` would match every independent driver's. A plate or driver typed beside an id
    must not say otherwise."""
    vehicles = Vehicle.objects.filter(company=company) if company else Vehicle.objects.none()
    drivers = _company_drivers(company)
    if data.vehicle_id is not None:
        vehicle = vehicles.filter(pk=data.vehicle_id).first()
        typed = validators.normalise_plate(data.vehicle_plate)
        if vehicle is None:
            errors.add("vehicle_id", _("Your company has no vehicle with this id."))
        elif typed and typed != vehicle.plate:
            errors.add(
                "vehicle_id",
                _("The plate typed is not the chosen vehicle's: send one or the other."),
            )
        else:
            data = dataclasses.replace(data, vehicle_plate=vehicle.plate)
    if data.driver_id is not None:
        person = driver_from_records(
            errors, driver_id=data.driver_id, typed=data.driver, company=company
        )
        if person is not None:
            data = dataclasses.replace(data, driver=person)
    if any(i is not None for i in data.co_rider_ids):
        data = _co_riders_from_records(errors, data, drivers)
    return data


def _company_drivers(company: Company | None) -> QuerySet[Driver]:
    # With no company (an independent driver) there are no records: ``company=None`` would
    # match every other independent driver's.
    return Driver.objects.filter(company=company) if company else Driver.objects.none()


def _person(driver: Driver) -> PersonData:
    return PersonData(driver.name, driver.id_number, driver.phone)


def driver_from_records(
    errors: FieldErrors, *, driver_id: int, typed: PersonData | None, company: Company | None
) -> PersonData | None:
    """The company's driver of that id, as their details typed would be; None (and a message on
    ``driver_id``) for another company's id, or beside details typed."""
    driver = _company_drivers(company).filter(pk=driver_id).first()
    if driver is None:
        errors.add("driver_id", _("Your company has no driver with this id."))
    elif typed is not None:
        errors.add("driver_id", _("Send the driver's details or the driver's id, not both."))
    else:
        return _person(driver)
    return None


def _co_riders_from_records(
    errors: FieldErrors, data: TripData, drivers: QuerySet[Driver]
) -> TripData:
    """Co-riders named by the id of one of the company's drivers take the record's details, in
    place of what was sent beside the id (the masked ones a page shows). A wrong id is the
    row's fault, given on its name."""
    co_riders = list(data.co_riders)
    ids = list(data.co_rider_ids)[: len(co_riders)]
    found = drivers.in_bulk([i for i in ids if i is not None])
    for index, record_id in enumerate(ids):
        if record_id is None:
            continue
        if record_id in found:
            co_riders[index] = _person(found[record_id])
        else:
            errors.add_nested(
                "co_riders", {"name": [_("Your company has no driver with this id.")]}, index
            )
    return dataclasses.replace(data, co_riders=co_riders)
