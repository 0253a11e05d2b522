"""Django admin for checkpoint sites and the staff assigned to them, with their audit history."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from checkpoints.models import Checkpoint, StaffAssignment


class StaffAssignmentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = StaffAssignment
    extra = 0
    autocomplete_fields = ["user"]
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
    list_display = ["user", "checkpoint", "created_at"]
    list_select_related = ["user", "checkpoint"]
    list_filter = ["checkpoint"]
    search_fields = ["user__username", "checkpoint__code", "checkpoint__name"]
    autocomplete_fields = ["user", "checkpoint"]
    readonly_fields = ["created_at"]
