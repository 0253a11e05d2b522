"""Region risk levels, the officials' page: the regions found by name or code, filtered by level
and risk level, a page at a time; one or many ticked (or a whole city or province with everything
below it) set to a new level after a preview of how many active passes would change colour; and
the history of risk changes with who, when and the level before and after."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from dashboards.forms import RegionChangeForm, RegionFilters
from dashboards.history import HISTORY_ROWS, Change, changes
from dashboards.views import colour_moves, official_only, query_without_page
from passcode_portal.errors import DomainError
from places.models import Region, RiskLevel
from trucks import grading, lifecycle, services
from trucks import selectors as trucks_selectors
from trucks.forms.common import apply_domain_errors

ROWS_PER_PAGE = 50
# How many of the regions a change concerns are named in its preview; the rest are counted.
NAMED = 30
NAMED_IN_HISTORY = 5
# The history rows read to show HISTORY_ROWS entries: a province set at once is a row for each
# of its regions, and one entry.
HISTORY_READ = HISTORY_ROWS * 10


@login_required
@require_http_methods(["GET", "POST"])
def region_list(request: HttpRequest) -> HttpResponse:
    official_only(request)
    if request.method == "POST":
        return _act(request)
    return _page(request, RegionChangeForm())


def _rows(regions: list[Region]) -> list[dict[str, Any]]:
    """Each region with the level in force, which may come from its city or province: a county
    of a high-risk city is high-risk whatever its own level (``grading.effective_risk``)."""
    above = dict(
        Region.objects.filter(code__in=grading.ancestor_codes(r.code for r in regions)).values_list(
            "code", "risk_level"
        )
    )
    levels = dict(RiskLevel.choices)
    rows = []
    for region in regions:
        in_force = grading.effective_risk(region.code, above)
        rows.append(
            {
                "region": region,
                "in_force": in_force,
                "in_force_label": levels[in_force],
                "inherited": in_force != region.risk_level,
            }
        )
    return rows


def risk_changes() -> list[Change]:
    """The latest risk changes, newest first, those made at once together. Each is shown against
    the region's row before it, which may be older than the latest rows: every history row of
    the regions concerned is read (a few each). A region's first row, written just before its
    first change, holds the level it had; it is not itself a change."""
    latest = list(
        Region.history.filter(history_type="~")
        .order_by("-history_date", "-history_id")
        .values_list("code", flat=True)[:HISTORY_READ]
    )
    records = Region.history.filter(code__in=set(latest)).select_related("history_user")
    names = dict(Region.objects.filter(code__in=set(latest)).values_list("code", "full_name"))
    shown = changes(
        records.order_by("-history_date", "-history_id"),
        fields=["risk_level"],
        subject=lambda record: f"{names.get(record.code, '')} ({record.code})",
    )
    return _together([c for c in shown if c.kind == "~"])[:HISTORY_ROWS]


def _together(shown: list[Change]) -> list[Change]:
    """Changes made at once (one official, one instant, one reason, the same levels before and
    after: a city and its counties) as one entry naming the regions, the first few by name."""
    groups: dict[tuple[Any, ...], list[Change]] = {}
    for change in shown:
        groups.setdefault((change.when, change.who, change.reason, change.fields), []).append(
            change
        )
    out = []
    for (when, who, reason, fields), same in groups.items():
        # Newest first, and rows written at once in code order: reversed, the city comes first.
        names = "、".join(c.subject for c in [*reversed(same)][:NAMED_IN_HISTORY])
        if len(same) > NAMED_IN_HISTORY:
            more = len(same) - NAMED_IN_HISTORY
            names += " " + ngettext("and %(n)d more", "and %(n)d more", more) % {"n": more}
        out.append(
            Change(when=when, who=who, kind="~", subject=names, fields=fields, reason=reason)
        )
    return out


def _page(
    request: HttpRequest,
    form: RegionChangeForm,
    *,
    preview: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    filters = RegionFilters(request.GET)
    chosen = filters.chosen()
    regions = trucks_selectors.regions_list(
        level=chosen["level"], risk_level=chosen["risk_level"], search=chosen["q"]
    )
    page = Paginator(regions, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    ticked = set(request.POST.getlist("regions")) if request.method == "POST" else set()
    return render(
        request,
        "dashboards/regions.html",
        {
            "filters": filters,
            "chosen": chosen,
            "page": page,
            "rows": _rows(list(page.object_list)),
            "query": query_without_page(request),
            "form": form,
            "ticked": ticked,
            "preview": preview,
            "changes": risk_changes(),
        },
        status=status,
    )


def _act(request: HttpRequest) -> HttpResponse:
    """Preview a change, or make the change previewed; the list again as it was filtered (the
    form posts to the list's own address), with the refusal and a 400 when the input is bad."""
    actor = request.user
    assert isinstance(actor, User)
    form = RegionChangeForm(request.POST)
    codes = request.POST.getlist("regions")
    action = request.POST.get("action")
    if action not in ("preview", "save"):
        messages.error(request, _("Choose what to do with the regions."))
        return _page(request, form, status=400)
    if not form.is_valid():
        return _page(request, form, status=400)
    level, below = form.cleaned_data["risk_level"], form.cleaned_data["below"]
    try:
        if action == "preview":
            return _preview(request, form, codes)
        chosen = services.regions_chosen(codes, below=below)
        seen = request.POST.get("seen", "")
        if not seen:
            form.add_error(None, _("Preview the change before saving it."))
            return _page(request, form, status=400)
        if seen != _seen(chosen):
            messages.warning(
                request,
                _(
                    "Some of these regions were changed by someone else after your preview. "
                    "Nothing was saved: here is the preview again."
                ),
            )
            return _preview(request, form, codes, status=409)
        done = services.regions_set_risk(
            actor=actor,
            codes=codes,
            risk_level=level,
            reason=form.cleaned_data["reason"],
            below=below,
        )
    except DomainError as exc:
        apply_domain_errors(form, exc.fields or {"": [exc.message]})
        return _page(request, form, status=exc.status)
    label = dict(RiskLevel.choices)[level]
    if done.changed:
        messages.success(
            request,
            ngettext(
                "%(n)d region set to %(level)s; its active passes are being regraded.",
                "%(n)d regions set to %(level)s; their active passes are being regraded.",
                len(done.changed),
            )
            % {"n": len(done.changed), "level": label},
        )
    else:
        messages.info(request, _("Nothing changed: every region chosen was already at that level."))
    return redirect(request.get_full_path())


def _seen(chosen: list[Region]) -> str:
    """What a preview was made against, carried by its confirm form: the chosen regions' levels,
    digested. Should another official change one of them meanwhile, the counts shown are no
    longer what saving would do, and the official is shown them again instead."""
    state = ";".join(f"{r.code}={r.risk_level}" for r in chosen)
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def _preview(
    request: HttpRequest, form: RegionChangeForm, codes: list[str], *, status: int = 200
) -> HttpResponse:
    level = form.cleaned_data["risk_level"]
    chosen = services.regions_chosen(codes, below=form.cleaned_data["below"])
    changing = [r for r in chosen if r.risk_level != level]
    result = lifecycle.passes_preview(risk_levels={r.code: level for r in changing})
    preview = {
        "level": level,
        "level_label": dict(RiskLevel.choices)[level],
        "codes": sorted({c.strip() for c in codes} - {""}),
        "changing": changing[:NAMED],
        "changing_count": len(changing),
        "more": max(len(changing) - NAMED, 0),
        "unchanged_count": len(chosen) - len(changing),
        "result": colour_moves(result),
        "seen": _seen(chosen),
    }
    return _page(request, form, preview=preview, status=status)
