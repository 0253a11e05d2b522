"""`manage.py load_demo`: the demo a fresh install shows, one user per role, every colour and
every status, and safe to run twice."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, RequestFactory
from django.utils import timezone

from demo import contents
from places.models import Checkpoint, Region, StaffAssignment
from trucks import services
from trucks.models import (
    Colour,
    Company,
    CompanyMember,
    Driver,
    Pass,
    PassStatus,
    Trip,
    TripStatus,
    Vehicle,
)

pytestmark = pytest.mark.django_db

ROLES = ["driver", "dispatcher", "consignee", "staff", "official", "admin"]


def load_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo", "--force", *args, stdout=out)
    return out.getvalue()


def sign_in(client: Client, username: str) -> bool:
    # django-axes needs the request to throttle by address.
    request = RequestFactory().post("/accounts/login/")
    return client.login(request=request, username=username, password="passcode-demo")


@pytest.fixture
def output() -> str:
    return load_demo()


def test_it_creates_a_user_per_role_who_can_sign_in(output: str, client: Client) -> None:
    for role in ROLES:
        user = User.objects.get(username=role)
        assert user.groups.filter(name=role).exists()
        assert sign_in(client, role), role
        client.logout()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert not User.objects.get(username="official").is_staff


def test_staff_is_assigned_to_every_demo_checkpoint(output: str) -> None:
    codes = {spec.code for spec in contents.CHECKPOINTS}
    assigned = set(
        StaffAssignment.objects.filter(user__username="staff").values_list(
            "checkpoint__code", flat=True
        )
    )
    assert assigned == codes == set(Checkpoint.objects.values_list("code", flat=True))


def test_every_checkpoint_kind_exists(output: str) -> None:
    kinds = set(Checkpoint.objects.values_list("kind", flat=True))
    assert kinds == set(Checkpoint.Kind.values)
    assert Checkpoint.objects.get(code="JZ-G55-N").region_id == "410811"
    assert Checkpoint.objects.get(kind="land_port").region_id == "152501"


def test_dispatcher_belongs_to_the_company_whose_driver_is_the_driver_user(output: str) -> None:
    company = CompanyMember.objects.get(user__username="dispatcher").company
    driver = Driver.objects.get(user__username="driver")
    assert driver.company == company
    assert Trip.objects.filter(driver=driver).count() >= 2
    assert Trip.objects.filter(driver=driver, registered_by__username="driver").exists()


def test_consignee_has_inbound_trips(output: str) -> None:
    company = CompanyMember.objects.get(user__username="consignee").company
    assert company.is_consignee
    assert company.inbound_trips.filter(status=TripStatus.REGISTERED).exists()
    assert company.inbound_trips.filter(status=TripStatus.INSIDE).exists()


def test_passes_of_every_colour_and_status_exist(output: str) -> None:
    active = Pass.objects.filter(status=PassStatus.ACTIVE)
    assert set(active.values_list("colour", flat=True)) == set(Colour.values)
    assert set(Pass.objects.values_list("status", flat=True)) == set(PassStatus.values)
    assert set(Trip.objects.values_list("status", flat=True)) == set(TripStatus.values)


def test_passes_are_graded_for_their_reasons(output: str) -> None:
    reasons = {r["code"] for rs in Pass.objects.values_list("reasons", flat=True) for r in rs}
    assert {"medium_risk_origin", "no_test", "high_risk_travel", "positive_test"} <= reasons
    assert Region.objects.get(code="320412").risk_level == "medium"
    assert Region.objects.get(code="140427").risk_level == "high"


def test_the_whitelisted_company_holds_a_multi_entry_pass(output: str) -> None:
    pass_ = Pass.objects.get(trip__multi_entry=True, status=PassStatus.ACTIVE)
    trip = pass_.trip
    entry = services.whitelist_entry_for(
        company=trip.company,
        plate=trip.vehicle.plate,
        cargo_category=trip.cargo_category,
        at=timezone.now(),
    )
    # A scoped entry, made by the demo's official, whose trucks take the priority lane.
    assert entry is not None and entry.reason.startswith("保供企业")
    assert (entry.plates, entry.priority_lane) == ([trip.vehicle.plate], True)
    assert entry.cargo_categories and entry.created_by.username == "official"
    company = trip.company
    assert CompanyMember.objects.filter(company=company, user__username="dispatcher2").exists()


def test_past_passes_lie_in_the_past_and_active_ones_ahead(output: str) -> None:
    now = timezone.now()
    for pass_ in Pass.objects.select_related("trip"):
        if pass_.status in (PassStatus.EXPIRED, PassStatus.COMPLETED):
            assert pass_.valid_until < now
            assert pass_.trip.planned_departure < now
        elif pass_.status == PassStatus.ACTIVE:
            assert pass_.valid_until > now
        if pass_.trip.status in (TripStatus.INSIDE, TripStatus.ARRIVED):
            assert pass_.valid_from < now < pass_.valid_until
            assert pass_.trip.planned_arrival < now


def test_identifiers_are_valid(output: str) -> None:
    for model in (Company, Driver, Vehicle, Checkpoint):
        for obj in model._default_manager.all():
            obj.full_clean()
    assert Vehicle.objects.get(plate="豫H12345D").new_energy


def test_it_prints_users_checkpoints_and_working_pass_links(output: str, client: Client) -> None:
    assert "passcode-demo" in output
    for role in ROLES:
        assert re.search(rf"^\s+{role}\s", output, re.MULTILINE), role
    for spec in contents.CHECKPOINTS:
        assert spec.code in output
    links = re.findall(r"https?://\S+/p/\S+", output)
    assert len(links) >= 4
    path = "/" + links[0].split("/", 3)[3]
    assert client.get(path).status_code == 200


def _counts() -> dict[str, Any]:
    models = [
        *apps.get_app_config("trucks").get_models(),
        *apps.get_app_config("checkpoints").get_models(),
        User,
        Group,
    ]
    counts: dict[str, Any] = {m._meta.label: m._default_manager.count() for m in models}
    counts["passwords"] = sorted(User.objects.values_list("password", flat=True))
    return counts


def test_running_it_twice_changes_nothing(output: str) -> None:
    before = _counts()
    again = load_demo()
    assert _counts() == before
    assert "no trips created" in again


def test_it_refuses_when_debug_is_off_unless_forced(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("load_demo", stdout=io.StringIO())
    assert not User.objects.filter(username__in=ROLES).exists()


def test_it_asks_for_regions_first() -> None:
    Region.objects.filter(code="152501").delete()
    with pytest.raises(CommandError, match="load_regions"):
        load_demo()
    assert not Trip.objects.exists()
