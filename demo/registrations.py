"""Demo data for a development install (``manage.py load_demo``): what ``demo.contents`` holds,
made in the database.

Trips go through ``services.trip_register`` so their passes are graded for real. Services refuse
arrivals in the past, so the trips that stand for the past (expired, completed, a truck already
inside) are registered in the future first and then moved back in time with plain updates.

Running it again changes nothing: every row is looked up by a natural key before it is made, and
a trip is known by its plate and cargo description. Only the times are relative to now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from demo.contents import (
    CARRIER_DRIVERS,
    CHECKPOINTS,
    COMPANIES,
    PASSWORD,
    REQUIRED_REGIONS,
    RISK_LEVELS,
    SUN,
    SUPERVISED_CHECKPOINT,
    TRIPS,
    USERS,
    VEHICLES,
    WHITELIST_DAYS,
    WHITELISTED_SINCE_DAYS,
    ZHANG,
    CheckpointSpec,
    CompanySpec,
    TripSpec,
    UserSpec,
)
from handover.models import WebhookDelivery, WebhookSubscription
from places.models import Checkpoint, Region, StaffAssignment
from trucks import services
from trucks.models import (
    Company,
    CompanyMember,
    Driver,
    Pass,
    PassStatus,
    Trip,
    TripStatus,
    Vehicle,
    WhitelistEntry,
)
from trucks.roles import Role
from trucks.services import PersonData


@dataclass
class DemoPass:
    label: str
    pass_: Pass


@dataclass
class DemoResult:
    users: list[UserSpec] = field(default_factory=list)
    checkpoints: list[CheckpointSpec] = field(default_factory=list)
    trips_created: int = 0
    passes: list[DemoPass] = field(default_factory=list)


def missing_regions() -> list[str]:
    known = set(Region.objects.filter(code__in=REQUIRED_REGIONS).values_list("code", flat=True))
    return sorted(REQUIRED_REGIONS - known)


@transaction.atomic
def demo_load(*, now: datetime | None = None) -> DemoResult:
    """Create (or find) everything the demo holds. Callers check ``missing_regions()`` first."""
    now = now or timezone.now()
    users = {spec.username: _user(spec) for spec in USERS}
    companies = {spec.key: _company(spec) for spec in COMPANIES}
    for company_spec in COMPANIES:
        _whitelist_entry(company_spec, companies[company_spec.key], users["official"], now)
    _membership(users["dispatcher"], companies["carrier"])
    _membership(users["dispatcher2"], companies["whitelisted"])
    _membership(users["consignee"], companies["park"])
    drivers = {p.id_number: _driver(companies["carrier"], p) for p in CARRIER_DRIVERS}
    _driver(companies["whitelisted"], SUN)
    _link_driver_user(drivers[ZHANG.id_number], users["driver"])
    for plate, (company_key, description) in VEHICLES.items():
        _vehicle(plate, companies[company_key], description)

    checkpoints = [_checkpoint(spec) for spec in CHECKPOINTS]
    for checkpoint in checkpoints:
        _assign(users["staff"], checkpoint, supervisor=checkpoint.code == SUPERVISED_CHECKPOINT)

    # Risk levels before the trips, so their passes are graded against them.
    for code, level in RISK_LEVELS.items():
        services.region_set_risk(
            actor=users["official"], region=Region.objects.get(pk=code), risk_level=level
        )

    result = DemoResult(users=list(USERS), checkpoints=list(CHECKPOINTS))
    base = now.replace(minute=0, second=0, microsecond=0)
    for spec in TRIPS:
        trip, created = _trip(spec, users, companies, base)
        result.trips_created += created
        pass_ = Pass.objects.filter(trip=trip).order_by("-issued_at", "-pk").first()
        if pass_ is not None:
            result.passes.append(DemoPass(spec.label, pass_))
    _webhooks(users["official"])
    return result


def _webhooks(official: User) -> None:
    """A hand-over subscription for the officials' pages to show: inactive, so a demo machine
    sends nothing anywhere, with one delivery in its log that failed."""
    subscription, _created = WebhookSubscription.objects.get_or_create(
        name="常州市货车通行平台（演示）",
        defaults={
            "url": "https://passcode.changzhou.example/hooks/trips",
            "secret": "whsec_demo_not_a_secret",
            "event_types": ["trip.exited", "trip.overdue"],
            "region_id": "320400",
            "active": False,
            "created_by": official,
        },
    )
    trip = Trip.objects.order_by("pk").first()
    if trip is not None:
        WebhookDelivery.objects.get_or_create(
            dedupe_key=f"demo:{subscription.pk}",
            defaults={
                "subscription": subscription,
                "event": "trip.exited",
                "payload": {"event": "trip.exited", "trip": {"reference": trip.reference}},
                "trip": trip,
                "status": "failed",
                "attempts": 8,
                "last_error": "HTTP 503 (demo)",
            },
        )


def _user(spec: UserSpec) -> User:
    user, created = User.objects.get_or_create(
        username=spec.username, defaults={"first_name": spec.first_name}
    )
    if spec.role == Role.ADMIN and not (user.is_staff and user.is_superuser):
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    if created or not user.check_password(PASSWORD):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    # The roles' groups come from a data migration, but a flushed test database has none.
    group, _created = Group.objects.get_or_create(name=spec.role)
    user.groups.add(group)
    return user


def _company(spec: CompanySpec) -> Company:
    company, _created = Company.objects.get_or_create(
        uscc=spec.uscc,
        defaults={
            "name": spec.name,
            "contact_name": spec.contact_name,
            "contact_phone": spec.contact_phone,
            "address": spec.address,
            "is_consignee": spec.is_consignee,
        },
    )
    return company


def _whitelist_entry(spec: CompanySpec, company: Company, official: User, now: datetime) -> None:
    """The company's scoped whitelist entry, made by the demo's official (so the whitelist page
    shows who), once: a company with any entry is left as it is."""
    if not spec.whitelist_reason or WhitelistEntry.objects.filter(company=company).exists():
        return
    services.whitelist_entry_create(
        actor=official,
        data=services.WhitelistData(
            company=company.pk,
            valid_from=now - timedelta(days=WHITELISTED_SINCE_DAYS),
            valid_until=now + timedelta(days=WHITELIST_DAYS),
            plates=spec.whitelist_plates,
            cargo_categories=spec.whitelist_cargo,
            priority_lane=spec.priority_lane,
            reason=spec.whitelist_reason,
        ),
    )


def _membership(user: User, company: Company) -> None:
    member, created = CompanyMember.objects.get_or_create(user=user, defaults={"company": company})
    if not created and member.company_id != company.pk:
        member.company = company
        member.save(update_fields=["company"])


def _driver(company: Company, person: PersonData) -> Driver:
    driver, _created = Driver.objects.get_or_create(
        company=company,
        id_number=person.id_number,
        defaults={"name": person.name, "phone": person.phone},
    )
    return driver


def _link_driver_user(driver: Driver, user: User) -> None:
    if driver.user_id != user.pk:
        # A user has one driver profile: free it from any other profile first.
        Driver.objects.filter(user=user).exclude(pk=driver.pk).update(user=None)
        driver.user = user
        driver.save(update_fields=["user"])


def _vehicle(plate: str, company: Company, description: str) -> None:
    Vehicle.objects.get_or_create(
        plate=plate, defaults={"company": company, "description": description}
    )


def _checkpoint(spec: CheckpointSpec) -> Checkpoint:
    checkpoint, _created = Checkpoint.objects.get_or_create(
        code=spec.code,
        defaults={
            "name": spec.name,
            "kind": spec.kind,
            "region_id": spec.region,
            "latitude": Decimal(spec.latitude),
            "longitude": Decimal(spec.longitude),
        },
    )
    if checkpoint.latitude is None:
        # A database loaded before checkpoint sites had coordinates.
        checkpoint.latitude, checkpoint.longitude = Decimal(spec.latitude), Decimal(spec.longitude)
        checkpoint.save(update_fields=["latitude", "longitude"])
    return checkpoint


def _assign(user: User, checkpoint: Checkpoint, *, supervisor: bool) -> None:
    assignment, _created = StaffAssignment.objects.get_or_create(
        user=user, checkpoint=checkpoint, defaults={"supervisor": supervisor}
    )
    if supervisor and not assignment.supervisor:
        # A database loaded before the demo had a supervisor.
        assignment.supervisor = True
        assignment.save(update_fields=["supervisor"])


def _trip(
    spec: TripSpec, users: dict[str, User], companies: dict[str, Company], base: datetime
) -> tuple[Trip, bool]:
    existing = Trip.objects.filter(
        vehicle__plate=spec.plate, cargo_description=spec.cargo_description
    ).first()
    if existing is not None:
        return existing, False
    arrival = base + timedelta(hours=spec.arrival_hours)
    data = services.TripData(
        vehicle_plate=spec.plate,
        driver=spec.driver,
        co_riders=spec.co_riders,
        origin_region=spec.origin,
        travel_history=spec.travel_history,
        destination_name=spec.destination[0],
        destination_address=spec.destination[1],
        consignee=companies[spec.consignee].pk if spec.consignee else None,
        entry_checkpoint=spec.checkpoint,
        planned_arrival=arrival,
        planned_departure=arrival + timedelta(hours=spec.stay_hours),
        cargo_category=spec.cargo_category,
        cargo_description=spec.cargo_description,
        test_result=spec.test_result,
        test_sampled_at=(
            base + timedelta(hours=spec.sampled_hours) if spec.sampled_hours is not None else None
        ),
        multi_entry=spec.multi_entry,
    )
    actor = users[spec.actor]
    trip = services.trip_register(actor=actor, data=data)
    if spec.shift_hours:
        _shift(trip, timedelta(hours=spec.shift_hours))
    if spec.outcome == "cancelled":
        services.trip_cancel(actor=actor, trip=trip)
    elif spec.outcome in _CLOSING:
        trip_status, pass_status = _CLOSING[spec.outcome]
        Trip.objects.filter(pk=trip.pk).update(status=trip_status)
        Pass.objects.filter(trip=trip).update(status=pass_status)
    trip.refresh_from_db()
    return trip, True


# Trip and pass statuses for outcomes that only the checkpoint, the consignee and the lifecycle
# tasks reach; the demo sets them directly.
_CLOSING: dict[str, tuple[str, str]] = {
    "inside": (TripStatus.INSIDE, PassStatus.ACTIVE),
    "arrived": (TripStatus.ARRIVED, PassStatus.ACTIVE),
    "expired": (TripStatus.EXPIRED, PassStatus.EXPIRED),
    "completed": (TripStatus.EXITED, PassStatus.COMPLETED),
}


def _shift(trip: Trip, delta: timedelta) -> None:
    """Move a trip, its test and its pass by ``delta`` as if it had been registered then. The
    reference carries the registration day, so it is written again."""
    Trip.objects.filter(pk=trip.pk).update(
        planned_arrival=F("planned_arrival") + delta,
        planned_departure=F("planned_departure") + delta,
        test_sampled_at=F("test_sampled_at") + delta,
        created_at=F("created_at") + delta,
    )
    Pass.objects.filter(trip=trip).update(
        valid_from=F("valid_from") + delta,
        valid_until=F("valid_until") + delta,
        issued_at=F("issued_at") + delta,
        graded_at=F("graded_at") + delta,
    )
    trip.refresh_from_db()
    Trip.objects.filter(pk=trip.pk).update(reference=services.trip_reference(trip))


def active_passes(passes: Sequence[DemoPass]) -> list[DemoPass]:
    """The passes worth opening from the printed links: the active ones."""
    return [p for p in passes if p.pass_.status == PassStatus.ACTIVE]
