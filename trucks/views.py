"""Pages of the registration side. Each view parses the request, calls one selector or service
and renders the answer; a DomainError from a service becomes messages on the form that collected
the input, with the service's 4xx status, and nothing the user typed is lost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from passcode_portal.errors import DomainError, NotFound
from trucks import access, links, qr, selectors, services
from trucks.forms import (
    BaseCoRiderFormSet,
    CoRiderFormSet,
    DriverForm,
    PlateForm,
    TestResultForm,
    TripFilterForm,
    TripForm,
    VehicleForm,
    apply_domain_errors,
    region_codes,
    split_plate,
)
from trucks.models import Colour, Pass, PassStatus, TestResult, Trip, TripStatus
from trucks.roles import Role, roles_of
from trucks.validators import mask_id_number, mask_phone

TRIPS_PER_PAGE = 25
REGISTER_ROLES = {Role.DRIVER, Role.DISPATCHER}
TRIP_LIST_ROLES = {Role.DRIVER, Role.DISPATCHER, Role.CONSIGNEE, Role.OFFICIAL, Role.ADMIN}

# The colour in words next to the colour itself: colour alone fails colour-blind drivers and
# black-and-white print-outs.
COLOUR_NAMES: dict[str, Promise] = {
    Colour.GREEN: gettext_lazy("Green code"),
    Colour.YELLOW: gettext_lazy("Yellow code"),
    Colour.RED: gettext_lazy("Red code"),
}
COLOUR_MEANINGS: dict[str, Promise] = {
    Colour.GREEN: gettext_lazy("Pass through the checkpoint."),
    Colour.YELLOW: gettext_lazy("You will be tested on arrival at the checkpoint."),
    Colour.RED: gettext_lazy("Entry is refused. See the reasons below."),
}


def _actor(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


# ---------------------------------------------------------------------------------------------
# Home


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = _actor(request)
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
    state = _pass_state(trip, pass_, timezone.now())
    return {
        "trip": trip,
        "pass": pass_,
        "state": state,
        "colour": pass_.colour if pass_ is not None and state != "void" else "",
        "colour_name": COLOUR_NAMES.get(pass_.colour, "") if pass_ is not None else "",
    }


# ---------------------------------------------------------------------------------------------
# Register a trip


def _error_rows(form: Any, prefix: str = "") -> list[dict[str, str]]:
    """Each message of a form as a line of the error summary, linked to its field."""
    rows: list[dict[str, str]] = []
    for name, messages_ in form.errors.items():
        field = form.fields.get(name)
        label = f"{prefix}{field.label}" if field is not None else prefix.rstrip(": ")
        anchor = form[name].auto_id if field is not None else ""
        rows.extend({"label": label, "message": str(m), "anchor": anchor} for m in messages_)
    return rows


def _register_context(
    form: TripForm, formset: BaseCoRiderFormSet, *, summary: str = ""
) -> dict[str, Any]:
    origin = str(form["origin_region"].value() or "")
    history = region_codes(str(form["travel_history"].value() or ""))
    names = selectors.region_names([origin, *history])
    errors = _error_rows(form)
    for i, row in enumerate(formset.forms):
        errors.extend(_error_rows(row, _("Co-rider %(n)d: ") % {"n": i + 1}))
    errors.extend({"label": "", "message": str(m), "anchor": ""} for m in formset.non_form_errors())
    return {
        "form": form,
        "formset": formset,
        "summary": summary,
        "error_list": errors,
        "origin_name": names.get(origin, ""),
        "history_chips": [{"code": c, "name": names.get(c, c)} for c in history],
        "max_co_riders": services.MAX_CO_RIDERS,
    }


@login_required
@require_http_methods(["GET", "POST"])
def trip_new(request: HttpRequest) -> HttpResponse:
    user = _actor(request)
    roles = roles_of(user)
    if not roles & REGISTER_ROLES:
        raise PermissionDenied(_("Only drivers and company dispatchers register trips."))
    profile = selectors.driver_profile(user) if Role.DISPATCHER not in roles else None
    driver_locked = Role.DISPATCHER not in roles
    if driver_locked and profile is None:
        raise PermissionDenied(
            _("Your account has no driver profile; ask your company or an administrator.")
        )
    initial: dict[str, Any] = {"test_result": TestResult.NEGATIVE}
    if profile is not None:
        initial.update(
            driver_name=profile.name,
            driver_id_number=mask_id_number(profile.id_number),
            driver_phone=mask_phone(profile.phone),
        )
    company = selectors.company_of(user)
    show_multi_entry = company is not None and company.is_whitelisted_at(timezone.now())

    if request.method != "POST":
        form = TripForm(initial=initial, driver_locked=driver_locked)
        formset = CoRiderFormSet(prefix="co_riders")
        context = _register_context(form, formset)
        context["show_multi_entry"] = show_multi_entry
        return render(request, "trucks/trip_form.html", context)

    form = TripForm(request.POST, initial=initial, driver_locked=driver_locked)
    formset = CoRiderFormSet(request.POST, prefix="co_riders")
    status = 400
    summary = _("Some fields are not valid. Please correct the messages below.")
    if form.is_valid() and formset.is_valid():
        rows = formset.filled_forms()
        try:
            trip = services.trip_register(
                actor=user, data=form.trip_data([row.person() for _i, row in rows])
            )
        except DomainError as exc:
            status = exc.status
            summary = str(exc.message)
            apply_domain_errors(
                form,
                exc.fields,
                renames=TripForm.DOMAIN_FIELDS,
                formset=formset,
                formset_rows=[i for i, _row in rows],
            )
        else:
            messages.success(
                request,
                _("Trip %(reference)s is registered and its pass is issued.")
                % {"reference": trip.reference},
            )
            return redirect("trucks:trip", trip_id=trip.pk)
    context = _register_context(form, formset, summary=summary)
    context["show_multi_entry"] = show_multi_entry
    return render(request, "trucks/trip_form.html", context, status=status)


# ---------------------------------------------------------------------------------------------
# The pass page


def _pass_state(trip: Trip, pass_: Pass | None, now: datetime) -> str:
    """What the pass means now: "pending" (window not open), "valid", "expired" (window over,
    the sweep may not have marked it yet), or "void" (revoked, cancelled, used or missing)."""
    if pass_ is None or trip.status == TripStatus.CANCELLED:
        return "void"
    if pass_.status == PassStatus.EXPIRED:
        return "expired"
    if pass_.status != PassStatus.ACTIVE:
        return "void"
    if now >= pass_.valid_until:
        return "expired"
    if now < pass_.valid_from:
        return "pending"
    return "valid"


@dataclass(frozen=True)
class Unusable:
    """Why a pass cannot be used at a checkpoint now, and what to do, in the user's language."""

    label: str
    why: str
    action: str
    # A red code: valid as a code but refused entry (its reasons say what to do), as against a
    # void or expired pass.
    refused: bool = False


