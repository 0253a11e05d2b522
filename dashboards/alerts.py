"""The alerts officials act on: listed by kind, checkpoint, day and state, newest first, a page
at a time; each taken on (acknowledged) and resolved with a note, who and when kept."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods

from checkpoints import services
from checkpoints.models import Alert
from dashboards.periods import Period, day_or_none
from dashboards.views import official_only, query_without_page
from places.models import Checkpoint

ROWS_PER_PAGE = 50
STATES = ("open", "acknowledged", "resolved", "all")


def _filtered(params: Any) -> tuple[QuerySet[Alert], dict[str, str]]:
    chosen = {
        "kind": params.get("kind", "") if params.get("kind", "") in Alert.Kind.values else "",
        "checkpoint": params.get("checkpoint", ""),
        "day": params.get("day", ""),
        "state": params.get("state", "open") if params.get("state") in STATES else "open",
    }
    alerts = Alert.objects.select_related(
        "trip__vehicle", "checkpoint", "acknowledged_by", "resolved_by"
    ).order_by("-raised_at", "-pk")
    if chosen["kind"]:
        alerts = alerts.filter(kind=chosen["kind"])
    if chosen["checkpoint"]:
        alerts = alerts.filter(checkpoint__code=chosen["checkpoint"])
    day = day_or_none(chosen["day"])
    if day is None:
        chosen["day"] = ""
    else:
        period = Period(day, day)
        alerts = alerts.filter(raised_at__gte=period.start, raised_at__lt=period.end)
    state = chosen["state"]
    if state == "open":
        alerts = alerts.filter(resolved_at__isnull=True)
    elif state == "acknowledged":
        alerts = alerts.filter(resolved_at__isnull=True, acknowledged_at__isnull=False)
    elif state == "resolved":
        alerts = alerts.filter(resolved_at__isnull=False)
    return alerts, chosen


@login_required
@require_http_methods(["GET", "POST"])
def alert_list(request: HttpRequest) -> HttpResponse:
    official_only(request)
    if request.method == "POST":
        return _act(request)
    return _page(request)


def _page(request: HttpRequest, status: int = 200) -> HttpResponse:
    alerts, chosen = _filtered(request.GET)
    page = Paginator(alerts, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboards/alerts.html",
        {
            "page": page,
            "chosen": chosen,
            "query": query_without_page(request),
            "kinds": Alert.Kind.choices,
            "states": [
                ("open", pgettext("alert state", "Open")),
                ("acknowledged", _("Taken on")),
                ("resolved", _("Resolved")),
                ("all", _("All")),
            ],
            "checkpoints": Checkpoint.objects.filter(active=True).order_by("code"),
        },
        status=status,
    )


def _act(request: HttpRequest) -> HttpResponse:
    """Take on or resolve one alert; the list again, as it was filtered (the form posts to the
    list's own address), after a change, or with the refusal and a 4xx."""
    actor = request.user
    assert isinstance(actor, User)
    pk = request.POST.get("alert", "")
    target = Alert.objects.filter(pk=int(pk)) if pk.isdigit() else Alert.objects.none()
    if not target.exists():
        messages.error(request, _("No such alert."))
        return _page(request, status=404)
    action = request.POST.get("action")
    if action == "acknowledge":
        if services.alerts_acknowledge(actor=actor, alerts=target):
            messages.success(request, _("Alert taken on."))
        else:
            messages.info(request, _("Already taken on or resolved by someone else."))
    elif action == "resolve":
        note = request.POST.get("note", "").strip()
        if not note:
            messages.error(request, _("Write what was done before resolving the alert."))
            return _page(request, status=400)
        if services.alerts_resolve(actor=actor, alerts=target, note=note):
            messages.success(request, _("Alert resolved."))
        else:
            messages.info(request, _("Already resolved by someone else."))
    else:
        messages.error(request, _("Choose what to do with the alert."))
        return _page(request, status=400)
    return redirect(request.get_full_path())
