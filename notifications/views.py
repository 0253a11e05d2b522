"""The officials' view of the notification outbox: messages given up as failed and messages
late to go out, with the last error of each, and "send again"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from notifications import messages as texts
from notifications import sending as notify
from notifications import tasks as notify_tasks
from trucks.roles import is_official

ROWS_PER_PAGE = 50


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request: HttpRequest) -> HttpResponse:
    if not is_official(request.user):
        raise PermissionDenied(_("Only officials see the notification outbox."))
    url = reverse("notifications:list")
    if request.method == "POST":
        count = notify.notifications_resend(_ids(request.POST.getlist("id")))
        notify_tasks.kick_sender()
        messages.success(
            request,
            ngettext(
                "%(count)d notification queued again.",
                "%(count)d notifications queued again.",
                count,
            )
            % {"count": count},
        )
        number = request.POST.get("page", "")
        return redirect(f"{url}?page={number}" if number.isdigit() else url)

    page = Paginator(notify.notifications_needing_attention(), ROWS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [
        {"notification": n, "template_label": texts.template_label(n.template)}
        for n in page.object_list
    ]
    return render(
        request,
        "notifications/outbox.html",
        {
            "page": page,
            "rows": rows,
            "late_minutes": int(notify.LATE_AFTER.total_seconds() // 60),
        },
    )
