"""The whitelist's services (``trucks.services.whitelist``): only officials add, change and revoke
entries, every fault named by its field; the scope an entry covers (company, plates, cargo
categories, validity, revocation); and registration's multi-entry rule, which follows it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from passcode_portal.errors import DomainError, PermissionDenied
from tests.factories import (
    CompanyFactory,
    UserFactory,
    at,
    consignee_user,
    driver_user,
    make_trip,
    staff_user,
    trip_data,
    whitelisted_company,
)
from tests.factories import dispatcher as make_dispatcher
from trucks import services
from trucks.models import WhitelistEntry
from trucks.services import WhitelistData

pytestmark = pytest.mark.django_db

PLATE = "豫HB6620"


@pytest.fixture
def official() -> Any:
    return UserFactory(role="official")


def data(company: Any, **fields: Any) -> WhitelistData:
    values: dict[str, Any] = {"valid_from": at(-1), "reason": "保供企业"}
    values.update(fields)
    return WhitelistData(company=company.pk if company else None, **values)


def fields_of(raised: pytest.ExceptionInfo[DomainError]) -> dict[str, Any]:
    assert raised.value.code == "validation_error"
    return raised.value.fields


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "driver", "dispatcher", "consignee"])
def test_only_officials_manage_the_whitelist(role: str, official: Any) -> None:
    company = CompanyFactory()
    made = services.whitelist_entry_create(actor=official, data=data(company))
    actor = {
        "staff": staff_user,
        "driver": driver_user,
        "dispatcher": make_dispatcher,
        "consignee": consignee_user,
    }[role]()

    with pytest.raises(PermissionDenied):
        services.whitelist_entry_create(actor=actor, data=data(company))
    with pytest.raises(PermissionDenied):
        services.whitelist_entry_update(actor=actor, entry=made, data=data(company, plates=[PLATE]))
    with pytest.raises(PermissionDenied):
        services.whitelist_entry_revoke(actor=actor, entry=made, reason="x")
    made.refresh_from_db()
    assert (WhitelistEntry.objects.count(), made.plates, made.revoked_at) == (1, [], None)


# --- what is checked -------------------------------------------------------------------------


def test_every_fault_is_named_by_its_field(official: Any) -> None:
    with translation.override("en"), pytest.raises(DomainError) as raised:
        services.whitelist_entry_create(
            actor=official,
            data=data(
                None,
                plates=["豫H1234", PLATE, "京A"],
                cargo_categories=["medical", "gold"],
                valid_from=at(10),
                valid_until=at(5),
                reason="",
            ),
        )

    fields = fields_of(raised)
    assert sorted(fields) == ["cargo_categories", "company", "plates", "reason", "valid_until"]
    assert "豫H1234, 京A" in fields["plates"][0]
    assert fields["valid_until"] == ["The entry must end after it starts."]
    assert WhitelistEntry.objects.count() == 0


def test_the_messages_are_in_the_users_language(official: Any) -> None:
    with translation.override("zh-hans"), pytest.raises(DomainError) as raised:
        services.whitelist_entry_create(actor=official, data=data(CompanyFactory(), reason=""))

    assert fields_of(raised)["reason"] == ["请说明该企业列入白名单的理由。"]


@pytest.mark.parametrize(
    "fields",
    [{"valid_from": None}, {"valid_until": at(-1), "valid_from": at(-5)}],
)
def test_an_entry_needs_a_start_and_an_end_ahead(official: Any, fields: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as raised:
        services.whitelist_entry_create(actor=official, data=data(CompanyFactory(), **fields))

    assert set(fields_of(raised)) <= {"valid_from", "valid_until"}


def test_plates_are_stored_normalised_once_each_and_categories_in_order(official: Any) -> None:
    made = services.whitelist_entry_create(
        actor=official,
        data=data(
            CompanyFactory(),
            plates=["豫hb·6620", " 豫HB6620 ", "", "豫Ｈ12345"],
            cargo_categories=["medical", "general", "medical"],
        ),
    )

    assert made.plates == [PLATE, "豫H12345"]
    assert made.cargo_categories == ["general", "medical"]
    assert made.created_by == official
    assert made.history.get().history_user == official


def test_a_change_is_audited_and_a_change_of_nothing_writes_nothing(official: Any) -> None:
    company = CompanyFactory()
    made = services.whitelist_entry_create(actor=official, data=data(company))
    start = made.valid_from

    services.whitelist_entry_update(
        actor=official, entry=made, data=data(company, valid_from=start, priority_lane=True)
    )
    services.whitelist_entry_update(
        actor=official, entry=made, data=data(company, valid_from=start, priority_lane=True)
    )

    assert [h.history_type for h in made.history.order_by("history_date")] == ["+", "~"]
    made.refresh_from_db()
    assert made.priority_lane is True


def test_an_entrys_company_stays(official: Any) -> None:
    made = services.whitelist_entry_create(actor=official, data=data(CompanyFactory()))

    with pytest.raises(DomainError) as raised:
        services.whitelist_entry_update(actor=official, entry=made, data=data(CompanyFactory()))

    assert list(fields_of(raised)) == ["company"]


def test_a_revoked_entry_is_not_changed_nor_revoked_again(official: Any) -> None:
    company = CompanyFactory()
    made = services.whitelist_entry_create(actor=official, data=data(company))
    with pytest.raises(DomainError) as no_reason:
        services.whitelist_entry_revoke(actor=official, entry=made, reason=" ")
    assert list(fields_of(no_reason)) == ["revoke_reason"]

    services.whitelist_entry_revoke(actor=official, entry=made, reason="企业违规")

    for change in (
        lambda: services.whitelist_entry_revoke(actor=official, entry=made, reason="again"),
        lambda: services.whitelist_entry_update(
            actor=official, entry=made, data=data(company, reason="改")
        ),
    ):
        with pytest.raises(DomainError) as raised:
            change()
        assert (raised.value.code, raised.value.status) == ("entry_revoked", 409)
    made.refresh_from_db()
    assert (made.revoke_reason, made.reason, made.revoked_by) == ("企业违规", "保供企业", official)


# --- the scope, by hand ------------------------------------------------------------------------


def match(company: Any, plate: str = PLATE, cargo: str = "medical", when: Any = None) -> Any:
    return services.whitelist_match(
        company=company, plate=plate, cargo_category=cargo, at=when or timezone.now()
    )


def test_an_entry_with_no_plates_nor_categories_covers_the_whole_company() -> None:
    company = whitelisted_company()

    assert match(company).entry is not None
    assert match(company, "豫H12345", "general").entry is not None


def test_plates_and_categories_narrow_the_scope() -> None:
    company = whitelisted_company(plates=[PLATE], cargo_categories=["medical", "cold_chain"])

    assert match(company).entry is not None
    assert match(company, cargo="cold_chain").entry is not None
    assert match(company, "豫H12345").refusal == "plate_outside_scope"
    assert match(company, cargo="general").refusal == "cargo_outside_scope"
    assert match(CompanyFactory()).refusal == "not_whitelisted"
    assert match(None).refusal == "not_whitelisted"


def test_the_scope_holds_only_within_its_period_and_before_revocation() -> None:
    company = whitelisted_company(valid_from=at(-10), until=at(10))
    made = WhitelistEntry.objects.get(company=company)

    assert match(company, when=at(-11)).refusal == "not_whitelisted"
    assert match(company, when=at(-10)).entry == made
    assert match(company, when=at(9.9)).entry == made
    assert match(company, when=at(10)).refusal == "not_whitelisted"
    WhitelistEntry.objects.filter(pk=made.pk).update(revoked_at=at(0))
    # Before the revocation it was in force (a scan synced late is judged then); not after.
    assert match(company, when=at(-1)).entry == made
    assert match(company, when=at(1)).refusal == "not_whitelisted"


def test_of_several_covering_entries_the_longest_lasting_is_the_one() -> None:
    company = whitelisted_company(until=at(24))
    lasting = WhitelistEntry.objects.create(
        company=company,
        plates=[PLATE],
        valid_from=at(-1),
        valid_until=None,
        reason="长期",
        created_at=timezone.now(),
    )

    assert match(company).entry == lasting
    assert match(company, "豫H12345").entry != lasting


# --- registration's multi-entry rule ---------------------------------------------------------


def register_errors(actor: Any, checkpoint: Any, **fields: Any) -> dict[str, Any]:
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
    return raised.value.fields


def test_a_multi_entry_pass_inside_the_scope_is_issued(regions: None, checkpoint: Any) -> None:
    company = whitelisted_company(plates=[PLATE], cargo_categories=["medical"])

    trip = make_trip(
        make_dispatcher(company),
        checkpoint,
        vehicle_plate="豫hb 6620",
        cargo_category="medical",
        multi_entry=True,
        planned_arrival=at(6),
        planned_departure=at(6 + 24 * 3),
    )

    assert trip.multi_entry is True


def test_a_plate_outside_the_scope_is_refused_saying_so(regions: None, checkpoint: Any) -> None:
    actor = make_dispatcher(whitelisted_company(plates=["豫H12345"]))

    fields = register_errors(actor, checkpoint)

    assert fields == {
        "multi_entry": ["The company's whitelist entry does not cover the vehicle 豫HB6620."]
    }


def test_a_cargo_outside_the_scope_is_refused_saying_so(regions: None, checkpoint: Any) -> None:
    actor = make_dispatcher(whitelisted_company(cargo_categories=["cold_chain"]))

    fields = register_errors(actor, checkpoint)

    assert fields == {
        "multi_entry": [
            "The company's whitelist entry does not cover the cargo category "
            "“Medical and epidemic-prevention supplies”."
        ]
    }


def test_an_entry_ending_before_the_departure_is_refused(regions: None, checkpoint: Any) -> None:
    actor = make_dispatcher(whitelisted_company(until=at(24)))

    assert list(register_errors(actor, checkpoint)) == ["planned_departure"]


def test_a_revoked_entry_gives_no_multi_entry_pass(
    regions: None, checkpoint: Any, official: Any
) -> None:
    company = whitelisted_company()
    services.whitelist_entry_revoke(
        actor=official, entry=WhitelistEntry.objects.get(company=company), reason="违规"
    )

    assert list(register_errors(make_dispatcher(company), checkpoint)) == ["multi_entry"]
    assert not services.whitelist_open(company=company, at=timezone.now())


def test_an_entry_starting_later_opens_the_multi_entry_box_but_not_before_its_start(
    regions: None, checkpoint: Any
) -> None:
    company = whitelisted_company(valid_from=at(24))
    actor = make_dispatcher(company)

    assert services.whitelist_open(company=company, at=timezone.now())
    assert list(register_errors(actor, checkpoint)) == ["multi_entry"]
    trip = make_trip(
        actor,
        checkpoint,
        multi_entry=True,
        planned_arrival=at(30),
        planned_departure=at(30) + timedelta(days=2),
    )
    assert trip.multi_entry


def test_a_multi_entry_trips_plate_is_corrected_only_within_the_scope(
    regions: None, checkpoint: Any
) -> None:
    actor = make_dispatcher(whitelisted_company(plates=[PLATE, "豫H12345"]))
    trip = make_trip(
        actor,
        checkpoint,
        vehicle_plate=PLATE,
        multi_entry=True,
        planned_arrival=at(6),
        planned_departure=at(6 + 24 * 3),
    )

    with translation.override("en"), pytest.raises(DomainError) as raised:
        services.trip_correct_plate(actor=actor, trip=trip, plate="豫H77889")
    assert raised.value.fields == {
        "vehicle_plate": ["The company's whitelist entry does not cover the vehicle 豫H77889."]
    }
    corrected = services.trip_correct_plate(actor=actor, trip=trip, plate="豫H12345")
    assert corrected.vehicle.plate == "豫H12345"
