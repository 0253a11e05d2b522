"""Django admin for hand-over subscriptions and their deliveries."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from handover import events, subscriptions
from handover.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from passcode_portal.admin_base import NoRevertMixin, actor_of


class WebhookSubscriptionForm(forms.ModelForm):  # type: ignore[type-arg]
    """The secret is write-only: never shown, replaced only when a new one is typed."""

    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("event types"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    new_secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Write-only. Leave empty to keep the current secret; a new subscription left empty "
            "gets a generated one, shown once after saving."
        ),
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "event_types", "region", "active"]

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        errors = subscriptions.url_errors(url)
        if errors:
            raise ValidationError(errors)
        return url


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(NoRevertMixin, SimpleHistoryAdmin):
    """Receiving systems of hand-over webhooks (officials also manage them through the API)."""

    form = WebhookSubscriptionForm
    list_display = ["name", "url", "events", "region", "active", "created_at", "created_by"]
    list_select_related = ["region", "created_by"]
    list_filter = ["active"]
    search_fields = ["name", "url"]
    autocomplete_fields = ["region"]
    readonly_fields = ["created_at", "created_by"]
    fields = ["name", "url", "event_types", "region", "active", "new_secret", *readonly_fields]

    @admin.display(description=_("event types"))
    def events(self, obj: WebhookSubscription) -> str:
        return ", ".join(obj.event_types)

    def save_model(
        self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: Any
    ) -> None:
        generated = ""
        if form.cleaned_data.get("new_secret"):
            obj.secret = form.cleaned_data["new_secret"]
        elif not change:
            obj.secret = generated = subscriptions.new_secret()
        if not change:
            obj.created_by = actor_of(request)
        super().save_model(request, obj, form, change)
        transaction.on_commit(events.subscriptions_changed)
        if generated:
            self.message_user(
                request,
                _(
                    "The signing secret of %(name)s is %(secret)s. Store it now: it is not "
                    "shown again."
                )
                % {"name": obj.name, "secret": generated},
                level=messages.WARNING,
            )

    def delete_model(self, request: HttpRequest, obj: WebhookSubscription) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(events.subscriptions_changed)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(events.subscriptions_changed)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The delivery log: read-only, since rows are queued by events and moved by the sender.
    "Deliver again" puts the selected rows back in the queue."""

    list_display = [
        "created_at",
        "event",
        "subscription",
        "trip",
        "status",
        "attempts",
        "response_status",
        "next_attempt_at",
        "delivered_at",
        "last_error",
    ]
    list_filter = ["status", "event", "subscription"]
    list_select_related = ["subscription", "trip"]
    search_fields = ["trip__reference", "dedupe_key"]
    date_hierarchy = "created_at"
    actions = ["deliver_again"]
    readonly_fields = [
        "subscription",
        "event",
        "trip",
        "dedupe_key",
        "payload",
        "status",
        "attempts",
        "response_status",
        "last_error",
        "next_attempt_at",
        "claimed_at",
        "delivered_at",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_deliver_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("handover.change_webhookdelivery"))

    @admin.action(description=_("Deliver the selected webhooks again"), permissions=["deliver"])
    def deliver_again(self, request: HttpRequest, queryset: Any) -> None:
        count = subscriptions.deliveries_retry(
            ids=queryset.values_list("pk", flat=True), actor=actor_of(request)
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d webhook queued again.",
                "%(count)d webhooks queued again.",
                count,
            )
            % {"count": count},
        )