# Revocation reasons the services write as codes; an official's own words are shown as written.
# (A cancelled trip's pass is revoked too, but the trip's status says so first.)
_REVOKED_WHY: dict[str, Promise] = {
    "reissued": gettext_lazy("A new pass replaced this one."),
}


def _unusable(trip: Trip, pass_: Pass | None, state: str) -> Unusable | None:
    """Whether the pass reads as "do not show this at a checkpoint", and why: void (cancelled,
    revoked, used, none), expired, or red. A red pass is valid as a code but refused entry, so
    it must never look like a pass that lets the truck through."""
    if trip.status == TripStatus.CANCELLED:
        return Unusable(
            _("Cancelled"),
            _("The trip was cancelled."),
            _("Register a new trip if the truck still makes the journey."),
        )
    if pass_ is None:
        return Unusable(
            _("No pass"),
            _("No pass has been issued for this trip."),
            _("Ask your company or the traffic office."),
        )
    if state == "expired":
        return Unusable(
            _("Expired"),
            _("The pass window ended at %(time)s.")
            % {"time": date_format(timezone.localtime(pass_.valid_until), "Y-m-d H:i")},
            _("Register a new trip for the next journey."),
        )
    if pass_.status == PassStatus.COMPLETED:
        return Unusable(
            _("Used"),
            _("The truck has made its entry and exit with this pass."),
            _("Register a new trip for the next journey."),
        )
    if state == "void":
        why = _REVOKED_WHY.get(pass_.revoked_reason)
        return Unusable(
            _("Revoked"),
            str(why) if why is not None else pass_.revoked_reason or _("The pass was revoked."),
            _("Do not use it. Ask your company or the traffic office for a new pass."),
        )
    if pass_.colour == Colour.RED:
        return Unusable(
            _("Entry refused"),
            _("The pass is a red code: the truck will not be admitted."),
            _("See the reasons below and what to do about each."),
            refused=True,
        )
    return None


