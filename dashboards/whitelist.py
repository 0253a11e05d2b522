"""The whitelist page (``/dashboard/whitelist/``): the entries, filtered by state and found by
company, those about to expire first; an entry added, changed or revoked with a reason, each
change in its history with who, when, before and after. The rules are the registration side's
(``trucks.services.whitelist``); this page parses the form and shows the answer."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_http_methods

from dashboards.history import HISTORY_ROWS, changes
from dashboards.views import official_only, query_without_page
from passcode_portal.errors import DomainError
from trucks import services
from trucks.forms.common import apply_domain_errors, datetime_field, text_field
from trucks.models import CargoCategory, Company, WhitelistEntry

ROWS_PER_PAGE = 50
# An entry ending within this many days is listed as about to expire, so officials renew it or
# let it lapse on purpose before trucks are refused at the gate.
EXPIRING_DAYS = 7
STATES = ("active", "expiring", "expired", "revoked", "all")
COMPANY_CHOICES = 500
HISTORY_FIELDS = [
    "plates",
    "cargo_categories",
    "valid_from",
    "valid_until",
    "priority_lane",
    "reason",
    "revoked_at",
    "revoke_reason",
]
# Plates typed one a line, or separated by commas (a space stays inside a plate: 豫H 12345).
_PLATE_SEPARATORS = re.compile(r"[\n\r,，;；、]+")


class EntryForm(forms.Form):
    company = forms.TypedChoiceField(label=gettext_lazy("Company"), coerce=int, required=False)
    plates = forms.CharField(
        label=gettext_lazy("Plates"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One plate a line, or separated by commas. Leave empty for every vehicle of the "
            "company."
        ),
    )
    cargo_categories = forms.MultipleChoiceField(
        label=gettext_lazy("Cargo categories"),
        required=False,
        choices=CargoCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every cargo category."),
    )
    valid_from = datetime_field(gettext_lazy("Valid from"), gettext_lazy("start of validity"))
    valid_until = datetime_field(
        gettext_lazy("Valid until"),
        gettext_lazy("end of validity"),
        required=False,
        help_text=gettext_lazy("Leave empty for no end date."),
    )
    priority_lane = forms.BooleanField(
        label=gettext_lazy("Priority lane at the checkpoint"), required=False
    )
    reason = text_field(
        gettext_lazy("Reason"),
        gettext_lazy("reason for whitelisting"),
        services.WHITELIST_REASON_MAX_LENGTH,
    )

    def __init__(self, *args: Any, companies: QuerySet[Company], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["company"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("Choose a company"))] + [
            (c.pk, f"{c.name} ({c.uscc})") for c in companies[:COMPANY_CHOICES]
        ]

    def data_for_service(self) -> services.WhitelistData:
        d = self.cleaned_data
        return services.WhitelistData(
            company=d.get("company") or None,
            valid_from=d.get("valid_from"),
            valid_until=d.get("valid_until"),
            plates=[p for p in _PLATE_SEPARATORS.split(d.get("plates", "")) if p.strip()],
            cargo_categories=d.get("cargo_categories", []),
            priority_lane=bool(d.get("priority_lane")),
            reason=d.get("reason", ""),
        )


def _initial(entry: WhitelistEntry) -> dict[str, Any]:
    return {
        "company": entry.company_id,
        "plates": "\n".join(entry.plates),
        "cargo_categories": entry.cargo_categories,
        "valid_from": timezone.localtime(entry.valid_from),
        "valid_until": timezone.localtime(entry.valid_until) if entry.valid_until else None,
        "priority_lane": entry.priority_lane,
        "reason": entry.reason,
    }


def _companies(search: str, keep: int | None = None) -> QuerySet[Company]:
    """The companies to pick from: those matching the search (name or credit code), and the one
    already picked, so a search does not drop it."""
    companies = Company.objects.order_by("name")
    if search:
        found = Q(name__icontains=search) | Q(uscc__icontains=search)
        companies = companies.filter(found | Q(pk=keep) if keep else found)
    return companies


def state_of(entry: WhitelistEntry, now: datetime) -> str:
    """The state an entry is listed under: revoked, expired, upcoming, expiring or active."""
    if entry.revoked_at is not None:
        return "revoked"
    if entry.valid_until is not None and entry.valid_until <= now:
        return "expired"
    if entry.valid_from > now:
        return "upcoming"
    if entry.valid_until is not None and entry.valid_until <= now + timedelta(days=EXPIRING_DAYS):
        return "expiring"
    return "active"


def _entries(state: str, search: str, now: datetime) -> QuerySet[WhitelistEntry]:
    entries = WhitelistEntry.objects.select_related("company", "created_by", "revoked_by")
    if search:
        entries = entries.filter(
            Q(company__name__icontains=search) | Q(company__uscc__icontains=search)
        )
    live = Q(revoked_at__isnull=True) & (Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    soon = now + timedelta(days=EXPIRING_DAYS)
    if state == "active":
        entries = entries.filter(live)
    elif state == "expiring":
        entries = entries.filter(live, valid_from__lte=now, valid_until__lte=soon)
    elif state == "expired":
        entries = entries.filter(revoked_at__isnull=True, valid_until__lte=now)
    elif state == "revoked":
        entries = entries.filter(revoked_at__isnull=False)
    return entries.order_by("valid_until", "company__name", "pk")


def _labelled(entries: Any, now: datetime) -> list[WhitelistEntry]:
    """The entries with their state and their cargo categories' labels, as the page shows them."""
    shown = list(entries)
    for entry in shown:
        _label(entry, now)
    return shown


