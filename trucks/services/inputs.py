"""What the registration side's services are given (a trip, a person) and the field checks they
share: every fault is collected, so one answer lists them all, nested as the input is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from passcode_portal.errors import DomainError
from trucks import validators
from trucks.models import TestResult

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
    # One of the company's own vehicles and drivers, instead of the plate and the driver typed
    # (``fleet.trip_from_records``).
    vehicle_id: int | None = None
    driver_id: int | None = None
    # For each co-rider in order, one of the company's drivers whose details it takes, or None
    # for a person typed.
    co_rider_ids: Sequence[int | None] = field(default_factory=tuple)


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


def validate_test(
    errors: FieldErrors, result: str, sampled_at: datetime | None, now: datetime
) -> None:
    """A test result as registration asks for it: one of the results and, unless there is none,
    when the sample was taken (not in the future)."""
    if result not in TestResult.values:
        errors.add("test_result", _("Choose negative, positive or no result."))
    elif result != TestResult.NONE:
        if sampled_at is None:
            errors.add("test_sampled_at", _("Enter when the test sample was taken."))
        elif sampled_at > now + CLOCK_SKEW:
            errors.add("test_sampled_at", _("The sample time cannot be in the future."))


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
