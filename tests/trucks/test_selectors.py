"""Reads scoped to the acting user: another company's trip is absent, not forbidden."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone, translation

from passcode_portal.errors import NotFound
from places.models import Region
from tests.factories import (
    CompanyFactory,
    UserFactory,
    consignee_user,
    driver_user,
    make_trip,
    staff_user,
)
from tests.factories import dispatcher as make_dispatcher
from trucks import access, selectors, services
from trucks.models import Pass, PassStatus, Trip, TripStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    # Mid-morning in Jiaozuo: every trip below arrives on the same local day.
    with time_machine.travel(datetime(2026, 11, 23, 1, 0, tzinfo=UTC), tick=False):
        yield


class World:
    """Two companies, a consignee and a driver with an account, and a trip for each."""

    def __init__(self, checkpoint: Any) -> None:
        self.company_a = CompanyFactory()
        self.company_b = CompanyFactory()
        self.consignee_company = CompanyFactory(is_consignee=True)
        self.dispatcher_a = make_dispatcher(self.company_a)
        self.dispatcher_b = make_dispatcher(self.company_b)
        self.consignee = consignee_user(self.consignee_company)
        self.driver = driver_user(self.company_a)
        self.trip_a = make_trip(self.dispatcher_a, checkpoint)
        self.trip_a_inbound = make_trip(
            self.dispatcher_a, checkpoint, consignee=self.consignee_company.pk
        )
        self.trip_b_inbound = make_trip(
            self.dispatcher_b, checkpoint, consignee=self.consignee_company.pk
        )
        self.trip_driver = make_trip(self.driver, checkpoint, driver=None)
        self.all = {self.trip_a, self.trip_a_inbound, self.trip_b_inbound, self.trip_driver}


@pytest.fixture
def world(checkpoint: Any) -> World:
    return World(checkpoint)


def visible(user: Any) -> set[Trip]:
    return set(access.trips_visible_to(user))


def test_a_driver_sees_only_their_own_trips(world: World) -> None:
    assert visible(world.driver) == {world.trip_driver}


def test_a_dispatcher_sees_the_companys_trips(world: World) -> None:
    # Including the one the company's driver registered.
    assert visible(world.dispatcher_a) == {
        world.trip_a,
        world.trip_a_inbound,
        world.trip_driver,
    }
    assert visible(world.dispatcher_b) == {world.trip_b_inbound}


def test_a_consignee_sees_the_trips_bound_for_it(world: World) -> None:
    assert visible(world.consignee) == {world.trip_a_inbound, world.trip_b_inbound}


def test_officials_and_admins_see_everything(world: World) -> None:
    assert visible(UserFactory(role="official")) == world.all
    assert visible(UserFactory(role="admin")) == world.all
    assert visible(UserFactory(is_superuser=True)) == world.all


def test_staff_and_strangers_see_no_trips(world: World, checkpoint: Any) -> None:
    assert visible(staff_user(checkpoint)) == set()
    assert visible(UserFactory()) == set()
    assert visible(AnonymousUser()) == set()
    assert visible(UserFactory(role="dispatcher")) == set()  # not linked to a company


def test_trip_list_is_scoped_and_filtered(world: World) -> None:
    services.trip_cancel(actor=world.dispatcher_a, trip=world.trip_a)
    assert set(selectors.trip_list(user=world.dispatcher_a)) == {
        world.trip_a,
        world.trip_a_inbound,
        world.trip_driver,
    }
    assert list(selectors.trip_list(user=world.dispatcher_a, status=TripStatus.CANCELLED)) == [
        world.trip_a
    ]
    day = timezone.localdate(world.trip_a.planned_arrival)
    assert len(selectors.trip_list(user=world.dispatcher_a, date_from=day, date_to=day)) == 3
    later = day + timedelta(days=1)
    assert list(selectors.trip_list(user=world.dispatcher_a, date_from=later)) == []
    assert list(selectors.trip_list(user=world.dispatcher_b, status=TripStatus.CANCELLED)) == []


def test_trip_list_is_newest_arrival_first(dispatcher: User, checkpoint: Any) -> None:
    now = timezone.now()
    early = make_trip(
        dispatcher,
        checkpoint,
        planned_arrival=now + timedelta(hours=2),
        planned_departure=now + timedelta(hours=3),
    )
    late = make_trip(
        dispatcher,
        checkpoint,
        planned_arrival=now + timedelta(hours=50),
        planned_departure=now + timedelta(hours=51),
    )
    assert list(selectors.trip_list(user=dispatcher)) == [late, early]


def test_trip_get_hides_another_companys_trip(world: World) -> None:
    trip = selectors.trip_get(user=world.dispatcher_a, trip_id=world.trip_a.pk)
    assert trip == world.trip_a
    for user, trip_id in [
        (world.dispatcher_b, world.trip_a.pk),
        (world.driver, world.trip_a.pk),
        (world.consignee, world.trip_a.pk),
        (world.dispatcher_a, 999_999),
    ]:
        with pytest.raises(NotFound) as exc:
            selectors.trip_get(user=user, trip_id=trip_id)
        assert (exc.value.code, exc.value.status) == ("not_found", 404)


def test_trip_get_loads_the_details_and_the_current_pass(world: World) -> None:
    trip = selectors.trip_get(user=world.consignee, trip_id=world.trip_b_inbound.pk)
    pass_ = selectors.current_pass(trip)
    assert pass_ is not None and pass_.status == PassStatus.ACTIVE
    assert pass_.trip_id == trip.pk


def test_current_pass_prefers_the_active_one(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    first = Pass.objects.get(trip=trip)
    second = services.pass_issue(trip=trip)
    # A revoked pass issued later than the active one (a clock step, an import) does not win.
    Pass.objects.filter(pk=first.pk).update(issued_at=timezone.now() + timedelta(hours=1))
    assert selectors.current_pass(trip) == second
    assert selectors.current_pass(selectors.trip_get(user=dispatcher, trip_id=trip.pk)) == second


def test_current_pass_falls_back_to_the_latest(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    first = Pass.objects.get(trip=trip)
    services.trip_cancel(actor=dispatcher, trip=trip)
    assert selectors.current_pass(trip) == first
    assert selectors.current_pass(trip).status == PassStatus.REVOKED  # type: ignore[union-attr]


def test_current_pass_of_a_trip_without_passes_is_none(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    Pass.objects.filter(trip=trip).delete()
    assert selectors.current_pass(trip) is None
    assert selectors.current_pass(selectors.trip_get(user=dispatcher, trip_id=trip.pk)) is None


def test_pass_get_is_scoped_like_trips_and_open_to_staff(world: World, checkpoint: Any) -> None:
    pass_ = Pass.objects.get(trip=world.trip_a)
    assert selectors.pass_get(user=world.dispatcher_a, pass_id=pass_.pk) == pass_
    assert selectors.pass_get(user=staff_user(checkpoint), pass_id=pass_.pk) == pass_
    for user in (world.dispatcher_b, world.driver, world.consignee, AnonymousUser()):
        with pytest.raises(NotFound):
            selectors.pass_get(user=user, pass_id=pass_.pk)


def test_pass_explanations_name_the_regions(dispatcher: User, checkpoint: Any) -> None:
    Region.objects.filter(code="320412").update(risk_level="medium")
    trip = make_trip(dispatcher, checkpoint, test_result="none", test_sampled_at=None)
    with translation.override("en"):
        explained = selectors.pass_explanations(Pass.objects.get(trip=trip))
    assert [e["code"] for e in explained] == ["medium_risk_origin", "no_test"]
    assert "江苏省常州市武进区" in explained[0]["text"]


def test_only_officials_see_full_id_numbers(world: World) -> None:
    assert selectors.can_see_full_id_numbers(UserFactory(role="official"))
    for user in (world.dispatcher_a, world.driver, world.consignee, AnonymousUser()):
        assert not selectors.can_see_full_id_numbers(user)
