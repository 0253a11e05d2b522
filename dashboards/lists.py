"""The lists officials act on besides alerts, each filtered by checkpoint and day and a page at a
time: trucks overdue now with the driver's phone and the company's contact, red-code attempts,
and overrides with the supervisor and the reason; and the search for trips by plate (with or
without the province character), reference, ID number or company."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from checkpoints.models import Alert, Reason, ScanEvent
from dashboards import selectors
from dashboards.periods import Period, day_or_none
from dashboards.views import official_only, query_without_page
from places.models import Checkpoint
from trucks import selectors as trucks_selectors
from trucks.models import Trip, TripStatus
from trucks.validators import normalise_plate

ROWS_PER_PAGE = 50
LISTS = ("overdue", "red_code", "overrides")


def _rows(name: str, checkpoint: str, day: date | None) -> QuerySet[Any]:
    if name == "overdue":
        rows: QuerySet[Any] = Alert.objects.filter(
            kind__in=selectors.OVERDUE,
            resolved_at__isnull=True,
            trip__status__in=(TripStatus.INSIDE, TripStatus.ARRIVED),
        ).select_related("trip__vehicle", "trip__driver", "trip__company", "checkpoint")
        at, where = "raised_at", "trip__entry_checkpoint__code"
    elif name == "red_code":
        rows = ScanEvent.objects.filter(reason=Reason.RED_CODE).select_related(
            "trip__vehicle", "trip__driver", "checkpoint", "staff"
        )
        at, where = "scanned_at", "checkpoint__code"
    else:
        rows = ScanEvent.objects.filter(overridden_by__isnull=False).select_related(
            "trip__vehicle", "checkpoint", "overridden_by"
        )
        at, where = "overridden_at", "checkpoint__code"
    if checkpoint:
        rows = rows.filter(**{where: checkpoint})
    if day is not None:
        period = Period(day, day)
        rows = rows.filter(**{f"{at}__gte": period.start, f"{at}__lt": period.end})
    return rows.order_by(f"-{at}", "-pk")


def _search(text: str) -> QuerySet[Trip]:
    """Trips by plate (the province character may be left out), reference, the driver's ID
    number, or the company's name."""
    text = text.strip()
    trips = Trip.objects.select_related("vehicle", "driver", "company", "entry_checkpoint")
    if not text:
        return trips.none()
    found = Q(vehicle__in=trucks_selectors.vehicles_by_plate(text))
    found |= Q(reference__iexact=text) | Q(driver__id_number=text.upper())
    found |= Q(company__name__contains=text)
    if len(normalise_plate(text)) < 2:
        # One character names half the companies: only a reference is matched.
        found = Q(reference__iexact=text)
    return trips.filter(found).order_by("-planned_arrival", "-pk")


@login_required
def lists(request: HttpRequest) -> HttpResponse:
    official_only(request)
    name = request.GET.get("list", "overdue")
    name = name if name in LISTS else "overdue"
    checkpoint = request.GET.get("checkpoint", "")
    day = day_or_none(request.GET.get("day"))
    q = request.GET.get("q", "")[:64]
    rows = _search(q) if q.strip() else _rows(name, checkpoint, day)
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboards/lists.html",
        {
            "name": "search" if q.strip() else name,
            "q": q,
            "page": page,
            "query": query_without_page(request),
            "chosen": {"checkpoint": checkpoint, "day": day.isoformat() if day else ""},
            "tabs": [
                ("overdue", _("Overdue trucks")),
                ("red_code", _("Red-code attempts")),
                ("overrides", _("Overrides")),
            ],
            "checkpoints": Checkpoint.objects.filter(active=True).order_by("code"),
        },
    )