def duration_text(delta: timedelta) -> str:
    """A coarse, readable length of time: "2 d 3 h", "3 h 12 min", "12 min"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": mins}
    return _("%(m)d min") % {"m": mins}


def _countdown_text(state: str, pass_: Pass | None, now: datetime) -> str:
    """The time to the window's opening or end, for a pass that can be used; nothing for one
    that cannot (a countdown would suggest it is valid)."""
    if pass_ is None:
        return ""
    if state == "pending":
        return _("Opens in %(time)s") % {"time": duration_text(pass_.valid_from - now)}
    if state == "valid":
        return _("Valid for %(time)s") % {"time": duration_text(pass_.valid_until - now)}
    return ""


def _pass_context(
    request: HttpRequest, trip: Trip, pass_: Pass | None, *, holds_code: bool
) -> dict[str, Any]:
    """What the pass page shows of a trip and its pass. ``holds_code``: whether the viewer may
    have the pass code itself (the trip's driver and company, officials, the holder of the
    signed link), not only the trip (a consignee)."""
    now = timezone.now()
    state = _pass_state(trip, pass_, now)
    unusable = _unusable(trip, pass_, state)
    qr_markup = ""
    if pass_ is not None and unusable is None and holds_code:
        # Inline SVG: the image needs no second, authenticated request, so the signed link
        # works for drivers without an account, and the page prints as one document.
        qr_markup = qr.qr_svg(services.pass_token(pass_)).decode("utf-8")
    full_ids = selectors.can_see_full_id_numbers(request.user)

    def id_number(value: str) -> str:
        return value if full_ids else mask_id_number(value)

    return {
        "trip": trip,
        "pass": pass_,
        "state": state,
        "unusable": unusable,
        "refused": unusable is not None and unusable.refused,
        "holds_code": holds_code,
        "qr_svg": qr_markup,
        "colour_name": COLOUR_NAMES.get(pass_.colour, "") if pass_ else "",
        "colour_meaning": COLOUR_MEANINGS.get(pass_.colour, "") if pass_ else "",
        "explanations": selectors.pass_explanations(pass_) if pass_ else [],
        "driver_id_number": id_number(trip.driver.id_number),
        "co_riders": [
            {"name": person.name, "id_number": id_number(person.id_number)}
            for person in trip.co_riders.all()
        ],
        "countdown": _countdown_text(state, pass_, now) if unusable is None else "",
        "is_owner": False,
    }


def _owner_context(
    request: HttpRequest,
    trip: Trip,
    pass_: Pass | None,
    *,
    test_form: TestResultForm | None = None,
    plate_form: PlateForm | None = None,
) -> dict[str, Any]:
    now = timezone.now()
    plate_locked = ""
    if trip.status != TripStatus.REGISTERED:
        plate_locked = _("The plate can only be corrected on a trip that has not started.")
    elif pass_ is not None and now >= pass_.valid_from:
        plate_locked = _("The pass window is open: the plate can no longer be corrected.")
    share_link = ""
    if pass_ is not None and pass_.status == PassStatus.ACTIVE:
        share_link = request.build_absolute_uri(links.pass_link_path(pass_))
    return {
        "is_owner": True,
        "test_form": test_form or TestResultForm(prefix="test"),
        "plate_form": plate_form
        or PlateForm(prefix="plate", initial=split_plate(trip.vehicle.plate)),
        "plate_locked": plate_locked,
        "test_open": trip.status in Trip.OPEN_STATUSES,
        "can_cancel": trip.status == TripStatus.REGISTERED,
        "share_link": share_link,
    }


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
) -> HttpResponse:
    pass_ = selectors.current_pass(trip)
    holds_code = selectors.trip_in_full_to(user=request.user, trip=trip)
    context = _pass_context(request, trip, pass_, holds_code=holds_code)
    if access.trip_changeable_by(user=request.user, trip=trip):
        context.update(
            _owner_context(request, trip, pass_, test_form=test_form, plate_form=plate_form)
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
            actor=_actor(request),
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
        trip = services.trip_correct_plate(actor=_actor(request), trip=trip, plate=form.plate())
    except DomainError as exc:
        apply_domain_errors(form, exc.fields, renames=PlateForm.DOMAIN_FIELDS)
        if not exc.fields:
            form.add_error(None, str(exc.message))
        return _render_trip(request, _refetch(request, trip), status=exc.status, plate_form=form)
    messages.success(request, _("The plate is now %(plate)s.") % {"plate": trip.vehicle.plate})
    return redirect("trucks:trip", trip_id=trip.pk)


@login_required
@require_http_methods(["GET", "POST"])
def trip_cancel(request: HttpRequest, trip_id: int) -> HttpResponse:
    """GET asks for confirmation (works without JavaScript); POST cancels."""
    trip = _owned_trip(request, trip_id)
    if request.method != "POST":
        return render(request, "trucks/trip_cancel.html", {"trip": trip})
    try:
        services.trip_cancel(actor=_actor(request), trip=trip)
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


@never_cache
def pass_link(request: HttpRequest, token: str) -> HttpResponse:
    """The pass without signing in, through the signed link notifications carry."""
    pass_id = links.pass_id_from_link(token)
    pass_ = selectors.pass_for_link(pass_id=pass_id) if pass_id is not None else None
    if pass_ is None:
        response = render(request, "trucks/pass_link_invalid.html", status=404)
    else:
        trip = pass_.trip
        # Show the trip's pass as it is now: a regraded or reissued pass replaces this one.
        current = selectors.current_pass(trip) or pass_
        context = _pass_context(request, trip, current, holds_code=True)
        context["via_link"] = True
        response = render(request, "trucks/pass.html", context)
    # The token in the address opens the pass: keep it out of Referer headers (the origin
    # alone is sent, never the path) and out of indexes. Not "no-referrer": browsers then send
    # "Origin: null" with the page's own forms (the language switch), which CSRF refuses.
    response["Referrer-Policy"] = "strict-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


# ---------------------------------------------------------------------------------------------
# Dispatcher pages


def _dispatcher_company(request: HttpRequest) -> Any:
    company = selectors.company_of(request.user)
    if company is None:
        raise PermissionDenied(_("Only company dispatchers manage vehicles and drivers."))
    return company


@login_required
@require_http_methods(["GET", "POST"])
def company_vehicles(request: HttpRequest) -> HttpResponse:
    company = _dispatcher_company(request)
    form = VehicleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                vehicle = services.vehicle_add(
                    actor=_actor(request),
                    plate=form.cleaned_data["plate"],
                    description=form.cleaned_data["description"],
                )
            except DomainError as exc:
                status = exc.status
                apply_domain_errors(form, exc.fields)
                if not exc.fields:
                    form.add_error(None, str(exc.message))
            else:
                messages.success(
                    request, _("Vehicle %(plate)s is saved.") % {"plate": vehicle.plate}
                )
                return HttpResponseRedirect(reverse("trucks:vehicles"))
    context = {
        "company": company,
        "form": form,
        "vehicles": selectors.company_vehicles(company=company),
    }
    return render(request, "trucks/vehicles.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def company_drivers(request: HttpRequest) -> HttpResponse:
    company = _dispatcher_company(request)
    form = DriverForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                driver = services.driver_add(
                    actor=_actor(request),
                    person=services.PersonData(
                        name=form.cleaned_data["name"],
                        id_number=form.cleaned_data["id_number"],
                        phone=form.cleaned_data["phone"],
                    ),
                )
            except DomainError as exc:
                status = exc.status
                apply_domain_errors(form, exc.fields)
                if not exc.fields:
                    form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Driver %(name)s is saved.") % {"name": driver.name})
                return HttpResponseRedirect(reverse("trucks:drivers"))
    full_ids = selectors.can_see_full_id_numbers(request.user)
    drivers = [
        {
            "driver": d,
            "id_number": d.id_number if full_ids else mask_id_number(d.id_number),
            "phone": mask_phone(d.phone),
        }
        for d in selectors.company_drivers(company=company)
    ]
    context = {"company": company, "form": form, "drivers": drivers}
    return render(request, "trucks/drivers.html", context, status=status)
