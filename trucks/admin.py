"""Django admin for the registration side. Administrators see everything unmasked
(docs/architecture.md, "Who uses it" and "Roles and access"); every model with a ``history`` uses
SimpleHistoryAdmin, so each change page links to the audit trail of who changed what and when.

Rows that services own are guarded here: regions' risk levels change through
``services.region_set_risk`` (so active passes are regraded), passes are only issued by
registration, and policy versions are never edited in place.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms.models import model_to_dict
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from passcode_portal.admin_base import NoRevertMixin, actor_of
from places.models import Region
from trucks import services
from trucks.links import pass_link_url
from trucks.models import (
    Company,
    CompanyMember,
    CoRider,
    Driver,
    Pass,
    Policy,
    Trip,
    TripChange,
    Vehicle,
)


@admin.register(Region)
class RegionAdmin(NoRevertMixin, SimpleHistoryAdmin):
    list_display = ["code", "full_name", "level", "risk_level", "risk_changed_at"]
    list_filter = ["risk_level", "level"]
    search_fields = ["code", "name", "full_name"]
    ordering = ["code"]
    # Names and the tree come from the division data (load_regions); only the risk level is
    # the officials' to change.
    fields = ["code", "name", "full_name", "level", "parent", "risk_level", "risk_changed_at"]
    readonly_fields = ["code", "name", "full_name", "level", "parent", "risk_changed_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Region, form: Any, change: Any) -> None:
        # Through the service: it records who changed the level and regrades active passes.
        services.region_set_risk(actor=actor_of(request), region=obj, risk_level=obj.risk_level)


class CompanyMemberInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CompanyMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Company)
class CompanyAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "uscc",
        "contact_name",
        "contact_phone",
        "is_consignee",
    ]
    list_filter = ["is_consignee"]
    search_fields = ["name", "uscc", "contact_name", "contact_phone"]
    readonly_fields = ["created_at"]
    inlines = [CompanyMemberInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "uscc",
                    "contact_name",
                    "contact_phone",
                    "contact_email",
                    "language",
                    "address",
                ]
            },
        ),
        (_("Role"), {"fields": ["is_consignee"]}),
        (None, {"fields": ["created_at"]}),
    ]


@admin.register(CompanyMember)
class CompanyMemberAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["user", "company"]
    list_select_related = ["user", "company"]
    search_fields = ["user__username", "company__name", "company__uscc"]
    autocomplete_fields = ["user", "company"]


@admin.register(Driver)
class DriverAdmin(SimpleHistoryAdmin):
    list_display = ["name", "id_number", "phone", "company", "user", "language"]
    list_select_related = ["company", "user"]
    list_filter = ["language"]
    search_fields = ["name", "id_number", "phone", "company__name", "user__username"]
    autocomplete_fields = ["company", "user"]
    readonly_fields = ["created_at"]


@admin.register(Vehicle)
class VehicleAdmin(SimpleHistoryAdmin):
    list_display = ["plate", "company", "new_energy", "description"]
    list_select_related = ["company"]
    search_fields = ["plate", "company__name"]
    autocomplete_fields = ["company"]
    readonly_fields = ["created_at"]

    @admin.display(boolean=True, description=_("new energy"))
    def new_energy(self, obj: Vehicle) -> bool:
        return obj.new_energy


class CoRiderInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CoRider
    extra = 0
    fields = ["position", "name", "id_number", "phone"]


class _RecordsInline(admin.TabularInline):  # type: ignore[type-arg]
    """Rows the services write for a trip, shown read-only: never added nor removed here."""

    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Trip | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Trip | None = None) -> bool:
        return False


class PassInline(_RecordsInline):
    """The trip's passes: they are issued by registration and regrading."""

    model = Pass
    show_change_link = True
    fields = ("colour", "status", "valid_from", "valid_until", "policy_version", "issued_at")
    readonly_fields = fields


class TripChangeInline(_RecordsInline):
    """What was changed on the trip after its registration (``trucks.services``' audit)."""

    model = TripChange
    fields = ("kind", "before", "after", "actor", "at")
    readonly_fields = fields


