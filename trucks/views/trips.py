"""The trip page, and its owner's changes: a new test result, a corrected plate, a new driver,
cancelling, repeating."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from passcode_portal.errors import DomainError, NotFound
from trucks import access, links, selectors, services
from trucks.forms.common import apply_domain_errors, split_plate
from trucks.forms.series import RepeatForm
from trucks.forms.trips import DriverChangeForm, PlateForm, TestResultForm
from trucks.models import Pass, PassStatus, Trip, TripStatus
from trucks.views.common import actor
from trucks.views.passes import COLOUR_NAMES, pass_context


def _owner_context(
    request: HttpRequest,
    trip: Trip,
    pass_: Pass | None,
    *,
    test_form: TestResultForm | None = None,
    plate_form: PlateForm | None = None,
    repeat_form: RepeatForm | None = None,
    driver_form: DriverChangeForm | None = None,
) -> dict[str, Any]:
    now = timezone.now()
    plate_locked = driver_locked = ""
    if trip.status != TripStatus.REGISTERED:
        plate_locked = _("The plate can only be corrected on a trip that has not started.")
        driver_locked = _("The driver can only be changed on a trip that has not started.")
    elif pass_ is not None and now >= pass_.valid_from:
        plate_locked = _("The pass window is open: the plate can no longer be corrected.")
        driver_locked = _("The pass window is open: the driver can no longer be changed.")
    elif pass_ is None or pass_.status != PassStatus.ACTIVE:
        driver_locked = _("This trip has no valid pass; its driver cannot be changed.")
    share_link = ""
    if pass_ is not None and pass_.status == PassStatus.ACTIVE:
        share_link = request.build_absolute_uri(links.pass_link_path(pass_))
    return {
        "is_owner": True,
        "test_form": test_form or TestResultForm(prefix="test"),
        "plate_form": plate_form
        or PlateForm(prefix="plate", initial=split_plate(trip.vehicle.plate)),
        "plate_locked": plate_locked,
        # Dispatchers only: a driver does not hand their own trip to someone else.
        "can_change_driver": access.trip_driver_changeable_by(user=request.user, trip=trip),
        "driver_form": driver_form or _driver_form(trip),
        "driver_locked": driver_locked,
        "test_open": trip.status in Trip.OPEN_STATUSES,
        "can_cancel": trip.status == TripStatus.REGISTERED,
        "share_link": share_link,
        "repeat_form": repeat_form or RepeatForm(prefix="repeat"),
        "can_repeat": trip.status in Trip.OPEN_STATUSES,
    }


def _driver_form(trip: Trip, data: Any = None) -> DriverChangeForm:
    drivers = (
        selectors.company_drivers(company=trip.company).exclude(pk=trip.driver_id)
        if trip.company is not None
        else []
    )
    return DriverChangeForm(data, prefix="driver", drivers=drivers)


def _visible_trip(request: HttpRequest, trip_id: int) -> Trip:
    try:
        return selectors.trip_get(user=request.user, trip_id=trip_id)
    except NotFound:
        raise Http404(_("No such trip.")) from None


def _owned_trip(request: HttpRequest, trip_id: int) -> Trip:
    """A trip the user may change. Another company's trip is absent (404); one the user only
    watches (a consignee's inbound truck, an official) is refused (403)."""
    trip = _visible_trip(request, trip_id)
    if not access.trip_changeable_by(user=request.user, trip=trip):
        raise PermissionDenied(_("Only the trip's driver or company can change it."))
    return trip


def _render_trip(
    request: HttpRequest,
    trip: Trip,
    *,
    status: int = 200,
    test_form: TestResultForm | None = None,
    plate_form: PlateForm | None = None,
    repeat_form: RepeatForm | None = None,
    driver_form: DriverChangeForm | None = None,
) -> HttpResponse:
    pass_ = selectors.current_pass(trip)
    holds_code = selectors.trip_in_full_to(user=request.user, trip=trip)
    context = pass_context(request, trip, pass_, holds_code=holds_code)
    context["changes"] = selectors.trip_changes(trip)
    if access.trip_changeable_by(user=request.user, trip=trip):
        context.update(
            _owner_context(
                request,
                trip,
                pass_,
                test_form=test_form,
                plate_form=plate_form,
                repeat_form=repeat_form,
                driver_form=driver_form,
            )
        )
    return render(request, "trucks/pass.html", context, status=status)


@login_required
@never_cache
def trip_detail(request: HttpRequest, trip_id: int) -> HttpResponse:
    return _render_trip(request, _visible_trip(request, trip_id))


def _refetch(request: HttpRequest, trip: Trip) -> Trip:
    # The services lock and change the row; read it again, with its passes, to show the result.
    return selectors.trip_get(user=request.user, trip_id=trip.pk)


@login_required
@require_POST
def trip_test_result(request: HttpRequest, trip_id: int) -> HttpResponse:
    trip = _owned_trip(request, trip_id)
    form = TestResultForm(request.POST, prefix="test")
    if not form.is_valid():
        return _render_trip(request, trip, status=400, test_form=form)
    try:
        services.trip_set_test_result(
            actor=actor(request),
            trip=trip,
            result=form.cleaned_data["test_result"],
            sampled_at=form.cleaned_data.get("test_sampled_at"),
        )
    except DomainError as exc:
        apply_domain_errors(form, exc.fields)
        if not exc.fields:
            form.add_error(None, str(exc.message))
        return _render_trip(request, _refetch(request, trip), status=exc.status, test_form=form)
    trip = _refetch(request, trip)
    pass_ = selectors.current_pass(trip)
    if pass_ is not None and pass_.status == PassStatus.ACTIVE:
        messages.success(
            request,
            _("Test result saved. The pass is now: %(colour)s.")
            % {"colour": COLOUR_NAMES[pass_.colour]},
        )
    else:
        messages.success(request, _("Test result saved."))
    return redirect("trucks:trip", trip_id=trip.pk)


@login_required
@require_POST
def trip_plate(request: HttpRequest, trip_id: int) -> HttpResponse:
    trip = _owned_trip(request, trip_id)
    form = PlateForm(request.POST, prefix="plate")
    if not form.is_valid():
        return _render_trip(request, trip, status=400, plate_form=form)
    try:
        trip = services.trip_correct_plate(actor=actor(request), trip=trip, plate=form.plate())
    except DomainError as exc:
        apply_domain_errors(form, exc.fields, renames=PlateForm.DOMAIN_FIELDS)
        if not exc.fields:
            form.add_error(None, str(exc.message))
        return _render_trip(request, _refetch(request, trip), status=exc.status, plate_form=form)
    messages.success(request, _("The plate is now %(plate)s.") % {"plate": trip.vehicle.plate})
    return redirect("trucks:trip", trip_id=trip.pk)


@login_required
@require_POST
def trip_driver(request: HttpRequest, trip_id: int) -> HttpResponse:
    trip = _owned_trip(request, trip_id)
    if not access.trip_driver_changeable_by(user=request.user, trip=trip):
        raise PermissionDenied(_("Only the company's dispatcher may change the driver of a trip."))
    form = _driver_form(trip, request.POST)
    if not form.is_valid():
        return _render_trip(request, trip, status=400, driver_form=form)
    try:
        trip = services.trip_change_driver(
            actor=actor(request),
            trip=trip,
            driver_id=form.cleaned_data.get("driver_id"),
            person=form.person(),
            test_result=form.cleaned_data["test_result"],
            test_sampled_at=form.cleaned_data.get("test_sampled_at"),
        )
    except DomainError as exc:
        apply_domain_errors(form, exc.fields, renames=DriverChangeForm.DOMAIN_FIELDS)
        if not exc.fields:
            form.add_error(None, str(exc.message))
        return _render_trip(request, _refetch(request, trip), status=exc.status, driver_form=form)
    messages.success(
        request,
        _(
            "%(name)s is now the driver. A new pass was issued and sent to them; the previous "
            "driver's pass no longer works."
        )
        % {"name": trip.driver.name},
    )
    return redirect("trucks:trip", trip_id=trip.pk)


@login_required
@require_http_methods(["GET", "POST"])
def trip_cancel(request: HttpRequest, trip_id: int) -> HttpResponse:
    """GET asks for confirmation (works without JavaScript); POST cancels."""
    trip = _owned_trip(request, trip_id)
    if request.method != "POST":
        return render(request, "trucks/trip_cancel.html", {"trip": trip})
    try:
        services.trip_cancel(actor=actor(request), trip=trip)
    except DomainError as exc:
        return render(
            request,
            "trucks/trip_cancel.html",
            {"trip": trip, "error": str(exc.message)},
            status=exc.status,
        )
    messages.success(
        request,
        _("Trip %(reference)s is cancelled and its pass revoked.") % {"reference": trip.reference},
    )
    return redirect("trucks:trip", trip_id=trip.pk)


@login_required
@require_POST
def trip_repeat(request: HttpRequest, trip_id: int) -> HttpResponse:
    """Repeat the trip (``services.trip_series_create``); its refusals are shown on the form,
    what was typed kept."""
    trip = _owned_trip(request, trip_id)
    form = RepeatForm(request.POST, prefix="repeat")
    if not form.is_valid():
        return _render_trip(request, trip, status=400, repeat_form=form)
    try:
        series = services.trip_series_create(
            actor=actor(request),
            trip=trip,
            days=form.cleaned_data["days"],
            weekdays=form.cleaned_data["weekdays"],
        )
    except DomainError as exc:
        dates = exc.fields.pop("dates", {})
        apply_domain_errors(form, exc.fields)
        if dates:
            form.add_error(None, str(exc.message))
        for day, day_messages in dates.items():
            for message in day_messages:
                form.add_error(None, f"{day}: {message}")
        if not form.errors:
            form.add_error(None, str(exc.message))
        return _render_trip(request, _refetch(request, trip), status=400, repeat_form=form)
    registered = series.trips.exclude(pk=trip.pk).count()
    messages.success(
        request,
        ngettext(
            "The trip is repeated: %(n)d trip registered, with its own pass.",
            "The trip is repeated: %(n)d trips registered, each with its own pass.",
            registered,
        )
        % {"n": registered},
    )
    return redirect("trucks:trip-series", series_id=series.pk)
