"""Multi-entry passes follow the scoped whitelist (docs/architecture.md, "The whitelist"): refused
at registration outside the scope, each refusal naming what lies outside; and when an official
revokes or narrows the entry, the company's multi-entry trips it no longer covers become trips of
one entry and one exit, which the scan and the tablets' bundles follow at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone, translation

from passcode_portal.errors import DomainError
from tests.checkpoints.scanning import active_pass, open_trip, pass_of, scan, token_of
from tests.factories import UserFactory, at, trip_data, whitelisted_company
from tests.factories import dispatcher as make_dispatcher
from trucks import services
from trucks.models import Pass, PassStatus, Trip, TripChange, WhitelistEntry

pytestmark = pytest.mark.django_db

PLATE = "豫HB6620"


@pytest.fixture
def official() -> Any:
    return UserFactory(role="official", first_name="周科长")


def refusal(actor: Any, checkpoint: Any, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "vehicle_plate": PLATE,
        "cargo_category": "medical",
        "multi_entry": True,
        "planned_arrival": at(6),
        "planned_departure": at(6 + 24 * 3),
    }
    values.update(fields)
    with translation.override("en"), pytest.raises(DomainError) as raised:
        services.trip_register(actor=actor, data=trip_data(checkpoint, **values))
    return dict(raised.value.fields)


# ---------------------------------------------------------------------------------------------
# Registration: refused outside the scope, saying what is outside


def test_a_company_with_no_entry_in_force_is_told_so(regions: None, checkpoint: Any) -> None:
    assert refusal(make_dispatcher(), checkpoint) == {
        "multi_entry": ["Only whitelisted companies may register multi-entry passes."]
    }


def test_an_entry_ending_before_the_departure_says_so(regions: None, checkpoint: Any) -> None:
    actor = make_dispatcher(whitelisted_company(until=at(24)))

    assert refusal(actor, checkpoint) == {
        "planned_departure": ["The company's whitelisting ends before the planned departure."]
    }


def test_a_pass_longer_than_the_policys_days_is_refused(regions: None, checkpoint: Any) -> None:
    actor = make_dispatcher(whitelisted_company())
    days = services.policy_current().multi_entry_max_days

    assert refusal(actor, checkpoint, planned_departure=at(6) + timedelta(days=days, hours=1)) == {
        "planned_departure": [f"A multi-entry pass covers at most {days} days."]
    }


def test_a_plate_and_cargo_both_inside_one_entrys_scope_are_needed(
    regions: None, checkpoint: Any
) -> None:
    """Two entries, one for the plate and another for the cargo: neither covers the truck with
    that cargo, and the refusal names the cargo (the plate is in an entry)."""
    company = whitelisted_company(plates=[PLATE], cargo_categories=["cold_chain"])
    whitelisted_company(company, plates=["豫H12345"], cargo_categories=["medical"])

    fields = refusal(make_dispatcher(company), checkpoint)

    assert fields == {
        "multi_entry": [
            "The company's whitelist entry does not cover the cargo category "
            "“Medical and epidemic-prevention supplies”."
        ]
    }


# ---------------------------------------------------------------------------------------------
# An entry revoked or narrowed: the multi-entry trips it no longer covers end


def entry_of(company: Any) -> WhitelistEntry:
    return WhitelistEntry.objects.get(company=company)


def narrowed(entry: WhitelistEntry, **changes: Any) -> services.WhitelistData:
    values: dict[str, Any] = {
        "company": entry.company_id,
        "valid_from": entry.valid_from,
        "valid_until": entry.valid_until,
        "plates": entry.plates,
        "cargo_categories": entry.cargo_categories,
        "priority_lane": entry.priority_lane,
        "reason": entry.reason,
    }
    values.update(changes)
    return services.WhitelistData(**values)


def test_a_revoked_entry_lets_a_truck_that_left_enter_no_more(
    staff_client: Any, checkpoint: Any, official: Any
) -> None:
    company = whitelisted_company()
    trip = open_trip(
        make_dispatcher(company), checkpoint, multi_entry=True, planned_departure=at(72)
    )
    token = token_of(trip)
    assert [scan(staff_client, checkpoint, token, d).json()["reason"] for d in ("in", "out")] == [
        "ok",
        "ok",
    ]

    services.whitelist_entry_revoke(actor=official, entry=entry_of(company), reason="违规运输")

    again = scan(staff_client, checkpoint, token, "in").json()
    assert (again["verdict"], again["reason"]) == ("refuse", "used")
    trip.refresh_from_db()
    assert trip.multi_entry is False
    assert pass_of(trip).status == PassStatus.COMPLETED
    change = TripChange.objects.get(trip=trip)
    assert (change.kind, change.actor) == (TripChange.Kind.MULTI_ENTRY, official)
    with translation.override("en"):
        assert (change.before_text, change.after_text) == ("Multi-entry", "One entry, one exit")


def test_a_truck_inside_leaves_once_and_its_pass_is_used(
    staff_client: Any, checkpoint: Any, official: Any
) -> None:
    company = whitelisted_company()
    trip = open_trip(
        make_dispatcher(company), checkpoint, multi_entry=True, planned_departure=at(72)
    )
    token = token_of(trip)
    scan(staff_client, checkpoint, token, "in")

    services.whitelist_entry_revoke(actor=official, entry=entry_of(company), reason="违规运输")

    out = scan(staff_client, checkpoint, token, "out").json()
    assert (out["verdict"], out["reason"]) == ("admit", "ok")
    assert pass_of(trip).status == PassStatus.COMPLETED
    assert scan(staff_client, checkpoint, token, "in").json()["reason"] == "used"


def test_a_narrowed_entry_ends_only_the_trips_it_no_longer_covers(
    checkpoint: Any, official: Any, regions: None
) -> None:
    company = whitelisted_company(plates=[PLATE, "豫H12345"])
    actor = make_dispatcher(company)
    dropped = open_trip(
        actor, checkpoint, vehicle_plate=PLATE, multi_entry=True, planned_departure=at(72)
    )
    kept = open_trip(
        actor, checkpoint, vehicle_plate="豫H12345", multi_entry=True, planned_departure=at(72)
    )
    other = whitelisted_company(plates=[PLATE])  # another company's entry changes nothing here
    elsewhere = open_trip(
        make_dispatcher(whitelisted_company()),
        checkpoint,
        multi_entry=True,
        planned_departure=at(72),
    )
    assert other.pk != company.pk

    services.whitelist_entry_update(
        actor=official,
        entry=entry_of(company),
        data=narrowed(entry_of(company), plates=["豫H12345"]),
    )

    multi = dict(Trip.objects.values_list("pk", "multi_entry"))
    assert (multi[dropped.pk], multi[kept.pk], multi[elsewhere.pk]) == (False, True, True)
    # Registered, not yet inside: still one entry and one exit with its pass.
    assert active_pass(dropped).status == PassStatus.ACTIVE
    assert list(TripChange.objects.values_list("trip_id", flat=True)) == [dropped.pk]


def test_an_entry_ending_earlier_ends_the_trips_planned_past_its_end(
    checkpoint: Any, official: Any
) -> None:
    company = whitelisted_company()
    trip = open_trip(
        make_dispatcher(company), checkpoint, multi_entry=True, planned_departure=at(72)
    )
    entry = entry_of(company)

    services.whitelist_entry_update(
        actor=official, entry=entry, data=narrowed(entry, valid_until=at(48))
    )

    assert Trip.objects.get(pk=trip.pk).multi_entry is False


def test_another_entry_still_covering_the_trip_keeps_it_multi_entry(
    checkpoint: Any, official: Any
) -> None:
    company = whitelisted_company(reason="保供")
    whitelisted_company(company, reason="民生")
    trip = open_trip(
        make_dispatcher(company), checkpoint, multi_entry=True, planned_departure=at(72)
    )

    first = WhitelistEntry.objects.filter(company=company).order_by("pk").first()
    assert first is not None
    services.whitelist_entry_revoke(actor=official, entry=first, reason="合并")

    assert Trip.objects.get(pk=trip.pk).multi_entry is True
    assert not TripChange.objects.exists()


def test_the_tablets_next_delta_carries_the_change(
    staff_client: Any, checkpoint: Any, official: Any
) -> None:
    company = whitelisted_company()
    trip = open_trip(
        make_dispatcher(company), checkpoint, multi_entry=True, planned_departure=at(72)
    )
    url = f"/api/v1/checkpoints/{checkpoint.code}/bundle/"
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        full = staff_client.get(url).json()
    with time_machine.travel(start + timedelta(minutes=15), tick=False):
        services.whitelist_entry_revoke(actor=official, entry=entry_of(company), reason="违规运输")
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        delta = staff_client.get(url, {"since": full["cursor"]}).json()

    rows = {row[0]: dict(zip(delta["fields"], row, strict=True)) for row in delta["passes"]}
    assert rows[Pass.objects.get(trip=trip).pk]["multi_entry"] is False
