"""The home page: what the user may do, and the trips they may see."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from trucks import selectors
from trucks.forms.home import TripFilterForm
from trucks.models import Trip
from trucks.roles import Role, roles_of
from trucks.views.common import actor
from trucks.views.passes import COLOUR_NAMES, pass_state
from trucks.views.register import REGISTER_ROLES

TRIPS_PER_PAGE = 25
TRIP_LIST_ROLES = {Role.DRIVER, Role.DISPATCHER, Role.CONSIGNEE, Role.OFFICIAL, Role.ADMIN}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    roles = roles_of(user)
    context: dict[str, Any] = {
        "roles": roles,
        "can_register": bool(roles & REGISTER_ROLES),
        "is_dispatcher": Role.DISPATCHER in roles,
        "checkpoints": [],
        "page": None,
    }
    if roles & {Role.STAFF, Role.OFFICIAL, Role.ADMIN}:
        context["checkpoints"] = list(selectors.checkpoints_of_staff(user))
    filters = TripFilterForm(request.GET or None)
    context["filters"] = filters
    if roles & TRIP_LIST_ROLES:
        params = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
        trips = selectors.trip_list(
            user=user,
            status=params.get("status") or None,
            date_from=params.get("date_from"),
            date_to=params.get("date_to"),
        )
        page = Paginator(trips, TRIPS_PER_PAGE).get_page(request.GET.get("page"))
        context["page"] = page
        context["rows"] = [_trip_row(trip) for trip in page.object_list]
        query = request.GET.copy()
        query.pop("page", None)
        context["query"] = query.urlencode()
    status = 400 if filters.is_bound and not filters.is_valid() else 200
    return render(request, "trucks/home.html", context, status=status)


def _trip_row(trip: Trip) -> dict[str, Any]:
    pass_ = selectors.current_pass(trip)
    state = pass_state(trip, pass_, timezone.now())
    return {
        "trip": trip,
        "pass": pass_,
        "state": state,
        "colour": pass_.colour if pass_ is not None and state != "void" else "",
        "colour_name": COLOUR_NAMES.get(pass_.colour, "") if pass_ is not None else "",
    }
