"""Reads on the registration side, always scoped to the acting user: another company's trip is
not forbidden but absent (a 404), so ids reveal nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from passcode_portal.errors import NotFound
from places.models import Checkpoint, Region
from trucks import access, grading
from trucks.models import (
    Company,
    Driver,
    Pass,
    PassStatus,
    Policy,
    Trip,
    TripChange,
    TripImport,
    TripImportRow,
    TripSeries,
    Vehicle,
)
from trucks.roles import Role, is_official, roles_of
from trucks.validators import PROVINCE_PREFIXES, normalise_plate

AnyUser = AbstractBaseUser | AnonymousUser


def _with_details(trips: QuerySet[Trip]) -> QuerySet[Trip]:
    return trips.select_related(
        "vehicle", "driver", "company", "consignee", "origin_region", "entry_checkpoint"
    ).prefetch_related(
        "co_riders",
        "travel_history",
        Prefetch("passes", queryset=Pass.objects.order_by("-issued_at"), to_attr="pass_list"),
    )


def trip_list(
    *,
    user: AnyUser,
    status: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Trip]:
    """Trips the user may see, newest planned arrival first, filtered by status and by the day
    of planned arrival (inclusive)."""
    trips = access.trips_visible_to(user)
    if status:
        trips = trips.filter(status=status)
    if date_from:
        trips = trips.filter(planned_arrival__date__gte=date_from)
    if date_to:
        trips = trips.filter(planned_arrival__date__lte=date_to)
    return _with_details(trips).order_by("-planned_arrival", "-id")


def trip_get(*, user: AnyUser, trip_id: int) -> Trip:
    trip = _with_details(access.trips_visible_to(user)).filter(pk=trip_id).first()
    if trip is None:
        raise NotFound("not_found", _("No such trip."))
    return trip


def series_get(*, user: AnyUser, series_id: int) -> TripSeries:
    """A series the user sees: one whose repeated trip they see (``trucks.access``)."""
    series = (
        TripSeries.objects.filter(access.seeing(user).q(through="source_trip__"))
        .select_related("source_trip")
        .filter(pk=series_id)
        .first()
    )
    if series is None:
        raise NotFound("not_found", _("No such series."))
    return series


def series_trips(series: TripSeries) -> list[Trip]:
    """The series' trips by planned arrival, each with its passes."""
    trips = (
        Trip.objects.filter(series=series)
        .select_related("vehicle")
        .prefetch_related(
            Prefetch("passes", queryset=Pass.objects.order_by("-issued_at"), to_attr="pass_list")
        )
    )
    return list(trips.order_by("planned_arrival", "id"))


def current_pass(trip: Trip) -> Pass | None:
    """The active pass, else the most recent one (revoked, expired or completed)."""
    passes: list[Pass] = getattr(trip, "pass_list", None) or list(
        trip.passes.order_by("-issued_at")
    )
    for pass_ in passes:
        if pass_.status == PassStatus.ACTIVE:
            return pass_
    return passes[0] if passes else None


def pass_released(pass_: Pass) -> Pass | None:
    """The pass revoked when the trip's driver was changed since ``pass_`` was issued (it, or
    one issued after it), if the driver was: the signed link to ``pass_`` was the driver's
    before, and leads to that pass, revoked, never to the pass of the driver after. Pass ids
    grow with time."""
    return (
        Pass.objects.filter(
            trip_id=pass_.trip_id, pk__gte=pass_.pk, revoked_reason=Pass.DRIVER_CHANGED
        )
        .order_by("pk")
        .first()
    )


def trip_changes(trip: Trip) -> list[TripChange]:
    """What was changed on the trip after its registration, oldest first, with who did it."""
    return list(TripChange.objects.filter(trip=trip).select_related("actor"))