def _label(entry: WhitelistEntry, now: datetime) -> None:
    categories = dict(CargoCategory.choices)
    entry.state = state_of(entry, now)  # type: ignore[attr-defined]
    entry.category_labels = [categories.get(c, c) for c in entry.cargo_categories]  # type: ignore[attr-defined]


def _history(records: Any) -> list[Any]:
    categories = dict(CargoCategory.choices)
    return changes(
        records.select_related("history_user", "company").order_by("-history_date", "-history_id")[
            :HISTORY_ROWS
        ],
        fields=HISTORY_FIELDS,
        subject=lambda record: f"{record.company.name} #{record.id}",
        wording={
            "cargo_categories": lambda value: "、".join(str(categories.get(c, c)) for c in value)
        },
    )


@login_required
@require_http_methods(["GET"])
def whitelist(request: HttpRequest) -> HttpResponse:
    official_only(request)
    now = timezone.now()
    state = request.GET.get("state", "active")
    state = state if state in STATES else "active"
    search = request.GET.get("q", "").strip()[:100]
    # Those about to expire have a section of their own, above the rest, while the list shows
    # them at all.
    expiring = None
    entries = _entries(state, search, now)
    if state in ("active", "all"):
        expiring = _entries("expiring", search, now)[:ROWS_PER_PAGE]
        entries = entries.exclude(pk__in=[e.pk for e in expiring])
    page = Paginator(entries, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboards/whitelist.html",
        {
            "page": page,
            "entries": _labelled(page.object_list, now),
            "expiring": _labelled(expiring, now) if expiring is not None else None,
            "expiring_days": EXPIRING_DAYS,
            "state": state,
            "q": search,
            "query": query_without_page(request),
            "states": [
                ("active", _("In force or starting later")),
                ("expiring", _("Expiring within %(n)d days") % {"n": EXPIRING_DAYS}),
                ("expired", _("Expired")),
                ("revoked", pgettext("whitelist entry", "Revoked")),
                ("all", _("All")),
            ],
            "changes": _history(WhitelistEntry.history.all()),
        },
    )


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
@require_http_methods(["GET", "POST"])
def whitelist_new(request: HttpRequest) -> HttpResponse:
    """A new entry: the company picked from a list that a search narrows (``company_q``)."""
    official_only(request)
    search = request.GET.get("company_q", "").strip()[:100]
    if request.method != "POST":
        now = timezone.localtime().replace(second=0, microsecond=0)
        form = EntryForm(initial={"valid_from": now}, companies=_companies(search))
        return _form_page(request, form, None, search)
    picked = request.POST.get("company", "")
    keep = int(picked) if picked.isdigit() else None
    form = EntryForm(request.POST, companies=_companies(search, keep))
    if form.is_valid():
        try:
            entry = services.whitelist_entry_create(
                actor=_actor(request), data=form.data_for_service()
            )
        except DomainError as exc:
            apply_domain_errors(form, exc.fields)
        else:
            messages.success(request, _("Whitelist entry added."))
            return redirect("dashboards:whitelist-entry", pk=entry.pk)
    return _form_page(request, form, None, search, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def whitelist_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """One entry: its scope and state, the form to change it, revoking it, its history."""
    official_only(request)
    entry = get_object_or_404(WhitelistEntry.objects.select_related("company"), pk=pk)
    companies = Company.objects.filter(pk=entry.company_id)
    if request.method != "POST":
        return _form_page(request, EntryForm(initial=_initial(entry), companies=companies), entry)
    if request.POST.get("action") == "revoke":
        return _revoke(request, entry)
    form = EntryForm(request.POST, companies=companies)
    if form.is_valid():
        try:
            data = form.data_for_service()
            # The company is not the form's to change: the entry's own stands.
            services.whitelist_entry_update(
                actor=_actor(request),
                entry=entry,
                data=replace(data, company=entry.company_id),
            )
        except DomainError as exc:
            if not exc.fields:
                messages.error(request, str(exc.message))
                return _form_page(request, form, entry, status=exc.status)
            apply_domain_errors(form, exc.fields)
        else:
            messages.success(request, _("Whitelist entry saved."))
            return redirect("dashboards:whitelist-entry", pk=entry.pk)
    return _form_page(request, form, entry, status=400)


def _revoke(request: HttpRequest, entry: WhitelistEntry) -> HttpResponse:
    form = EntryForm(initial=_initial(entry), companies=Company.objects.filter(pk=entry.company_id))
    try:
        services.whitelist_entry_revoke(
            actor=_actor(request), entry=entry, reason=request.POST.get("revoke_reason", "")
        )
    except DomainError as exc:
        revoke_errors = [str(m) for m in exc.fields.get("revoke_reason", [])]
        if not revoke_errors:
            messages.error(request, str(exc.message))
        return _form_page(request, form, entry, status=exc.status, revoke_errors=revoke_errors)
    messages.success(request, _("Whitelist entry revoked."))
    return redirect("dashboards:whitelist-entry", pk=entry.pk)


def _form_page(
    request: HttpRequest,
    form: EntryForm,
    entry: WhitelistEntry | None,
    search: str = "",
    *,
    status: int = 200,
    revoke_errors: list[str] | None = None,
) -> HttpResponse:
    now = timezone.now()
    if entry is not None:
        entry.refresh_from_db()
        _label(entry, now)
    return render(
        request,
        "dashboards/whitelist_entry.html",
        {
            "form": form,
            "entry": entry,
            "company_q": search,
            "revoke_errors": revoke_errors or [],
            "revoke_reason": request.POST.get("revoke_reason", "") if revoke_errors else "",
            "changes": _history(WhitelistEntry.history.filter(id=entry.pk)) if entry else [],
        },
        status=status,
    )
