"""The officials' exports page: ask for trips or scans of a period, at one checkpoint or all, as
CSV or Excel. A small export downloads at once, streamed as it is read; a large one, or one the
official asks to have built in the background, is queued for a worker and listed with its
progress, updated in place (static/js/exports.js polls the API), and its download link when
built. Each export asked for is kept with who asked and what became of it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from dashboards.exports import files, selectors, services
from dashboards.history import HISTORY_ROWS, changes
from dashboards.models import Export
from dashboards.periods import today
from dashboards.views import official_only, query_without_page
from passcode_portal.errors import DomainError
from places.models import Checkpoint

ROWS_PER_PAGE = 20
POLL_SECONDS = 3
_FIELDS = ("kind", "format", "from", "to", "checkpoint")


@login_required
@require_http_methods(["GET", "POST"])
def exports_page(request: HttpRequest) -> HttpResponse:
    official_only(request)
    if request.method == "POST":
        return _ask(request)
    day = today().isoformat()
    chosen = {"kind": "scans", "format": "csv", "from": day, "to": day, "checkpoint": ""}
    return _page(request, chosen)


def _ask(request: HttpRequest) -> HttpResponse:
    """Stream the export, or queue it and show the list again (a reload asks nothing twice);
    the form again with the refusal and a 400 when it cannot be made."""
    actor = request.user
    assert isinstance(actor, User)
    chosen = {name: request.POST.get(name, "").strip() for name in _FIELDS}
    try:
        spec = services.export_spec(
            kind=chosen["kind"],
            format=chosen["format"],
            first=chosen["from"],
            last=chosen["to"],
            checkpoint=chosen["checkpoint"],
        )
    except DomainError as exc:
        return _page(request, chosen, error=exc, status=exc.status)
    if services.is_immediate(spec) and not request.POST.get("background"):
        return _download(actor, spec)
    export = services.export_queue(actor=actor, spec=spec)
    messages.success(
        request,
        _("Export queued: %(rows)s rows. It is listed below with its progress.")
        % {"rows": f"{export.rows_total:,}"},
    )
    return redirect(reverse("dashboards:exports"))


def _download(actor: User, spec: services.ExportSpec) -> HttpResponse:
    body, opened = services.export_stream(actor=actor, spec=spec)
    content_type = files.CONTENT_TYPES[spec.format]
    response: HttpResponse | StreamingHttpResponse
    if opened is not None:
        response = FileResponse(opened, content_type=content_type)
    else:
        response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{spec.file_name()}"'
    # A proxy in front must pass the rows on as they come, not gather the file first.
    response["X-Accel-Buffering"] = "no"
    return response  # type: ignore[return-value]


def _page(
    request: HttpRequest,
    chosen: dict[str, str],
    *,
    error: DomainError | None = None,
    status: int = 200,
) -> HttpResponse:
    exports = selectors.exports_of(request.user).order_by("-created_at", "-pk")
    page = Paginator(exports, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    shown = [export.pk for export in page.object_list]
    history = Export.history.filter(id__in=shown).select_related("history_user")
    return render(
        request,
        "dashboards/exports.html",
        {
            "page": page,
            "query": query_without_page(request),
            "chosen": chosen,
            "error": error,
            "field_errors": {name: " ".join(texts) for name, texts in _texts(error).items()},
            "kinds": Export.Kind.choices,
            "formats": Export.Format.choices,
            "checkpoints": Checkpoint.objects.filter(active=True).order_by("code"),
            "immediate_rows": f"{settings.EXPORTS_IMMEDIATE_MAX_ROWS:,}",
            "keep_hours": settings.EXPORTS_KEEP_HOURS,
            "poll_seconds": POLL_SECONDS,
            "texts": {
                "statuses": {value: str(label) for value, label in Export.Status.choices},
                "download": _("Download"),
            },
            "changes": changes(
                history.order_by("-history_date", "-history_id")[:HISTORY_ROWS],
                fields=["kind", "format", "first_day", "last_day", "status"],
                subject=lambda record: _("Export %(id)s") % {"id": record.id},
            ),
        },
        status=status,
    )


def _texts(error: DomainError | None) -> dict[str, list[str]]:
    if error is None:
        return {}
    return {str(name): [str(text) for text in texts] for name, texts in error.fields.items()}
