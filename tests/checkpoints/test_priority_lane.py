"""The priority lane on the scan's answer (``priority_lane``): true when the trip's company has a
whitelist entry with the lane in force at the scan's time covering the truck's plate and cargo
category; false otherwise. It changes neither verdict nor reason, and a recorded answer (a retry,
the list of last scans, what follows a scan) shows it as the scan did."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.checkpoints.scanning import open_trip, scan, scan_url, token_of
from tests.factories import UserFactory, at, valid_plate, whitelisted_company
from tests.factories import dispatcher as make_dispatcher
from trucks import services
from trucks.models import WhitelistEntry

pytestmark = pytest.mark.django_db

PLATE = "豫HB6620"


def whitelisted_trip(checkpoint: Any, **scope: Any) -> Any:
    company = whitelisted_company(**{"priority_lane": True, **scope})
    return open_trip(
        make_dispatcher(company), checkpoint, vehicle_plate=PLATE, cargo_category="medical"
    )


def lane_of(staff_client: Any, checkpoint: Any, trip: Any, **body: Any) -> bool:
    r = scan(staff_client, checkpoint, token_of(trip), **body)
    assert r.status_code in (200, 201), r.json()
    assert (r.json()["verdict"], r.json()["reason"]) == ("admit", "ok")
    return bool(r.json()["priority_lane"])


@pytest.mark.parametrize(
    "scope",
    [
        {},
        {"plates": [PLATE]},
        {"cargo_categories": ["medical", "daily_necessities"]},
        {"plates": [PLATE, "豫H12345"], "cargo_categories": ["medical"]},
    ],
)
def test_a_truck_inside_the_entry_scope_takes_the_priority_lane(
    staff_client: Any, checkpoint: Any, scope: dict[str, Any]
) -> None:
    assert lane_of(staff_client, checkpoint, whitelisted_trip(checkpoint, **scope)) is True


@pytest.mark.parametrize(
    "scope",
    [
        {"plates": ["豫H12345"]},  # another vehicle of the company
        {"cargo_categories": ["cold_chain"]},  # another cargo
        {"priority_lane": False},  # whitelisted, but without the lane
        {"until": at(-1)},  # ended an hour ago
        {"valid_from": at(24)},  # starts tomorrow
    ],
)
def test_a_truck_outside_it_does_not(
    staff_client: Any, checkpoint: Any, scope: dict[str, Any]
) -> None:
    assert lane_of(staff_client, checkpoint, whitelisted_trip(checkpoint, **scope)) is False


def test_a_revoked_entry_gives_no_lane(staff_client: Any, checkpoint: Any) -> None:
    trip = whitelisted_trip(checkpoint)
    WhitelistEntry.objects.update(revoked_at=timezone.now() - timedelta(minutes=1))

    assert lane_of(staff_client, checkpoint, trip) is False


def test_a_truck_of_another_company_does_not(
    staff_client: Any, checkpoint: Any, dispatcher: Any
) -> None:
    whitelisted_company(priority_lane=True)
    trip = open_trip(dispatcher, checkpoint, vehicle_plate=valid_plate())

    assert lane_of(staff_client, checkpoint, trip) is False


def test_an_entry_made_by_an_official_applies_to_the_next_scan(
    staff_client: Any, checkpoint: Any, dispatcher: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint, vehicle_plate=PLATE)
    services.whitelist_entry_create(
        actor=UserFactory(role="official"),
        data=services.WhitelistData(
            company=trip.company_id,
            valid_from=at(-1),
            plates=["豫hb·6620"],
            priority_lane=True,
            reason="保供企业",
        ),
    )

    assert lane_of(staff_client, checkpoint, trip) is True


def test_recorded_answers_show_the_lane_as_the_scan_did(staff_client: Any, checkpoint: Any) -> None:
    trip = whitelisted_trip(checkpoint)
    scan_id = str(uuid.uuid4())
    first = scan(staff_client, checkpoint, token_of(trip), scan_id=scan_id).json()

    again = scan(staff_client, checkpoint, token_of(trip), scan_id=scan_id)
    listed = staff_client.get(scan_url(checkpoint)).json()
    confirmed = staff_client.post(
        f"{scan_url(checkpoint)}{first['id']}/confirm/",
        {"plate": PLATE, "persons": 1},
        format="json",
    )

    assert first["priority_lane"] is True
    assert (again.status_code, again.json()["priority_lane"]) == (200, True)
    assert [s["priority_lane"] for s in listed] == [True]
    assert (confirmed.status_code, confirmed.json()["priority_lane"]) == (200, True)


def test_a_refusal_keeps_its_verdict_whatever_the_lane(staff_client: Any, checkpoint: Any) -> None:
    trip = whitelisted_trip(checkpoint)
    scan(staff_client, checkpoint, token_of(trip))

    copied = scan(staff_client, checkpoint, token_of(trip)).json()

    assert (copied["verdict"], copied["reason"]) == ("refuse", "already_inside")