def trip_in_full_to(*, user: AnyUser, trip: Trip) -> bool:
    """Whether the user may have what opens the checkpoint and reaches the people: the pass code
    (its QR, token and no-account link) and full phone numbers. The trip's own driver and
    company have them, and officials; a consignee sees the trip (who, what, when) but not the
    code that lets a truck through, nor the people's numbers."""
    if is_official(user):
        return True
    return access.trip_changeable_by(user=user, trip=trip)


def pass_get(*, user: AnyUser, pass_id: int) -> Pass:
    """A pass whose code the user may hold (``trip_in_full_to``); checkpoint staff, who scan
    codes, may fetch any pass's QR. Everyone else finds no such pass."""
    # One query by primary key, then the visibility rule in Python: a QR is fetched often, and
    # the scoped subquery costs more to build than to run.
    pass_ = (
        Pass.objects.select_related("trip", "trip__vehicle", "trip__driver")
        .filter(pk=pass_id)
        .first()
    )
    if pass_ is None or not (
        Role.STAFF in roles_of(user)
        or (
            access.trip_visible_to(user=user, trip=pass_.trip)
            and trip_in_full_to(user=user, trip=pass_.trip)
        )
    ):
        raise NotFound("not_found", _("No such pass."))
    return pass_


def pass_for_link(*, pass_id: int) -> Pass | None:
    """The pass a signed link names, with everything its page shows of the trip."""
    return (
        Pass.objects.select_related(
            "trip",
            "trip__vehicle",
            "trip__driver",
            "trip__entry_checkpoint",
            "trip__company",
            "trip__consignee",
        )
        .prefetch_related("trip__co_riders")
        .filter(pk=pass_id)
        .first()
    )


def pass_explanations(pass_: Pass) -> list[dict[str, str]]:
    """Each reason for the pass's colour in the active language, with what to do about it."""
    codes = {c for r in pass_.reasons for c in r.get("regions", ())}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "full_name"))
    rules = Policy.objects.filter(version=pass_.policy_version).first() or Policy()
    return [grading.explain(r, region_names=names, rules=rules) for r in pass_.reasons]


def regions_list(
    *,
    parent: str | None = None,
    level: str | None = None,
    risk_level: str | None = None,
    search: str | None = None,
) -> QuerySet[Region]:
    regions = Region.objects.all()
    if parent:
        regions = regions.filter(parent_id=parent)
    if level:
        regions = regions.filter(level=level)
    if risk_level:
        regions = regions.filter(risk_level=risk_level)
    if search:
        regions = regions.filter(Q(name__contains=search) | Q(code__startswith=search))
    return regions.order_by("code")


def consignees_list() -> QuerySet[Company]:
    return Company.objects.filter(is_consignee=True).order_by("name")


def can_see_full_id_numbers(user: AnyUser) -> bool:
    """ID numbers are shown masked except to officials (docs/architecture.md, "Roles and
    access")."""
    return bool(roles_of(user) & {Role.OFFICIAL, Role.ADMIN})


def trip_summary(trip: Trip) -> dict[str, Any]:
    """Small plain dict for lists and notifications."""
    return {"id": trip.pk, "reference": trip.reference, "status": trip.status}


# ---------------------------------------------------------------------------------------------
# Reads for the pages (trucks.views)


def checkpoints_open() -> QuerySet[Checkpoint]:
    """Checkpoints a trip may name as its entry: the active ones."""
    return Checkpoint.objects.filter(active=True).order_by("name")


def checkpoints_of_staff(user: AnyUser) -> QuerySet[Checkpoint]:
    """The checkpoints a staff account is assigned to (all of them for officials)."""
    checkpoints = Checkpoint.objects.order_by("name")
    if is_official(user):
        return checkpoints
    if not user.is_authenticated or Role.STAFF not in roles_of(user):
        return checkpoints.none()
    return checkpoints.filter(staff_assignments__user_id=user.pk).distinct()


def driver_profile(user: AnyUser) -> Driver | None:
    if not user.is_authenticated or Role.DRIVER not in roles_of(user):
        return None
    return Driver.objects.filter(user_id=user.pk).select_related("company").first()


