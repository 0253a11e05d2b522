"""Django admin for checkpoint sites and the staff assigned to them (with their audit history),
and for what happens there: scans and walk-ins are records, shown read-only; alerts are for
acting on, and are marked resolved here (who and when are recorded)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from checkpoints import services
from checkpoints.models import Alert, ScanEvent, WalkIn
from places.models import Checkpoint, StaffAssignment


class StaffAssignmentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = StaffAssignment
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "supervisor", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Checkpoint)
class CheckpointAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "kind", "region", "active"]
    list_select_related = ["region"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["region"]
    readonly_fields = ["created_at"]
    inlines = [StaffAssignmentInline]


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(SimpleHistoryAdmin):
    list_display = ["user", "checkpoint", "supervisor", "created_at"]
    list_select_related = ["user", "checkpoint"]
    list_filter = ["supervisor", "checkpoint"]
    search_fields = ["user__username", "checkpoint__code", "checkpoint__name"]
    autocomplete_fields = ["user", "checkpoint"]
    readonly_fields = ["created_at"]


class RecordAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Rows that record what happened: shown, never added, changed or deleted by hand (the
    change page is a read-only view). Their tables grow by the thousand a day, so the list does
    not count them all."""

    show_full_result_count = False
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ScanEvent)
class ScanEventAdmin(RecordAdmin):
    list_display = [
        "received_at",
        "checkpoint",
        "direction",
        "verdict",
        "reason",
        "plate",
        "reference",
        "staff",
        "overridden",
    ]
    list_select_related = ["checkpoint", "staff", "trip", "trip__vehicle"]
    list_filter = ["direction", "verdict", "reason", "landing_test", "checkpoint"]
    search_fields = ["trip__reference", "trip__vehicle__plate", "observed_plate", "staff__username"]
    date_hierarchy = "received_at"
    fieldsets = [
        (None, {"fields": ["checkpoint", "staff", "direction", "scanned_at", "received_at"]}),
        (_("Verdict"), {"fields": ["verdict", "reason", "warnings"]}),
        (
            _("Vehicle"),
            {"fields": ["trip", "trip_pass", "observed_plate", "persons", "confirmed_at"]},
        ),
        (
            _("Landing test"),
            {"fields": ["landing_test", "landing_test_sampled_at", "landing_test_result_at"]},
        ),
        (_("Override"), {"fields": ["overridden_by", "overridden_at", "override_reason"]}),
        (None, {"fields": ["scan_id", "token_digest"]}),
    ]

    @admin.display(description=_("number plate"), ordering="trip__vehicle__plate")
    def plate(self, obj: ScanEvent) -> str:
        return obj.trip.vehicle.plate if obj.trip is not None else obj.observed_plate

    @admin.display(description=_("reference"), ordering="trip__reference")
    def reference(self, obj: ScanEvent) -> str:
        return (obj.trip.reference or "") if obj.trip is not None else ""

    @admin.display(boolean=True, description=_("overridden"))
    def overridden(self, obj: ScanEvent) -> bool:
        return obj.overridden_by_id is not None


@admin.register(WalkIn)
class WalkInAdmin(RecordAdmin):
    list_display = [
        "recorded_at",
        "checkpoint",
        "direction",
        "plate",
        "driver_name",
        "persons",
        "outcome",
        "staff",
    ]
    list_select_related = ["checkpoint", "staff"]
    list_filter = ["outcome", "direction", "checkpoint"]
    search_fields = ["plate", "driver_name", "phone", "staff__username"]
    date_hierarchy = "recorded_at"


class AlertOpenFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("open", pgettext_lazy("alert state", "Open")), ("resolved", _("Resolved"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Alerts are raised by the services (once per cause) and resolved here, by the action or
    one by one; only the note is written by hand."""

    list_display = [
        "raised_at",
        "kind",
        "checkpoint",
        "trip",
        "plate",
        "resolved_at",
        "resolved_by",
        "note",
    ]
    list_select_related = ["checkpoint", "trip", "trip__vehicle", "resolved_by"]
    list_filter = [AlertOpenFilter, "kind", "checkpoint"]
    search_fields = ["key", "trip__reference", "trip__vehicle__plate", "note"]
    date_hierarchy = "raised_at"
    actions = ["mark_resolved"]
    readonly_fields = [
        "kind",
        "key",
        "raised_at",
        "checkpoint",
        "trip",
        "scan",
        "detail",
        "resolved_at",
        "resolved_by",
    ]
    fields = [*readonly_fields, "note"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("number plate"), ordering="trip__vehicle__plate")
    def plate(self, obj: Alert) -> str:
        return obj.trip.vehicle.plate if obj.trip is not None else ""

    @admin.action(description=_("Mark the selected alerts resolved"), permissions=["change"])
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        # One UPDATE, and only of open alerts: an alert resolved earlier keeps who resolved it
        # and when, even if two officials act on the same list at once.
        count = services.alerts_resolve(actor=cast(User, request.user), alerts=queryset)
        self.message_user(
            request,
            ngettext("%(count)d alert marked resolved.", "%(count)d alerts marked resolved.", count)
            % {"count": count},
            messages.SUCCESS,
        )
