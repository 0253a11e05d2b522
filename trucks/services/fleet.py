"""A company's vehicles and drivers (the dispatcher's pages)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from passcode_portal.errors import PermissionDenied
from trucks import validators
from trucks.models import (
    Company,
    Driver,
    Vehicle,
)
from trucks.roles import Role, roles_of
from trucks.services.registration import (
    FieldErrors,
    PersonData,
    clean_person,
    driver_upsert,
    person_errors,
    refuse_foreign_plate,
)


def _company_of(actor: User) -> Company:
    membership = getattr(actor, "company_membership", None)
    if membership is None or Role.DISPATCHER not in roles_of(actor):
        raise PermissionDenied("not_allowed", _("Only company dispatchers manage vehicles."))
    company: Company = membership.company
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
