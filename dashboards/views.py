"""The officials' dashboard page: the figures of today or a chosen period, at one checkpoint or
all, refreshed in place while the page is visible (static/js/dashboard.js reads the stats API,
which answers from the same selectors)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from checkpoints.models import Reason
from checkpoints.selectors import checkpoint_by_code
from dashboards import selectors
from dashboards.periods import period_of
from passcode_portal.errors import DomainError
from places.models import Checkpoint
from trucks.roles import is_official

REFRESH_SECONDS = 15


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if not is_official(request.user):
        raise PermissionDenied(_("Only officials and administrators see the dashboard."))
    code = request.GET.get("checkpoint", "")
    error = None
    try:
        period = period_of(request.GET.get("from"), request.GET.get("to"))
        checkpoint = checkpoint_by_code(code) if code else None
    except DomainError as exc:
        error, status = str(exc.message), exc.status
        period, checkpoint = period_of(None, None), None
    else:
        status = 200
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
        },
        status=status,
    )
