"""Django admin: every registered model answers for the administrator, the audit history shows,
service-owned rows stay guarded, and nobody else gets in."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from checkpoints.models import Alert, ScanEvent, WalkIn
from places.models import Checkpoint, Region, StaffAssignment
from tests.lifecycle import run_after_commit
from trucks import services
from trucks.models import Pass, PassStatus, Policy, Trip

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
OURS = ("trucks", "checkpoints")


def sign_in(client: Client, username: str) -> None:
    # django-axes needs the request to throttle by address.
    request = RequestFactory().post("/accounts/login/")
    assert client.login(request=request, username=username, password="passcode-demo")


@pytest.fixture
def admin_client(client: Client) -> Client:
    # The demo's scans, alerts and walk-ins too: every model of ours holds a row.
    call_command("load_demo", "--force", stdout=io.StringIO())
    call_command("load_demo_scans", "--force", stdout=io.StringIO())
    sign_in(client, "admin")
    return client


def _url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED]
)
def test_every_registered_model_answers(
    admin_client: Client, model: type[Model], model_admin: admin.ModelAdmin[Model]
) -> None:
    assert admin_client.get(_url(model, "changelist")).status_code == 200

    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(username="admin")
    add = admin_client.get(_url(model, "add"))
    assert add.status_code == (200 if model_admin.has_add_permission(request) else 403)

    obj = model._default_manager.order_by("pk").first()
    if model._meta.app_label in OURS:
        assert obj is not None, "the demo holds a row of every model of ours"
    if obj is not None:
        pk = quote(obj.pk)
        assert admin_client.get(_url(model, "change", pk)).status_code == 200
        assert admin_client.get(_url(model, "history", pk)).status_code == 200


def test_the_models_with_history_use_the_history_admin() -> None:
    for model, model_admin in REGISTERED:
        if hasattr(model, "history") and model._meta.app_label in OURS:
            assert isinstance(model_admin, SimpleHistoryAdmin), model._meta.label


def test_a_trip_shows_its_history_and_passes(admin_client: Client) -> None:
    trip = Trip.objects.get(status="cancelled")
    response = admin_client.get(_url(Trip, "history", trip.pk))
    assert response.status_code == 200
    records = response.context["page_obj"].object_list
    assert len(records) == trip.history.count() >= 2  # registered, then cancelled

    with_rider = Trip.objects.filter(co_riders__isnull=False).first()
    assert with_rider is not None
    change = admin_client.get(_url(Trip, "change", with_rider.pk)).content.decode()
    rider = with_rider.co_riders.get()
    assert with_rider.reference in change and rider.id_number in change  # unmasked
    assert f"/admin/trucks/pass/{with_rider.passes.get().pk}/change/" in change


def test_a_pass_shows_its_token_read_only(admin_client: Client) -> None:
    pass_ = Pass.objects.filter(status=PassStatus.ACTIVE).first()
    assert pass_ is not None
    page = admin_client.get(_url(Pass, "change", pass_.pk)).content.decode()
    assert services.pass_token(pass_) in page
    assert 'name="token"' not in page


def test_changing_a_risk_level_regrades_and_records_who(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    pass_ = Pass.objects.get(
        status=PassStatus.ACTIVE, reasons=[{"code": "medium_risk_origin", "regions": ["320412"]}]
    )
    # The regrade runs in a worker once the change commits; here, at the end of the block.
    with run_after_commit(django_capture_on_commit_callbacks):
        response = admin_client.post(
            _url(Region, "change", "320412"), {"risk_level": "low", "_save": "1"}
        )
    assert response.status_code == 302
    pass_.refresh_from_db()
    assert pass_.colour == "green"
    record = Region.objects.get(code="320412").history.first()
    assert record is not None and record.history_user.username == "admin"


def test_a_policy_change_is_a_new_version(admin_client: Client) -> None:
    current = services.policy_current()
    add = admin_client.get(_url(Policy, "add"))
    assert add.context["adminform"].form.initial["test_max_age_hours"] == current.test_max_age_hours

    response = admin_client.post(
        _url(Policy, "add"),
        {
            "red_risk_level": "high",
            "yellow_risk_level": "medium",
            "test_max_age_hours": 24,
            "window_before_hours": 2,
            "window_after_hours": 2,
            "min_lead_hours": 0,
            "max_window_hours": 72,
            "multi_entry_max_days": 7,
            "max_advance_days": 7,
            "retention_days": 28,
            "remind_window_hours": 12,
            "remind_test_hours": 24,
            "remind_expiry_hours": 2,
            "overdue_arrival_hours": 6,
            "exit_grace_hours": 2,
            "offline_max_age_minutes": 15,
            "note": "24-hour tests",
        },
    )
    assert response.status_code == 302
    new = services.policy_current()
    assert new.version == current.version + 1
    assert new.test_max_age_hours == 24 and new.created_by is not None
    current.refresh_from_db()
    assert current.test_max_age_hours == 48

    edit = admin_client.post(_url(Policy, "change", current.pk), {"test_max_age_hours": 1})
    assert edit.status_code == 403
    assert admin_client.post(_url(Policy, "delete", current.pk)).status_code == 403


def test_scans_and_walk_ins_are_read_only_records(admin_client: Client) -> None:
    for model in (ScanEvent, WalkIn):
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None
        page = admin_client.get(_url(model, "change", obj.pk)).content.decode()
        assert 'name="_save"' not in page
        assert admin_client.post(_url(model, "change", obj.pk), {}).status_code == 403
        assert admin_client.post(_url(model, "delete", obj.pk)).status_code == 403


def test_alerts_are_marked_resolved_with_who_and_when(admin_client: Client) -> None:
    earlier = Alert.objects.get(kind=Alert.Kind.RED_CODE)
    official = User.objects.get(username="official")
    resolved_at = timezone.now() - timedelta(hours=1)
    Alert.objects.filter(pk=earlier.pk).update(resolved_at=resolved_at, resolved_by=official)
    selected = list(Alert.objects.values_list("pk", flat=True))
    assert len(selected) >= 2

    response = admin_client.post(
        _url(Alert, "changelist"),
        {"action": "mark_resolved", "_selected_action": selected},
        follow=True,
    )

    assert response.status_code == 200
    (message,) = response.context["messages"]
    assert str(message).startswith(f"{len(selected) - 1} ")
    admin = User.objects.get(username="admin")
    for alert in Alert.objects.exclude(pk=earlier.pk):
        assert alert.resolved_by == admin and alert.resolved_at is not None
    # An alert resolved before keeps who resolved it and when.
    earlier.refresh_from_db()
    assert earlier.resolved_by == official and earlier.resolved_at == resolved_at
    open_only = admin_client.get(_url(Alert, "changelist"), {"state": "open"})
    assert open_only.context["cl"].result_count == 0


def test_an_alert_takes_a_note_but_keeps_its_facts(admin_client: Client) -> None:
    alert = Alert.objects.get(kind=Alert.Kind.ALREADY_INSIDE)
    response = admin_client.post(
        _url(Alert, "change", alert.pk),
        {"note": "司机承认借用通行码，已处理", "kind": "red_code", "_save": "1"},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.note == "司机承认借用通行码，已处理"
    assert alert.kind == Alert.Kind.ALREADY_INSIDE


def test_a_supervisor_is_shown_and_set_on_the_checkpoint(admin_client: Client) -> None:
    listing = admin_client.get(_url(StaffAssignment, "changelist"), {"supervisor__exact": "1"})
    assert [a.checkpoint.code for a in listing.context["cl"].result_list] == ["JZ-G55-N"]
    change = admin_client.get(
        _url(Checkpoint, "change", Checkpoint.objects.get(code="JZ-G55-N").pk)
    )
    assert 'name="staff_assignments-0-supervisor"' in change.content.decode()


@pytest.mark.parametrize("username", ["driver", "official"])
def test_others_are_sent_to_the_admin_sign_in(admin_client: Client, username: str) -> None:
    admin_client.logout()
    sign_in(admin_client, username)
    response = admin_client.get(_url(Trip, "changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_visitors_are_sent_to_the_admin_sign_in(client: Client) -> None:
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
