"""Django admin for the notifications outbox."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications import sending as notify
from notifications import tasks as notify_tasks
from notifications.models import Notification
from passcode_portal.admin_base import actor_of
from passcode_portal.outbox import OutboxStatus


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The outbox: read-only, since rows are written by the services that queue them and moved
    by the sender. "Send again" puts failed rows back in the queue."""

    list_display = [
        "created_at",
        "status",
        "channel",
        "template",
        "recipient",
        "language",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "channel", "template", "language"]
    search_fields = ["recipient", "dedupe_key", "trip__reference"]
    date_hierarchy = "created_at"
    actions = ["send_again"]
    readonly_fields = [
        "channel",
        "recipient",
        "template",
        "language",
        "context",
        "dedupe_key",
        "trip",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(
        description=_("Send the selected failed notifications again"), permissions=["change"]
    )
    def send_again(self, request: HttpRequest, queryset: Any) -> None:
        ids = queryset.filter(status=OutboxStatus.FAILED).values_list("pk", flat=True)
        count = notify.notifications_resend(list(ids), actor=actor_of(request))
        notify_tasks.kick_sender()
        self.message_user(
            request,
            ngettext(
                "%(count)d notification queued again.",
                "%(count)d notifications queued again.",
                count,
            )
            % {"count": count},
        )