@admin.register(Trip)
class TripAdmin(NoRevertMixin, SimpleHistoryAdmin):
    list_display = [
        "reference",
        "vehicle",
        "driver",
        "company",
        "entry_checkpoint",
        "planned_arrival",
        "planned_departure",
        "status",
        "multi_entry",
    ]
    list_select_related = ["vehicle", "driver", "company", "entry_checkpoint"]
    list_filter = ["status", "cargo_category", "test_result", "multi_entry", "entry_checkpoint"]
    search_fields = [
        "reference",
        "vehicle__plate",
        "driver__name",
        "driver__id_number",
        "driver__phone",
        "company__name",
    ]
    date_hierarchy = "planned_arrival"
    autocomplete_fields = [
        "company",
        "registered_by",
        "vehicle",
        "driver",
        "origin_region",
        "travel_history",
        "consignee",
        "entry_checkpoint",
    ]
    readonly_fields = ["reference", "created_at", "updated_at", "cancelled_at"]
    inlines = [CoRiderInline, PassInline, TripChangeInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A trip is registered through the service, which grades it and issues its pass.
        return False


@admin.register(Pass)
class PassAdmin(NoRevertMixin, SimpleHistoryAdmin):
    list_display = [
        "id",
        "reference",
        "plate",
        "colour",
        "status",
        "valid_from",
        "valid_until",
        "policy_version",
        "issued_at",
    ]
    list_select_related = ["trip", "trip__vehicle"]
    list_filter = ["colour", "status", "policy_version", "key_id"]
    search_fields = ["trip__reference", "trip__vehicle__plate"]
    # The colour and its reasons come from grading (services.pass_regrade); the window and the
    # status stay editable for the rare hand correction, which the history records.
    readonly_fields = [
        "trip",
        "reference",
        "token",
        "link",
        "colour",
        "reasons",
        "policy_version",
        "key_id",
        "issued_at",
        "graded_at",
    ]
    fields = [
        "trip",
        "reference",
        "token",
        "link",
        "colour",
        "reasons",
        "policy_version",
        "status",
        "valid_from",
        "valid_until",
        "key_id",
        "issued_at",
        "graded_at",
        "revoked_at",
        "revoked_reason",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Passes are issued by registration (services.pass_issue), never typed in.
        return False

    @admin.display(description=_("reference"), ordering="trip__reference")
    def reference(self, obj: Pass) -> str:
        return obj.trip.reference or ""

    @admin.display(description=_("number plate"), ordering="trip__vehicle__plate")
    def plate(self, obj: Pass) -> str:
        return obj.trip.vehicle.plate

    @admin.display(description=_("QR token"))
    def token(self, obj: Pass) -> SafeString:
        return format_html("<code>{}</code>", services.pass_token(obj))

    @admin.display(description=_("pass link"))
    def link(self, obj: Pass) -> SafeString:
        url = pass_link_url(obj)
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)


# Fields a new policy version is prefilled with, from the version in force.
# Every rule a version holds (the note is per version), prefilled from the version in force.
_POLICY_RULES = [name for name in services.POLICY_FIELDS if name != "note"]


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Policy rows are versions: every pass records the version that graded it, so a row is
    never edited or deleted. "Add" makes the next version, prefilled from the one in force;
    existing versions are shown read-only."""

    list_display = [
        "version",
        "red_risk_level",
        "yellow_risk_level",
        "test_max_age_hours",
        "window_before_hours",
        "window_after_hours",
        "max_window_hours",
        "multi_entry_max_days",
        "max_advance_days",
        "strict_checkpoint",
        "created_at",
        "created_by",
        "note",
    ]
    list_select_related = ["created_by"]
    readonly_fields = ["version", "created_at", "created_by"]

    def has_change_permission(self, request: HttpRequest, obj: Policy | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Policy | None = None) -> bool:
        return False

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = dict(super().get_changeform_initial_data(request))
        latest = services.policy_current()
        initial.update(model_to_dict(latest, fields=_POLICY_RULES))
        return initial

    def save_model(self, request: HttpRequest, obj: Policy, form: Any, change: Any) -> None:
        # Through the service: it numbers the version and has the active passes regraded under
        # it. The admin goes on with ``obj`` (its change message, the redirect), so it becomes
        # the saved row.
        published = services.policy_publish(
            actor=actor_of(request), **{name: getattr(obj, name) for name in services.POLICY_FIELDS}
        )
        obj.pk, obj.version = published.pk, published.version
        obj.created_by, obj.created_at = published.created_by, published.created_at
        obj._state.adding, obj._state.db = False, published._state.db
