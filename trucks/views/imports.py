"""The dispatcher's pages for importing trips from a file (docs/architecture.md, "Bulk
import"): upload with the templates and the company's recent imports, and an import's page with
its progress (read from the API by ``static/js/trip-import.js``), its errors, the confirmation
and the trips it registered."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from passcode_portal.errors import DomainError, NotFound
from trucks import selectors
from trucks.importing import reading
from trucks.models import TripImport
from trucks.services import import_checks, imports
from trucks.views.common import actor

# Errors listed on the page; the report holds them all.
PAGE_ERRORS = 200
RECENT = 20


def _dispatcher(request: HttpRequest) -> Any:
    try:
        return imports.importing_company(request.user)
    except DomainError as exc:
        raise PermissionDenied(exc.message) from None


def _import(request: HttpRequest, import_id: int) -> TripImport:
    _dispatcher(request)
    try:
        return selectors.trip_import_get(user=request.user, import_id=import_id)
    except NotFound:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def company_imports(request: HttpRequest) -> HttpResponse:
    company = _dispatcher(request)
    error = ""
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise reading.refused(_("Choose a CSV or Excel file."), "no_file")
            reading.check_size(upload.size or 0)
            trip_import = imports.trip_import_upload(
                actor=actor(request), file_name=upload.name or "", content=upload.read()
            )
        except DomainError as exc:
            error, status = str(exc.message), exc.status
        else:
            return HttpResponseRedirect(reverse("trucks:import", args=[trip_import.pk]))
    context = {
        "company": company,
        "error": error,
        "imports": selectors.trip_imports_of(user=request.user)[:RECENT],
        "max_rows": f"{reading.MAX_ROWS:,}",
        "max_mb": reading.MAX_BYTES // (1024 * 1024),
    }
    return render(request, "trucks/imports.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def company_import(request: HttpRequest, import_id: int) -> HttpResponse:
    trip_import = _import(request, import_id)
    lines = import_checks.error_lines(trip_import)
    context = {
        "trip_import": trip_import,
        "errors": lines[:PAGE_ERRORS],
        "more_errors": max(0, len(lines) - PAGE_ERRORS),
        "registered_rows": selectors.trip_import_rows_registered(trip_import)[:500]
        if trip_import.status == TripImport.Status.DONE
        else [],
        "statuses": dict(TripImport.Status.choices),
        "in_flight": trip_import.status
        in (TripImport.Status.VALIDATING, TripImport.Status.REGISTERING),
    }
    return render(request, "trucks/import.html", context)


@login_required
@require_POST
def company_import_confirm(request: HttpRequest, import_id: int) -> HttpResponse:
    trip_import = _import(request, import_id)
    try:
        imports.trip_import_confirm(trip_import=trip_import)
    except DomainError as exc:
        return render(
            request,
            "trucks/import.html",
            {
                "trip_import": trip_import,
                "error": str(exc.message),
                "statuses": dict(TripImport.Status.choices),
            },
            status=exc.status,
        )
    return HttpResponseRedirect(reverse("trucks:import", args=[trip_import.pk]))
