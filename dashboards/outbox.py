"""The officials' outbox page, part of the command centre: text messages and e-mails given up as
failed, or late to go out, with the last error of each, filtered by channel, message and state,
each linked to its trip's timeline; and "send again", each one audited (who, when, the status
and attempts it replaced, ``notifications.models.NotificationResend``) and shown on the page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from dashboards import history
from dashboards.views import official_only, query_without_page
from notifications import messages as texts
from notifications import sending as notify
from notifications import tasks as notify_tasks
from notifications.models import Notification, NotificationResend

ROWS_PER_PAGE = 50


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


def _chosen(params: dict[str, str]) -> dict[str, str]:
    """The filters asked for; one that names nothing known is left out, not an error."""
    channel = params.get("channel", "")
    template = params.get("template", "")
    state = params.get("state", "")
    return {
        "channel": channel if channel in Notification.Channel.values else "",
        "template": template if template in texts.TEMPLATES else "",
        "state": state if state in ("failed", "late") else "",
    }


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request: HttpRequest) -> HttpResponse:
    official_only(request)
    actor = request.user
    assert isinstance(actor, User)  # signed in (login_required) and an official
    if request.method == "POST":
        count = notify.notifications_resend(_ids(request.POST.getlist("id")), actor=actor)
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
        # The form posts to the list as it was filtered and paged: back to the same list.
        return redirect(request.get_full_path())

    chosen = _chosen(request.GET.dict())
    resends = NotificationResend.objects.select_related("by").order_by("-at", "-pk")
    rows = notify.notifications_needing_attention(
        channel=chosen["channel"], template=chosen["template"], state=chosen["state"]
    ).prefetch_related(Prefetch("resends", queryset=resends))
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboards/outbox.html",
        {
            "page": page,
            "rows": [
                {
                    "notification": n,
                    "template_label": texts.template_label(n.template),
                    "last_resend": next(iter(n.resends.all()), None),
                }
                for n in page.object_list
            ],
            "query": query_without_page(request),
            "chosen": chosen,
            "channels": Notification.Channel.choices,
            "templates": sorted(
                ((code, texts.template_label(code)) for code in texts.TEMPLATES),
                key=lambda choice: choice[1],
            ),
            "states": [("failed", _("Failed")), ("late", _("Late"))],
            "late_minutes": int(notify.LATE_AFTER.total_seconds() // 60),
            "changes": _changes(chosen),
        },
    )


def _changes(chosen: dict[str, str]) -> list[history.Change]:
    """The notifications sent again, newest first, of the channel and message chosen."""
    resends = notify.resends_list(channel=chosen["channel"], template=chosen["template"])
    shown = []
    for resend in resends[: history.HISTORY_ROWS]:
        n = resend.notification
        trip = n.trip.reference if n.trip is not None else n.context.get("reference", "—")
        subject = _("Sent again: %(message)s · %(channel)s · %(trip)s") % {
            "message": texts.template_label(n.template),
            "channel": n.get_channel_display(),
            "trip": trip,
        }
        shown.append(history.sent_again(resend, subject=subject))
    return shown
