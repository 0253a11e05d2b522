"""The dispatcher's pages of the company's vehicles and drivers."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from passcode_portal.errors import DomainError
from trucks import selectors, services
from trucks.forms.common import apply_domain_errors
from trucks.forms.fleet import DriverForm, VehicleForm
from trucks.validators import mask_id_number, mask_phone
from trucks.views.common import actor


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
                    actor=actor(request),
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
                    actor=actor(request),
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
