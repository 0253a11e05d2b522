"""The pass page (signed in and behind the driver's signed link) shows the priority lane when the
trip's whitelist entry gives it, answered by the function the scan answers with, and says a
multi-entry pass is one and until when."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory, at, make_trip, whitelisted_company
from tests.factories import dispatcher as make_dispatcher
from trucks import links, services
from trucks.models import Pass, Trip, WhitelistEntry

pytestmark = pytest.mark.django_db


def pages(trip: Trip, user: Any) -> list[str]:
    """The trip page signed in and the signed link's page, in English."""
    signed_in = Client(headers={"accept-language": "en"})
    signed_in.force_login(user)
    link = links.pass_link_path(Pass.objects.get(trip=trip))
    return [
        signed_in.get(reverse("trucks:trip", args=[trip.pk])).content.decode(),
        Client(headers={"accept-language": "en"}).get(link).content.decode(),
    ]


def lane_trip(checkpoint: Any, **scope: Any) -> tuple[Trip, Any]:
    company = whitelisted_company(priority_lane=True, **scope)
    actor = make_dispatcher(company)
    trip = make_trip(
        actor,
        checkpoint,
        vehicle_plate="豫HB6620",
        cargo_category="medical",
        multi_entry=True,
        planned_arrival=at(6),
        planned_departure=at(6 + 48),
    )
    return trip, actor


def lane_as_scanned(trip: Trip) -> bool:
    return services.priority_lane_at(
        company_id=trip.company_id,
        plate=trip.vehicle.plate,
        cargo_category=trip.cargo_category,
        at=trip.planned_arrival,
    )


def test_a_truck_with_the_priority_lane_is_told_so_on_both_pages(checkpoint: Any) -> None:
    trip, actor = lane_trip(checkpoint)
    assert lane_as_scanned(trip)
    until = Pass.objects.get(trip=trip).valid_until

    for body in pages(trip, actor):
        assert "data-priority-lane" in body
        assert "Priority lane" in body
        assert "data-multi-entry" in body
        assert "Multi-entry pass" in body
        local = until.astimezone(ZoneInfo("Asia/Shanghai"))
        assert f"as often as needed until {local:%Y-%m-%d %H:%M}." in body


def test_a_plate_outside_the_lane_entrys_scope_has_no_lane(checkpoint: Any) -> None:
    company = whitelisted_company(priority_lane=True, plates=["豫H12345"])
    whitelisted_company(company)  # a plain entry lets the trip be multi-entry
    actor = make_dispatcher(company)
    trip = make_trip(
        actor,
        checkpoint,
        vehicle_plate="豫HB6620",
        multi_entry=True,
        planned_departure=at(6 + 48),
    )
    assert not lane_as_scanned(trip)

    for body in pages(trip, actor):
        assert "data-priority-lane" not in body
        assert "data-multi-entry" in body


def test_a_standard_pass_says_neither(dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)

    for body in pages(trip, dispatcher):
        assert "data-priority-lane" not in body
        assert "data-multi-entry" not in body


def test_the_lane_goes_when_the_entry_is_revoked(checkpoint: Any) -> None:
    trip, actor = lane_trip(checkpoint)
    entry = WhitelistEntry.objects.get(company=trip.company)

    services.whitelist_entry_revoke(
        actor=UserFactory(role="official"), entry=entry, reason="违规运输"
    )

    assert not lane_as_scanned(trip)
    for body in pages(trip, actor):
        assert "data-priority-lane" not in body
        # No entry covers the trip any more: its pass is one entry and one exit now.
        assert "data-multi-entry" not in body
