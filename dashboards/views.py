"""The officials' dashboard page: the figures of today or a chosen period, at one checkpoint or
all, refreshed in place while the page is visible (static/js/dashboard.js reads the stats API,
which answers from the same selectors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from checkpoints.models import Reason
from checkpoints.selectors import checkpoint_by_code
from dashboards import charts, selectors
from dashboards.periods import Period, period_of
from passcode_portal.errors import DomainError
from places.models import Checkpoint, RiskLevel
from trucks.lifecycle import Preview
from trucks.models import Colour
from trucks.roles import is_official

REFRESH_SECONDS = 15


def official_only(request: HttpRequest) -> None:
    if not is_official(request.user):
        raise PermissionDenied(_("Only officials and administrators see the dashboard."))


def query_without_page(request: HttpRequest) -> str:
    """The list's query string as asked, less its page: what the pager's links add a page to."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def colour_moves(result: Preview) -> dict[str, Any]:
    """A preview's counts as the management pages show them: each move from one colour to
    another with the colours' names, and how many passes were looked at."""
    names = dict(Colour.choices)
    return {
        "checked": result.checked,
        "changed": result.changed,
        "moves": [
            {"from": a, "from_label": names[a], "to": b, "to_label": names[b], "n": n}
            for a, b, n in result.rows()
        ],
    }


def _chosen(request: HttpRequest) -> tuple[Period, Checkpoint | None, str | None, int]:
    """The period and checkpoint asked for; today at every checkpoint, with the message and
    status of the refusal, when they cannot be read."""
    code = request.GET.get("checkpoint", "")
    try:
        period = period_of(request.GET.get("from"), request.GET.get("to"))
        checkpoint = checkpoint_by_code(code) if code else None
    except DomainError as exc:
        return period_of(None, None), None, str(exc.message), exc.status
    return period, checkpoint, None, 200


@login_required
def dashboard_charts(request: HttpRequest) -> HttpResponse:
    """The charts' series, read again by the page as its figures are (static/js/dashboard.js)."""
    official_only(request)
    period, checkpoint, error, status = _chosen(request)
    if error is not None:
        return JsonResponse({"code": "invalid", "detail": error}, status=status)
    return JsonResponse(charts.charts(period, checkpoint))


@login_required
def map_outline(request: HttpRequest) -> FileResponse:
    """The deployment's own outline for the map (DASHBOARD_MAP_GEOJSON), or 404 without one."""
    official_only(request)
    path = settings.DASHBOARD_MAP_GEOJSON
    if not path or not Path(path).is_file():
        raise Http404(_("No map outline is set."))
    return FileResponse(open(path, "rb"), content_type="application/geo+json")


def _sites(checkpoint: Checkpoint | None) -> list[dict[str, object]]:
    """The checkpoints shown, with coordinates, for the map; their counts come with the
    figures."""
    return [
        {"code": c.code, "name": c.name, "lat": float(c.latitude), "lon": float(c.longitude)}
        for c in selectors.checkpoints_shown(checkpoint)
        if c.latitude is not None and c.longitude is not None
    ]


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    official_only(request)
    period, checkpoint, error, status = _chosen(request)
    figures = selectors.overview(period, checkpoint)
    query = request.GET.urlencode()
    return render(
        request,
        "dashboards/dashboard.html",
        {
            "figures": figures,
            "period": period,
            "checkpoint": checkpoint,
            "checkpoints": Checkpoint.objects.filter(active=True).order_by("code"),
            "refusals": [
                (code, label, figures["refusals"].get(code, 0))
                for code, label in Reason.choices
                if code != Reason.OK
            ],
            "error": error,
            "wall": request.GET.get("wall") == "1",
            "refresh_seconds": REFRESH_SECONDS,
            "stats_url": reverse("api-stats-overview") + (f"?{query}" if query else ""),
            "charts_url": reverse("dashboards:charts") + (f"?{query}" if query else ""),
            "charts": {**charts.charts(period, checkpoint), "sites": _sites(checkpoint)},
            "outline_url": reverse("dashboards:map-outline")
            if settings.DASHBOARD_MAP_GEOJSON
            else "",
            "chart_texts": {
                "entries": _("Entries"),
                "exits": _("Exits"),
                "registrations": _("Registrations"),
                "trips": _("Trips"),
                "risk": {level: str(label) for level, label in RiskLevel.choices},
            },
        },
        status=status,
    )
