"""Registering a trip."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from passcode_portal.errors import DomainError
from trucks import selectors, services
from trucks.forms.common import apply_domain_errors
from trucks.forms.register import BaseCoRiderFormSet, CoRiderFormSet, TripForm, region_codes
from trucks.models import TestResult
from trucks.roles import Role, roles_of
from trucks.validators import mask_id_number, mask_phone
from trucks.views.common import actor

REGISTER_ROLES = {Role.DRIVER, Role.DISPATCHER}


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
    user = actor(request)
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
    show_multi_entry = services.whitelist_open(company=company, at=timezone.now())

    # Dispatchers may choose co-riders from the company's drivers too.
    records = {"records": not driver_locked}
    if request.method != "POST":
        form = TripForm(initial=initial, driver_locked=driver_locked)
        formset = CoRiderFormSet(prefix="co_riders", form_kwargs=records)
        context = _register_context(form, formset)
        context["show_multi_entry"] = show_multi_entry
        return render(request, "trucks/trip_form.html", context)

    form = TripForm(request.POST, initial=initial, driver_locked=driver_locked)
    formset = CoRiderFormSet(request.POST, prefix="co_riders", form_kwargs=records)
    status = 400
    summary = _("Some fields are not valid. Please correct the messages below.")
    if form.is_valid() and formset.is_valid():
        rows = formset.filled_forms()
        try:
            trip = services.trip_register(
                actor=user, data=form.trip_data([row for _i, row in rows])
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