def company_of(user: AnyUser) -> Company | None:
    """The company a dispatcher acts for; None for everyone else."""
    if Role.DISPATCHER not in roles_of(user):
        return None
    membership = getattr(user, "company_membership", None)
    return membership.company if membership is not None else None


def company_vehicles(*, company: Company) -> QuerySet[Vehicle]:
    return Vehicle.objects.filter(company=company).order_by("plate")


# A plate typed without its province character (awkward on a phone keyboard, or worn off the
# plate) is matched by its end, from this many characters on: fewer would match trucks by the
# dozen.
PLATE_TAIL_MIN = 4


def vehicles_by_plate(text: str) -> QuerySet[Vehicle]:
    """The vehicles a typed or scanned plate may name: the one plate when the text starts with
    its province character, else every plate that ends with it, from ``PLATE_TAIL_MIN``
    characters on (none for less). Full-width characters (Ｈ８８Ａ６６), separators and case are
    forgiven, as ``normalise_plate`` forgives them when a plate is stored.

    Unlike the reads above this takes no user: it is a search term, used as a subquery by
    callers that search within what their user may see (a consignee's inbound trips, a
    checkpoint's passes of the day) and that decide what several matches mean to them."""
    plate = normalise_plate(text)
    if plate[:1] and plate[0] in PROVINCE_PREFIXES:
        return Vehicle.objects.filter(plate=plate)
    if len(plate) >= PLATE_TAIL_MIN:
        return Vehicle.objects.filter(plate__endswith=plate)
    return Vehicle.objects.none()


def company_drivers(*, company: Company) -> QuerySet[Driver]:
    return Driver.objects.filter(company=company).order_by("name", "pk")


def region_names(codes: list[str]) -> dict[str, str]:
    """Full names of the given region codes, for showing picked regions back to the user."""
    return dict(Region.objects.filter(code__in=codes).values_list("code", "full_name"))


# ---------------------------------------------------------------------------------------------
# Reads for the API (trucks.apis)


def passes_explanations(passes: list[Pass]) -> dict[int, list[dict[str, str]]]:
    """``pass_explanations`` for a page of passes in at most two queries (region names and
    rule versions), so a trip list costs the same for one trip as for fifty. Green passes have
    no reasons and cost nothing."""
    explained = [p for p in passes if p.reasons]
    codes = {c for p in explained for r in p.reasons for c in r.get("regions", ())}
    names = (
        dict(Region.objects.filter(code__in=codes).values_list("code", "full_name"))
        if codes
        else {}
    )
    versions = {p.policy_version for p in explained}
    rules = {r.version: r for r in Policy.objects.filter(version__in=versions)} if versions else {}
    return {
        p.pk: [
            grading.explain(r, region_names=names, rules=rules.get(p.policy_version) or Policy())
            for r in p.reasons
        ]
        for p in passes
    }


def region_get(*, code: str) -> Region:
    region = Region.objects.filter(pk=code).first()
    if region is None:
        raise NotFound("not_found", _("No such region."))
    return region


def trip_imports_of(*, user: AnyUser) -> QuerySet[TripImport]:
    """The imports of the dispatcher's company, newest first; none for anyone else."""
    company = company_of(user)
    if company is None:
        return TripImport.objects.none()
    return TripImport.objects.filter(company=company).defer("content")


def trip_import_get(*, user: AnyUser, import_id: int) -> TripImport:
    found = trip_imports_of(user=user).filter(pk=import_id).first()
    if found is None:
        raise NotFound("not_found", _("No such import."))
    return found


def trip_import_rows_registered(trip_import: TripImport) -> QuerySet[TripImportRow]:
    """The rows of an import (one the caller may see) that became trips, with their trips."""
    return (
        TripImportRow.objects.filter(trip_import=trip_import, trip__isnull=False)
        .select_related("trip", "trip__vehicle")
        .order_by("number")
    )
