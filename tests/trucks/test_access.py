"""Who may see a trip and who may change one (``trucks.access``): for every role, the queryset
and the check of one loaded trip agree, and each rule gives what docs/architecture.md, "Roles and
access", says."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.factories import (
    CompanyFactory,
    UserFactory,
    consignee_user,
    driver_user,
    make_trip,
    staff_user,
)
from tests.factories import dispatcher as make_dispatcher
from trucks import access
from trucks.models import CompanyMember, Trip

pytestmark = pytest.mark.django_db


class World:
    """A carrier (company A) with a dispatcher, two drivers with accounts and a member without
    the dispatcher role; another carrier (B) with its dispatcher; a consignee company; and a trip
    of each kind."""

    def __init__(self, checkpoint: Any) -> None:
        company_a, company_b = CompanyFactory(), CompanyFactory()
        receiver = CompanyFactory(is_consignee=True)
        dispatcher_a = make_dispatcher(company_a)
        driver = driver_user(company_a)
        member = UserFactory()
        CompanyMember.objects.create(user=member, company=company_a)
        self.trips = {
            "company's": make_trip(dispatcher_a, checkpoint),
            "company's inbound": make_trip(dispatcher_a, checkpoint, consignee=receiver.pk),
            "driver's": make_trip(driver, checkpoint, driver=None),
            "other company's inbound": make_trip(
                make_dispatcher(company_b), checkpoint, consignee=receiver.pk
            ),
        }
        self.users: dict[str, Any] = {
            "driver of the trip": driver,
            "another driver": driver_user(company_a),
            "dispatcher of the company": dispatcher_a,
            "dispatcher of another company": make_dispatcher(company_b),
            "member without the dispatcher role": member,
            "consignee": consignee_user(receiver),
            "official": UserFactory(role="official"),
            "admin": UserFactory(role="admin"),
            "superuser": UserFactory(is_superuser=True),
            "staff": staff_user(checkpoint),
            "dispatcher of no company": UserFactory(role="dispatcher"),
            "anonymous": AnonymousUser(),
        }


@pytest.fixture
def world(checkpoint: Any) -> World:
    return World(checkpoint)


EVERY = {"company's", "company's inbound", "driver's", "other company's inbound"}
OWN_COMPANY = {"company's", "company's inbound", "driver's"}

SEES: dict[str, set[str]] = {
    "driver of the trip": {"driver's"},
    "another driver": set(),
    "dispatcher of the company": OWN_COMPANY,
    "dispatcher of another company": {"other company's inbound"},
    "member without the dispatcher role": set(),
    "consignee": {"company's inbound", "other company's inbound"},
    "official": EVERY,
    "admin": EVERY,
    "superuser": EVERY,
    "staff": set(),
    "dispatcher of no company": set(),
    "anonymous": set(),
}
CHANGES: dict[str, set[str]] = {
    "driver of the trip": {"driver's"},
    "dispatcher of the company": OWN_COMPANY,
    "dispatcher of another company": {"other company's inbound"},
}


def _names(world: World, trips: Any) -> set[str]:
    ids = {trip.pk for trip in trips}
    return {name for name, trip in world.trips.items() if trip.pk in ids}


def _one_by_one(world: World, check: Any, user: Any) -> set[str]:
    # Each trip read afresh, its related rows not loaded: the check reads what it needs.
    return {
        name
        for name, trip in world.trips.items()
        if check(user=user, trip=Trip.objects.get(pk=trip.pk))
    }


@pytest.mark.parametrize("role", list(SEES))
def test_who_sees_a_trip_the_list_and_the_check_agree(world: World, role: str) -> None:
    user = world.users[role]
    listed = _names(world, access.trips_visible_to(user))
    assert listed == _one_by_one(world, access.trip_visible_to, user)
    assert listed == SEES[role]


@pytest.mark.parametrize("role", list(SEES))
def test_who_changes_a_trip_the_list_and_the_check_agree(world: World, role: str) -> None:
    user = world.users[role]
    listed = _names(world, access.trips_changeable_by(user))
    assert listed == _one_by_one(world, access.trip_changeable_by, user)
    assert listed == CHANGES.get(role, set())


@pytest.mark.parametrize("role", list(SEES))
def test_whoever_may_change_a_trip_may_see_it(world: World, role: str) -> None:
    user = world.users[role]
    assert set(access.trips_changeable_by(user)) <= set(access.trips_visible_to(user))


def test_a_member_with_another_role_sees_as_that_role_and_changes_nothing(
    checkpoint: Any,
) -> None:
    """A consignee's account of the carrier itself: it sees the trips bound for its company,
    not the company's others, and changes none of them, not even its company's own."""
    company = CompanyFactory(is_consignee=True)
    dispatcher = make_dispatcher(company)
    inbound = make_trip(dispatcher, checkpoint, consignee=company.pk)
    outbound = make_trip(dispatcher, checkpoint)
    receiver = consignee_user(company)
    assert set(access.trips_visible_to(receiver)) == {inbound}
    assert access.trip_visible_to(user=receiver, trip=inbound)
    assert not access.trip_visible_to(user=receiver, trip=outbound)
    assert not access.trips_changeable_by(receiver).exists()
    assert not access.trip_changeable_by(user=receiver, trip=inbound)
