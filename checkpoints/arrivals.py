"""The consignee's arrivals page (落地企业确认到达, docs/architecture.md, "Closing the loop"):
the trucks bound for the consignee's company that are inside the city, each confirmed with one
tap when it reaches the gate, or by scanning (a handheld scanner types into the page) or typing its
pass code, trip reference or plate; and the trucks that arrived lately.

These pages serve consignees, not checkpoint staff, so they live apart from
``checkpoints.views``. Each view parses the request, finds the trip within the consignee's own
inbound trips and calls ``services.trip_confirm_arrival``; a refusal is shown on the page with
the service's 4xx status, and what the user typed stays in the field.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from checkpoints import services
from checkpoints.models import ADMITTED, Direction, LandingTest, Reason, ScanEvent
from passcode_portal.errors import DomainError
from trucks import passcode
from trucks import selectors as trucks_selectors
from trucks.models import Colour, Company, Pass, Trip, TripStatus
from trucks.roles import Role, roles_of

# A logistics park may have hundreds of trucks inside; past this many the page lists the
# earliest entered and the find field reaches the rest.
INSIDE_SHOWN = 100
ARRIVED_SHOWN = 20
# Longer than any token (117 characters), reference or plate: the rest is not read.
CODE_MAX_LENGTH = 200


def _actor(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def _consignee_company(request: HttpRequest) -> Company:
    user = _actor(request)
    if Role.CONSIGNEE not in roles_of(user):
        raise PermissionDenied(_("Only consignees confirm the arrival of trucks."))
    membership = getattr(user, "company_membership", None)
    if membership is None:
        raise PermissionDenied(
            _("Your account is not tied to a company yet; ask an administrator.")
        )
    return membership.company


# ---------------------------------------------------------------------------------------------
# Reads, scoped to the consignee's company: another company's trip is never found


def _with_entry(trips: QuerySet[Trip]) -> QuerySet[Trip]:
    """Each trip with what the consignee must know of how it came in: its pass colour, and of
    its latest admitted entry the checkpoint, the landing test, and whether a supervisor
    overrode a refusal (why, and what was refused), so a red-code truck admitted by override
    never looks like any other."""
    entries = ScanEvent.objects.filter(
        ADMITTED, trip=OuterRef("pk"), direction=Direction.IN
    ).order_by("-scanned_at")
    colour = Pass.objects.filter(trip=OuterRef("pk")).order_by("-issued_at").values("colour")
    return trips.select_related("vehicle", "driver").annotate(
        entered_through=Subquery(entries.values("checkpoint__name")[:1]),
        entry_landing_test=Subquery(entries.values("landing_test")[:1]),
        entry_override_reason=Subquery(entries.values("override_reason")[:1]),
        entry_refused_for=Subquery(entries.values("reason")[:1]),
        pass_colour=Subquery(colour[:1]),
    )


def trips_inside(company: Company) -> QuerySet[Trip]:
    """Trucks bound for the company that entered the city and are not confirmed yet, the
    earliest entered first (it is the likeliest at the gate), with their entry (``_with_entry``)."""
    return _with_entry(Trip.objects.filter(consignee=company, status=TripStatus.INSIDE)).order_by(
        F("entered_at").asc(nulls_last=True), "planned_arrival", "pk"
    )


def trips_arrived(company: Company, *, limit: int = ARRIVED_SHOWN) -> list[Trip]:
    """Trucks bound for the company that arrived and have not left yet, the latest first."""
    return list(
        _with_entry(Trip.objects.filter(consignee=company, status=TripStatus.ARRIVED)).order_by(
            F("arrived_at").desc(nulls_last=True), "-pk"
        )[:limit]
    )


def entry_notes(trip: Trip) -> dict[str, str]:
    """The pass colour, the override and the landing test of a listed trip, in words."""
    colour = getattr(trip, "pass_colour", "") or ""
    override = getattr(trip, "entry_override_reason", "") or ""
    landing = getattr(trip, "entry_landing_test", "") or ""
    refused_for = getattr(trip, "entry_refused_for", "") or ""
    return {
        "colour": colour,
        "colour_name": str(Colour(colour).label) if colour in Colour.values else "",
        "override": override,
        "refused_for": str(Reason(refused_for).label) if override and refused_for else "",
        "landing": landing,
        "landing_name": str(LandingTest(landing).label) if landing in LandingTest.values else "",
    }


def trip_find(*, company: Company, text: str) -> Trip:
    """The inbound trip a scanned or typed text names: a pass token (its signature checked, then
    its pass), a trip reference, or a number plate (a truck inside first). Raises DomainError."""
    trips = Trip.objects.filter(consignee=company).select_related("vehicle")
    trip: Trip | None
    if passcode.looks_like_token(text):
        try:
            claims = passcode.decode(text)
        except passcode.TokenError:
            raise DomainError(
                "invalid_code",
                _("This is not a valid pass code. Scan it again, or type the plate."),
            ) from None
        trip = trips.filter(passes__pk=claims.pass_id).first()
    else:
        reference = "".join(text.split()).upper()
        trip = trips.filter(reference=reference).first() or _by_plate(trips, text)
    if trip is None:
        raise DomainError(
            "not_found",
            _(
                "No truck bound for you matches this. Check what you typed, or pick the truck "
                "from the list."
            ),
        )
    return trip


def _by_plate(trips: QuerySet[Trip], text: str) -> Trip | None:
    """The truck inside (else arrived) that a plate names, when it names one truck: a plate
    without its province character may end several."""
    candidates = trips.filter(
        status__in=[TripStatus.INSIDE, TripStatus.ARRIVED],
        vehicle__in=trucks_selectors.vehicles_by_plate(text),
    )
    found = list(candidates.order_by("-planned_arrival", "-pk")[:10])
    pool = [t for t in found if t.status == TripStatus.INSIDE] or found
    if len({t.vehicle_id for t in pool}) > 1:
        raise DomainError(
            "ambiguous",
            _("Several trucks match. Type the whole plate, or pick the truck from the list."),
        )
    return pool[0] if pool else None


# ---------------------------------------------------------------------------------------------
# Pages


def _render(
    request: HttpRequest,
    company: Company,
    *,
    code: str = "",
    code_error: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    inside = trips_inside(company)
    rows = list(inside[:INSIDE_SHOWN])
    arrived = trips_arrived(company)
    for trip in (*rows, *arrived):
        trip.notes = entry_notes(trip)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "company": company,
        "inside": rows,
        "inside_count": len(rows) if len(rows) < INSIDE_SHOWN else inside.count(),
        "arrived": arrived,
        "code": code,
        "code_error": code_error,
        "error": error,
    }
    return render(request, "checkpoints/arrivals.html", context, status=status)


def _confirm(request: HttpRequest, trip: Trip) -> HttpResponse:
    values = {"plate": trip.vehicle.plate, "reference": trip.reference}
    already = trip.status == TripStatus.ARRIVED
    services.trip_confirm_arrival(actor=_actor(request), trip=trip)
    if already:
        messages.info(
            request, _("%(plate)s (%(reference)s) was already confirmed as arrived.") % values
        )
    else:
        messages.success(request, _("Arrival confirmed: %(plate)s, trip %(reference)s.") % values)
    return redirect("checkpoints:arrivals")


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def arrival_list(request: HttpRequest) -> HttpResponse:
    """GET lists the trucks; POST confirms the one the scanned or typed text names."""
    company = _consignee_company(request)
    if request.method != "POST":
        return _render(request, company)
    # Control characters (a scanner's stray prefix, a NUL that PostgreSQL refuses in a query)
    # are never part of a code.
    code = "".join(
        c for c in request.POST.get("code", "")[:CODE_MAX_LENGTH] if c.isprintable() or c == " "
    )
    if not code.strip():
        return _render(
            request,
            company,
            code=code,
            code_error=_("Scan or type a pass code, a trip reference or a number plate."),
            status=400,
        )
    try:
        trip = trip_find(company=company, text=code.strip())
        return _confirm(request, trip)
    except DomainError as exc:
        return _render(request, company, code=code, code_error=str(exc.message), status=exc.status)


@login_required
@require_POST
def arrival_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The "confirm arrival" button of one truck in the list."""
    company = _consignee_company(request)
    trip = Trip.objects.filter(consignee=company, pk=pk).select_related("vehicle").first()
    if trip is None:
        return _render(
            request, company, error=_("No such truck among those bound for you."), status=404
        )
    try:
        return _confirm(request, trip)
    except DomainError as exc:
        return _render(request, company, error=str(exc.message), status=exc.status)
