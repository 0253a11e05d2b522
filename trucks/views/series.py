"""The page of a series of recurring trips (docs/architecture.md, "Recurring trips"): its trips,
and cancelling the whole series behind a confirmation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from passcode_portal.errors import NotFound
from trucks import access, selectors, services
from trucks.forms.series import WEEKDAY_CHOICES
from trucks.models import TripSeries, TripStatus
from trucks.views.common import actor


def _visible_series(request: HttpRequest, series_id: int) -> TripSeries:
    try:
        return selectors.series_get(user=request.user, series_id=series_id)
    except NotFound:
        raise Http404(_("No such series.")) from None


def _may_change(request: HttpRequest, series: TripSeries) -> bool:
    return access.trip_changeable_by(user=request.user, trip=series.source_trip)


@login_required
@never_cache
def series_detail(request: HttpRequest, series_id: int) -> HttpResponse:
    series = _visible_series(request, series_id)
    trips = selectors.series_trips(series)
    rows = [(trip, selectors.current_pass(trip)) for trip in trips]
    names = dict(WEEKDAY_CHOICES)
    context = {
        "series": series,
        "rows": rows,
        "weekday_names": [names[w] for w in series.weekdays if w in names],
        "can_cancel": _may_change(request, series)
        and any(trip.status == TripStatus.REGISTERED for trip in trips),
    }
    return render(request, "trucks/series.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def series_cancel(request: HttpRequest, series_id: int) -> HttpResponse:
    """GET asks for confirmation (works without JavaScript); POST cancels."""
    series = _visible_series(request, series_id)
    if not _may_change(request, series):
        raise PermissionDenied(_("Only the trip's driver or company can change it."))
    trips = selectors.series_trips(series)
    waiting = [trip for trip in trips if trip.status == TripStatus.REGISTERED]
    if request.method != "POST":
        return render(request, "trucks/series_cancel.html", {"series": series, "waiting": waiting})
    result = services.trip_series_cancel(actor=actor(request), series=series)
    messages.success(
        request,
        ngettext(
            "%(n)d trip is cancelled and its pass revoked.",
            "%(n)d trips are cancelled and their passes revoked.",
            result.cancelled,
        )
        % {"n": result.cancelled},
    )
    return redirect("trucks:trip-series", series_id=series.pk)
