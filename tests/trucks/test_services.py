"""Registration-side services: trip_register and the changes that follow a registration."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from passcode_portal.errors import DomainError, PermissionDenied
from places.models import Region
from tests.factories import (
    CheckpointFactory,
    CompanyFactory,
    UserFactory,
    consignee_user,
    driver_user,
    make_trip,
    staff_user,
    valid_id_number,
    valid_phone,
    valid_plate,
    whitelisted_company,
)
from tests.factories import dispatcher as make_dispatcher
from tests.lifecycle import run_after_commit
from trucks import passcode, services
from trucks.models import CoRider, Driver, Pass, PassStatus, Policy, Trip, TripStatus, Vehicle
from trucks.services import PersonData

pytestmark = pytest.mark.django_db

# 08:00:20 in Jiaozuo (UTC+8); the seconds show the pass window keeps to whole minutes.
NOW = datetime(2026, 11, 23, 0, 0, 20, tzinfo=UTC)
MINUTE = NOW.replace(second=0)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def hours(n: float, base: datetime = NOW) -> datetime:
    return base + timedelta(hours=n)


def person(name: str = "王师傅", id_number: str | None = None) -> PersonData:
    return PersonData(name, id_number or valid_id_number(), valid_phone())


def refused(actor: User, checkpoint: Any, **overrides: Any) -> DomainError:
    before = (Trip.objects.count(), Vehicle.objects.count(), Pass.objects.count())
    with pytest.raises(DomainError) as exc:
        make_trip(actor, checkpoint, **overrides)
    # All or nothing: a refused registration leaves no trace.
    assert (Trip.objects.count(), Vehicle.objects.count(), Pass.objects.count()) == before
    return exc.value


def field_errors(actor: User, checkpoint: Any, **overrides: Any) -> dict[str, Any]:
    error = refused(actor, checkpoint, **overrides)
    assert error.code == "validation_error"
    assert error.status == 400
    return error.fields


def active_pass(trip: Trip) -> Pass:
    return Pass.objects.get(trip=trip, status=PassStatus.ACTIVE)


def set_risk(code: str, level: str) -> None:
    Region.objects.filter(code=code).update(risk_level=level)


# --- a registration that works --------------------------------------------------------------


def test_it_registers_a_trip_with_everything_it_names(dispatcher: User, checkpoint: Any) -> None:
    consignee = CompanyFactory(is_consignee=True)
    riders = [person("赵一"), person("钱二")]
    trip = make_trip(
        dispatcher,
        checkpoint,
        vehicle_plate="豫h·12345",
        co_riders=riders,
        travel_history=["320400", " 140427 ", "320400", ""],
        consignee=consignee.pk,
        destination_name="  焦作市某物流园 ",
    )
    trip.refresh_from_db()
    assert trip.vehicle.plate == "豫H12345"
    assert trip.vehicle.company == dispatcher.company_membership.company
    assert trip.company == dispatcher.company_membership.company
    assert trip.registered_by == dispatcher
    assert trip.consignee == consignee
    assert trip.entry_checkpoint == checkpoint
    assert trip.origin_region_id == "320412"
    assert sorted(trip.travel_history.values_list("code", flat=True)) == ["140427", "320400"]
    assert trip.destination_name == "焦作市某物流园"
    assert [(c.position, c.name) for c in trip.co_riders.all()] == [(0, "赵一"), (1, "钱二")]
    assert trip.driver.company == trip.company and trip.driver.name == "李师傅"
    assert trip.status == TripStatus.REGISTERED and trip.multi_entry is False
    assert Pass.objects.filter(trip=trip).count() == 1


def test_the_reference_is_prefix_local_date_and_six_digit_number(
    dispatcher: User, checkpoint: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    assert trip.reference == f"JZ-20261123-{trip.pk:06d}"
    assert Trip.objects.get(pk=trip.pk).reference == trip.reference


def test_the_reference_date_is_the_local_day_in_china(dispatcher: User, checkpoint: Any) -> None:
    # 20:30 UTC on the 23rd is 04:30 on the 24th in Jiaozuo.
    with time_machine.travel(datetime(2026, 11, 23, 20, 30, tzinfo=UTC), tick=False):
        trip = make_trip(dispatcher, checkpoint)
    assert trip.reference == f"JZ-20261124-{trip.pk:06d}"


def test_the_pass_window_opens_2h_before_arrival_and_closes_2h_after_departure(
    dispatcher: User, checkpoint: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint, planned_arrival=hours(6), planned_departure=hours(30))
    pass_ = active_pass(trip)
    # Whole minutes, never narrower than asked: the start rounds down, the end up.
    assert pass_.valid_from == hours(4, MINUTE)
    assert pass_.valid_until == hours(32, MINUTE) + timedelta(minutes=1)
    assert passcode.decode(services.pass_token(pass_)).valid_until == pass_.valid_until
    assert pass_.key_id == passcode.current_key_id()
    assert pass_.issued_at == NOW


def test_the_policy_sets_the_window_margins(dispatcher: User, checkpoint: Any) -> None:
    Policy.objects.create(version=2, window_before_hours=1, window_after_hours=6)
    trip = make_trip(
        dispatcher,
        checkpoint,
        planned_arrival=hours(6, MINUTE),
        planned_departure=hours(30, MINUTE),
    )
    pass_ = active_pass(trip)
    assert (pass_.valid_from, pass_.valid_until) == (hours(5, MINUTE), hours(36, MINUTE))
    assert pass_.policy_version == 2


# --- colours ---------------------------------------------------------------------------------


def test_a_low_risk_trip_with_a_fresh_test_is_green(dispatcher: User, checkpoint: Any) -> None:
    pass_ = active_pass(make_trip(dispatcher, checkpoint))
    assert (pass_.colour, pass_.reasons, pass_.policy_version) == ("green", [], 1)


@pytest.mark.parametrize(
    ("risk", "colour", "reasons"),
    [
        ({"320412": "medium"}, "yellow", [{"code": "medium_risk_origin", "regions": ["320412"]}]),
        ({"320412": "high"}, "red", [{"code": "high_risk_origin", "regions": ["320412"]}]),
        # The travel history names the city (320400); the origin is a county in it.
        (
            {"320400": "high"},
            "red",
            [
                {"code": "high_risk_origin", "regions": ["320412"]},
                {"code": "high_risk_travel", "regions": ["320400"]},
            ],
        ),
        (
            {"320000": "medium"},
            "yellow",
            [
                {"code": "medium_risk_origin", "regions": ["320412"]},
                {"code": "medium_risk_travel", "regions": ["320400"]},
            ],
        ),
        ({"320411": "high"}, "green", []),  # a neighbouring county
        ({"410800": "high"}, "green", []),  # the destination city itself
    ],
)
def test_it_grades_with_the_real_region_risk_levels(
    dispatcher: User,
    checkpoint: Any,
    risk: dict[str, str],
    colour: str,
    reasons: list[dict[str, Any]],
) -> None:
    for code, level in risk.items():
        set_risk(code, level)
    pass_ = active_pass(make_trip(dispatcher, checkpoint))
    assert (pass_.colour, pass_.reasons) == (colour, reasons)


def test_a_medium_risk_travel_region_is_yellow(dispatcher: User, checkpoint: Any) -> None:
    set_risk("140427", "medium")
    trip = make_trip(dispatcher, checkpoint, origin_region="410802", travel_history=["140427"])
    assert active_pass(trip).reasons == [{"code": "medium_risk_travel", "regions": ["140427"]}]
    assert active_pass(trip).colour == "yellow"


@pytest.mark.parametrize(
    ("test_result", "sampled_at", "colour", "codes"),
    [
        ("positive", hours(-5), "red", ["positive_test"]),
        ("none", None, "yellow", ["no_test"]),
        ("negative", hours(-43), "yellow", ["test_stale"]),  # 49 h before arrival at +6 h
        ("negative", hours(-42), "green", []),  # exactly 48 h
    ],
)
def test_it_grades_the_test_result(
    dispatcher: User,
    checkpoint: Any,
    test_result: str,
    sampled_at: datetime | None,
    colour: str,
    codes: list[str],
) -> None:
    trip = make_trip(
        dispatcher,
        checkpoint,
        planned_arrival=hours(6),
        test_result=test_result,
        test_sampled_at=sampled_at,
    )
    pass_ = active_pass(trip)
    assert pass_.colour == colour
    assert [r["code"] for r in pass_.reasons] == codes


def test_it_drops_a_sample_time_given_with_no_result(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint, test_result="none", test_sampled_at=hours(-1))
    trip.refresh_from_db()
    assert trip.test_sampled_at is None


def test_a_new_policy_version_grades_new_trips(dispatcher: User, checkpoint: Any) -> None:
    Policy.objects.create(version=2, yellow_risk_level="low")
    pass_ = active_pass(make_trip(dispatcher, checkpoint))
    assert pass_.colour == "yellow" and pass_.policy_version == 2


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("plate", ["", "12345", "豫H1234", "豫I12345", "AB12345", "豫H123456"])
def test_it_refuses_a_bad_plate(dispatcher: User, checkpoint: Any, plate: str) -> None:
    fields = field_errors(dispatcher, checkpoint, vehicle_plate=plate)
    assert list(fields) == ["vehicle_plate"]


def test_it_accepts_a_new_energy_plate(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint, vehicle_plate="豫H12345D")
    assert trip.vehicle.plate == "豫H12345D" and trip.vehicle.new_energy


def test_it_nests_driver_errors_under_driver(dispatcher: User, checkpoint: Any) -> None:
    fields = field_errors(
        dispatcher, checkpoint, driver=PersonData("  ", "410802198506120001", "12345")
    )
    assert list(fields) == ["driver"]
    assert set(fields["driver"]) == {"name", "id_number", "phone"}
    assert all(isinstance(m, str) for msgs in fields["driver"].values() for m in msgs)


def test_it_refuses_a_name_longer_than_50(dispatcher: User, checkpoint: Any) -> None:
    fields = field_errors(dispatcher, checkpoint, driver=person("张" * 51))
    assert list(fields["driver"]) == ["name"]


def test_a_dispatcher_must_name_the_driver(dispatcher: User, checkpoint: Any) -> None:
    fields = field_errors(dispatcher, checkpoint, driver=None)
    assert list(fields) == ["driver"]


def test_it_normalises_the_driver_and_reuses_the_company_driver(
    dispatcher: User, checkpoint: Any
) -> None:
    id_number = valid_id_number()
    first = make_trip(
        dispatcher, checkpoint, driver=PersonData(" 李师傅 ", id_number, valid_phone())
    )
    phone = valid_phone()
    second = make_trip(
        dispatcher,
        checkpoint,
        driver=PersonData("李大师傅", id_number.lower(), f"+86 {phone[:3]} {phone[3:]}"),
    )
    assert first.driver_id == second.driver_id
    driver = Driver.objects.get(pk=first.driver_id)
    assert (driver.name, driver.phone, driver.id_number) == ("李大师傅", phone, id_number)


def test_it_refuses_co_riders_listed_twice_or_the_driver_again(
    dispatcher: User, checkpoint: Any
) -> None:
    driver = person("司机")
    twin = valid_id_number()
    fields = field_errors(
        dispatcher,
        checkpoint,
        driver=driver,
        co_riders=[person("甲", driver.id_number), person("乙", twin), person("丙", twin.lower())],
    )
    assert list(fields) == ["co_riders"]
    assert set(fields["co_riders"]) == {"0", "2"}
    assert list(fields["co_riders"]["0"]) == ["id_number"]
    assert list(fields["co_riders"]["2"]) == ["id_number"]


def test_it_nests_co_rider_errors_by_row(dispatcher: User, checkpoint: Any) -> None:
    fields = field_errors(dispatcher, checkpoint, co_riders=[person(), PersonData("", "bad", "1")])
    assert list(fields["co_riders"]) == ["1"]
    assert set(fields["co_riders"]["1"]) == {"name", "id_number", "phone"}


def test_four_co_riders_fit_and_five_do_not(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint, co_riders=[person() for _ in range(4)])
    assert CoRider.objects.filter(trip=trip).count() == 4
    fields = field_errors(dispatcher, checkpoint, co_riders=[person() for _ in range(5)])
    assert list(fields) == ["co_riders"]
    assert isinstance(fields["co_riders"], list) and len(fields["co_riders"]) == 1


def test_too_many_co_riders_with_a_bad_one_is_still_a_clean_refusal(
    dispatcher: User, checkpoint: Any
) -> None:
    riders = [*(person() for _ in range(4)), PersonData("", "bad", "1")]
    fields = field_errors(dispatcher, checkpoint, co_riders=riders)
    assert isinstance(fields["co_riders"], list)


@pytest.mark.parametrize("origin", ["999999", "410899", "", "41080"])
def test_it_refuses_an_unknown_origin(dispatcher: User, checkpoint: Any, origin: str) -> None:
    fields = field_errors(dispatcher, checkpoint, origin_region=origin)
    assert list(fields) == ["origin_region"]


def test_it_refuses_unknown_travel_history_and_names_them(
    dispatcher: User, checkpoint: Any
) -> None:
    fields = field_errors(dispatcher, checkpoint, travel_history=["320400", "999999", "abc"])
    assert list(fields) == ["travel_history"]
    assert "999999" in fields["travel_history"][0] and "abc" in fields["travel_history"][0]


def test_it_refuses_more_than_30_travel_regions(dispatcher: User, checkpoint: Any) -> None:
    codes = list(Region.objects.filter(level="county").values_list("code", flat=True)[:31])
    fields = field_errors(dispatcher, checkpoint, travel_history=codes)
    assert list(fields) == ["travel_history"]
    make_trip(dispatcher, checkpoint, travel_history=codes[:30])


def test_it_refuses_an_unknown_or_closed_checkpoint(dispatcher: User, checkpoint: Any) -> None:
    closed = CheckpointFactory(active=False)
    for code in ("NO-SUCH", closed.code):
        fields = field_errors(dispatcher, checkpoint, entry_checkpoint=code)
        assert list(fields) == ["entry_checkpoint"]


def test_it_refuses_an_unknown_consignee(dispatcher: User, checkpoint: Any) -> None:
    not_a_consignee = CompanyFactory(is_consignee=False)
    for pk in (999_999, not_a_consignee.pk):
        fields = field_errors(dispatcher, checkpoint, consignee=pk)
        assert list(fields) == ["consignee"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("destination_name", "  "),
        ("destination_address", ""),
        ("cargo_category", "weapons"),
        ("cargo_description", " "),
        ("test_result", "maybe"),
    ],
)
def test_it_refuses_missing_or_unknown_details(
    dispatcher: User, checkpoint: Any, field: str, value: str
) -> None:
    assert list(field_errors(dispatcher, checkpoint, **{field: value})) == [field]


def test_a_test_result_needs_its_sample_time(dispatcher: User, checkpoint: Any) -> None:
    for result in ("negative", "positive"):
        fields = field_errors(dispatcher, checkpoint, test_result=result, test_sampled_at=None)
        assert list(fields) == ["test_sampled_at"]


def test_a_sample_time_in_the_future_is_refused_beyond_clock_skew(
    dispatcher: User, checkpoint: Any
) -> None:
    fields = field_errors(dispatcher, checkpoint, test_sampled_at=NOW + timedelta(minutes=6))
    assert list(fields) == ["test_sampled_at"]
    make_trip(dispatcher, checkpoint, test_sampled_at=NOW + timedelta(minutes=5))


def test_it_lists_every_fault_in_one_answer(dispatcher: User, checkpoint: Any) -> None:
    fields = field_errors(
        dispatcher,
        checkpoint,
        vehicle_plate="nope",
        origin_region="999999",
        entry_checkpoint="NO-SUCH",
        cargo_category="x",
        planned_arrival=hours(-1),
    )
    assert set(fields) == {
        "vehicle_plate",
        "origin_region",
        "entry_checkpoint",
        "cargo_category",
        "planned_arrival",
    }


# --- times -----------------------------------------------------------------------------------


@pytest.mark.parametrize("arrival", [hours(-1), NOW])
def test_it_refuses_an_arrival_that_is_not_in_the_future(
    dispatcher: User, checkpoint: Any, arrival: datetime
) -> None:
    fields = field_errors(dispatcher, checkpoint, planned_arrival=arrival)
    assert list(fields) == ["planned_arrival"]


def test_a_trip_may_be_registered_a_minute_before_arrival(
    dispatcher: User, checkpoint: Any
) -> None:
    make_trip(
        dispatcher,
        checkpoint,
        planned_arrival=NOW + timedelta(minutes=1),
        planned_departure=hours(5),
    )


@pytest.mark.parametrize("departure", [hours(6), hours(5)])
def test_it_refuses_a_departure_not_after_arrival(
    dispatcher: User, checkpoint: Any, departure: datetime
) -> None:
    fields = field_errors(
        dispatcher, checkpoint, planned_arrival=hours(6), planned_departure=departure
    )
    assert list(fields) == ["planned_departure"]


def test_a_standard_trip_lasts_at_most_72_hours(dispatcher: User, checkpoint: Any) -> None:
    fields = field_errors(
        dispatcher,
        checkpoint,
        planned_arrival=hours(6),
        planned_departure=hours(78) + timedelta(minutes=1),
    )
    assert list(fields) == ["planned_departure"]
    assert "72" in fields["planned_departure"][0]
    make_trip(dispatcher, checkpoint, planned_arrival=hours(6), planned_departure=hours(78))


def test_the_policy_may_demand_a_lead_time(dispatcher: User, checkpoint: Any) -> None:
    Policy.objects.create(version=2, min_lead_hours=12)
    fields = field_errors(dispatcher, checkpoint, planned_arrival=hours(11))
    assert list(fields) == ["planned_arrival"]
    assert "12" in fields["planned_arrival"][0]
    make_trip(dispatcher, checkpoint, planned_arrival=hours(12), planned_departure=hours(20))


def test_the_policy_sets_the_longest_window(dispatcher: User, checkpoint: Any) -> None:
    Policy.objects.create(version=2, max_window_hours=12)
    fields = field_errors(
        dispatcher, checkpoint, planned_arrival=hours(6), planned_departure=hours(19)
    )
    assert list(fields) == ["planned_departure"]


@pytest.fixture
def whitelisted() -> User:
    return make_dispatcher(whitelisted_company(until=hours(24 * 30)))


def test_a_whitelisted_company_may_register_a_multi_entry_pass_for_7_days(
    whitelisted: User, checkpoint: Any
) -> None:
    trip = make_trip(
        whitelisted,
        checkpoint,
        multi_entry=True,
        planned_arrival=hours(6),
        planned_departure=hours(6 + 24 * 7),
    )
    assert trip.multi_entry is True
    assert active_pass(trip).valid_until == hours(8 + 24 * 7, MINUTE) + timedelta(minutes=1)


def test_a_multi_entry_pass_lasts_at_most_7_days(whitelisted: User, checkpoint: Any) -> None:
    fields = field_errors(
        whitelisted,
        checkpoint,
        multi_entry=True,
        planned_arrival=hours(6),
        planned_departure=hours(6 + 24 * 7) + timedelta(minutes=1),
    )
    assert list(fields) == ["planned_departure"]
    assert "7" in fields["planned_departure"][0]


def test_a_whitelisted_company_keeps_the_72_hour_limit_for_standard_passes(
    whitelisted: User, checkpoint: Any
) -> None:
    fields = field_errors(
        whitelisted, checkpoint, planned_arrival=hours(6), planned_departure=hours(6 + 24 * 4)
    )
    assert list(fields) == ["planned_departure"]


def test_only_whitelisted_companies_get_multi_entry_passes(
    dispatcher: User, checkpoint: Any
) -> None:
    fields = field_errors(dispatcher, checkpoint, multi_entry=True)
    assert list(fields) == ["multi_entry"]


def test_an_expired_whitelist_gives_no_multi_entry_pass(checkpoint: Any) -> None:
    company = whitelisted_company(until=hours(-1))
    fields = field_errors(make_dispatcher(company), checkpoint, multi_entry=True)
    assert list(fields) == ["multi_entry"]


def test_a_multi_entry_pass_may_not_outlast_the_whitelist(checkpoint: Any) -> None:
    company = whitelisted_company(until=hours(48))
    actor = make_dispatcher(company)
    fields = field_errors(
        actor, checkpoint, multi_entry=True, planned_arrival=hours(6), planned_departure=hours(96)
    )
    assert list(fields) == ["planned_departure"]
    make_trip(
        actor, checkpoint, multi_entry=True, planned_arrival=hours(6), planned_departure=hours(47)
    )


def test_a_whitelist_without_end_date_allows_multi_entry(checkpoint: Any) -> None:
    actor = make_dispatcher(whitelisted_company(until=None))
    trip = make_trip(
        actor, checkpoint, multi_entry=True, planned_arrival=hours(6), planned_departure=hours(150)
    )
    assert trip.multi_entry


# --- one vehicle, one trip at a time --------------------------------------------------------


def test_it_refuses_an_overlapping_trip_of_the_same_vehicle(
    dispatcher: User, checkpoint: Any
) -> None:
    plate = valid_plate()
    first = make_trip(
        dispatcher,
        checkpoint,
        vehicle_plate=plate,
        planned_arrival=hours(6),
        planned_departure=hours(30),
    )
    error = refused(
        dispatcher,
        checkpoint,
        vehicle_plate=plate,
        planned_arrival=hours(20),
        planned_departure=hours(40),
    )
    assert error.code == "vehicle_busy"
    assert error.status == 409
    assert first.reference is not None and first.reference in str(error.message)
    assert list(error.fields) == ["vehicle_plate"]


def test_planned_times_not_window_margins_decide_an_overlap(
    dispatcher: User, checkpoint: Any
) -> None:
    plate = valid_plate()
    make_trip(
        dispatcher,
        checkpoint,
        vehicle_plate=plate,
        planned_arrival=hours(6, MINUTE),
        planned_departure=hours(30, MINUTE),
    )  # pass window until +32 h
    # Arriving one minute before the planned departure: the truck would be in two trips.
    assert (
        refused(
            dispatcher,
            checkpoint,
            vehicle_plate=plate,
            planned_arrival=hours(29, MINUTE) + timedelta(minutes=59),
            planned_departure=hours(40, MINUTE),
        ).code
        == "vehicle_busy"
    )
    # Turning round an hour after departure is normal, though the windows' margins overlap.
    trip = make_trip(
        dispatcher,
        checkpoint,
        vehicle_plate=plate,
        planned_arrival=hours(31, MINUTE),
        planned_departure=hours(40, MINUTE),
    )
    assert active_pass(trip).valid_from == hours(29, MINUTE)


def test_a_later_trip_of_the_same_vehicle_is_registered(dispatcher: User, checkpoint: Any) -> None:
    plate = valid_plate()
    first = make_trip(dispatcher, checkpoint, vehicle_plate=plate)
    second = make_trip(
        dispatcher,
        checkpoint,
        vehicle_plate="豫H·" + plate[2:],
        planned_arrival=hours(48),
        planned_departure=hours(60),
    )
    assert first.vehicle_id == second.vehicle_id
    assert Pass.objects.filter(trip__vehicle__plate=plate, status="active").count() == 2


def test_a_cancelled_trip_frees_the_vehicle(dispatcher: User, checkpoint: Any) -> None:
    plate = valid_plate()
    first = make_trip(dispatcher, checkpoint, vehicle_plate=plate)
    services.trip_cancel(actor=dispatcher, trip=first)
    make_trip(dispatcher, checkpoint, vehicle_plate=plate)


# --- who may register -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_user",
    [
        lambda cp: UserFactory(role="official"),
        lambda cp: staff_user(cp),
        lambda cp: consignee_user(),
        lambda cp: UserFactory(),
        lambda cp: UserFactory(role="admin"),
    ],
)
def test_only_drivers_and_dispatchers_register(checkpoint: Any, make_user: Any) -> None:
    error = refused(make_user(checkpoint), checkpoint)
    assert isinstance(error, PermissionDenied)
    assert (error.code, error.status) == ("not_allowed", 403)


def test_a_dispatcher_without_a_company_is_refused(checkpoint: Any) -> None:
    error = refused(UserFactory(role="dispatcher"), checkpoint)
    assert isinstance(error, PermissionDenied) and error.code == "no_company"


def test_a_driver_account_without_a_profile_is_refused(checkpoint: Any) -> None:
    error = refused(UserFactory(role="driver"), checkpoint)
    assert isinstance(error, PermissionDenied) and error.code == "no_driver_profile"


def test_a_driver_registers_for_themselves_when_the_driver_is_left_out(
    company: Any, checkpoint: Any
) -> None:
    user = driver_user(company)
    trip = make_trip(user, checkpoint, driver=None)
    profile = Driver.objects.get(user=user)
    assert trip.driver == profile
    assert trip.company == company
    assert trip.registered_by == user
    assert Driver.objects.filter(company=company).count() == 1


def test_an_independent_driver_registers_without_a_company(checkpoint: Any) -> None:
    user = driver_user(None)
    trip = make_trip(user, checkpoint, driver=None)
    assert trip.company is None and trip.driver.user == user


def test_a_driver_may_name_themselves(checkpoint: Any) -> None:
    user = driver_user()
    profile = Driver.objects.get(user=user)
    trip = make_trip(
        user, checkpoint, driver=PersonData("张师傅", profile.id_number, profile.phone)
    )
    assert trip.driver == profile


def test_a_driver_may_not_register_someone_else(checkpoint: Any) -> None:
    user = driver_user()
    fields = field_errors(user, checkpoint, driver=person())
    assert list(fields) == ["driver"]
    assert list(fields["driver"]) == ["id_number"]


def test_a_driver_naming_someone_else_badly_gets_a_clean_refusal(checkpoint: Any) -> None:
    fields = field_errors(
        driver_user(), checkpoint, driver=PersonData("某人", valid_id_number(), "123")
    )
    assert set(fields["driver"]) == {"id_number", "phone"}


# --- cancelling --------------------------------------------------------------------------------


def test_cancelling_revokes_the_pass_and_records_who(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    pass_ = active_pass(trip)
    services.trip_cancel(actor=dispatcher, trip=trip)

    trip.refresh_from_db()
    pass_.refresh_from_db()
    assert (trip.status, trip.cancelled_at) == (TripStatus.CANCELLED, NOW)
    assert (pass_.status, pass_.revoked_at, pass_.revoked_reason) == (
        PassStatus.REVOKED,
        NOW,
        "trip cancelled",
    )
    latest = pass_.history.latest("history_id")
    assert (latest.status, latest.history_user) == ("revoked", dispatcher)


def test_cancelling_twice_changes_nothing(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    services.trip_cancel(actor=dispatcher, trip=trip)
    with time_machine.travel(hours(1), tick=False):
        again = services.trip_cancel(actor=dispatcher, trip=trip)
    assert again.status == TripStatus.CANCELLED and again.cancelled_at == NOW


@pytest.mark.parametrize("status", [TripStatus.INSIDE, TripStatus.ARRIVED, TripStatus.EXITED])
def test_a_trip_that_has_entered_cannot_be_cancelled(
    dispatcher: User, checkpoint: Any, status: str
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    Trip.objects.filter(pk=trip.pk).update(status=status)
    with pytest.raises(DomainError) as exc:
        services.trip_cancel(actor=dispatcher, trip=trip)
    assert (exc.value.code, exc.value.status) == ("not_cancellable", 409)
    assert active_pass(trip).status == PassStatus.ACTIVE


def test_the_driver_may_cancel_their_trip(checkpoint: Any) -> None:
    user = driver_user()
    trip = make_trip(user, checkpoint, driver=None)
    assert services.trip_cancel(actor=user, trip=trip).status == TripStatus.CANCELLED


@pytest.mark.parametrize(
    "make_user",
    [
        lambda: consignee_user(),
        lambda: make_dispatcher(),  # of another company
        lambda: driver_user(),  # another driver
        lambda: UserFactory(role="official"),
        lambda: UserFactory(role="staff"),
    ],
)
def test_others_may_not_change_a_trip(dispatcher: User, checkpoint: Any, make_user: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    actor = make_user()
    with pytest.raises(PermissionDenied):
        services.trip_cancel(actor=actor, trip=trip)
    with pytest.raises(PermissionDenied):
        services.trip_set_test_result(
            actor=actor, trip=trip, result="negative", sampled_at=hours(-1)
        )
    with pytest.raises(PermissionDenied):
        services.trip_correct_plate(actor=actor, trip=trip, plate=valid_plate())
    trip.refresh_from_db()
    assert trip.status == TripStatus.REGISTERED
    assert active_pass(trip).history.count() == 1


# --- a new test result -----------------------------------------------------------------------


def test_a_new_negative_test_turns_the_pass_green_at_once(
    dispatcher: User, checkpoint: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint, test_result="none", test_sampled_at=None)
    pass_ = active_pass(trip)
    assert pass_.colour == "yellow"
    assert pass_.history.count() == 1

    with time_machine.travel(hours(1), tick=False):
        services.trip_set_test_result(
            actor=dispatcher, trip=trip, result="negative", sampled_at=hours(0.5)
        )

    trip.refresh_from_db()
    pass_.refresh_from_db()
    assert (trip.test_result, trip.test_sampled_at) == ("negative", hours(0.5))
    assert (pass_.colour, pass_.reasons, pass_.graded_at) == ("green", [], hours(1))
    # The same pass, regraded: its token still works, and its history shows both colours.
    assert pass_.status == PassStatus.ACTIVE
    assert Pass.objects.filter(trip=trip).count() == 1
    assert pass_.history.count() == 2
    assert [h.colour for h in pass_.history.order_by("history_id")] == ["yellow", "green"]


def test_a_stale_test_is_lifted_by_a_fresh_one(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint, test_sampled_at=hours(-60))
    assert active_pass(trip).reasons == [{"code": "test_stale"}]
    services.trip_set_test_result(
        actor=dispatcher, trip=trip, result="negative", sampled_at=hours(-1)
    )
    assert active_pass(trip).colour == "green"


def test_a_positive_test_turns_the_pass_red(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    services.trip_set_test_result(
        actor=dispatcher, trip=trip, result="positive", sampled_at=hours(-1)
    )
    assert (active_pass(trip).colour, active_pass(trip).reasons) == (
        "red",
        [{"code": "positive_test"}],
    )


def test_a_fresh_test_does_not_lift_a_red_route(dispatcher: User, checkpoint: Any) -> None:
    set_risk("320412", "high")
    trip = make_trip(dispatcher, checkpoint, test_result="none", test_sampled_at=None)
    services.trip_set_test_result(
        actor=dispatcher, trip=trip, result="negative", sampled_at=hours(-1)
    )
    assert active_pass(trip).reasons == [{"code": "high_risk_origin", "regions": ["320412"]}]


def test_the_same_result_again_leaves_the_pass_history_alone(
    dispatcher: User, checkpoint: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    services.trip_set_test_result(
        actor=dispatcher, trip=trip, result="negative", sampled_at=hours(-5)
    )
    assert active_pass(trip).history.count() == 1


def test_an_older_sample_than_the_one_given_is_refused(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint, test_sampled_at=hours(-10))
    with pytest.raises(DomainError) as exc:
        services.trip_set_test_result(
            actor=dispatcher, trip=trip, result="negative", sampled_at=hours(-11)
        )
    assert list(exc.value.fields) == ["test_sampled_at"]
    trip.refresh_from_db()
    assert trip.test_sampled_at == hours(-10)


@pytest.mark.parametrize(
    ("result", "sampled_at", "field"),
    [
        ("maybe", None, "test_result"),
        ("negative", None, "test_sampled_at"),
        ("negative", NOW + timedelta(minutes=10), "test_sampled_at"),
    ],
)
def test_a_bad_test_result_is_refused(
    dispatcher: User, checkpoint: Any, result: str, sampled_at: datetime | None, field: str
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    with pytest.raises(DomainError) as exc:
        services.trip_set_test_result(
            actor=dispatcher, trip=trip, result=result, sampled_at=sampled_at
        )
    assert (exc.value.code, list(exc.value.fields)) == ("validation_error", [field])


def test_a_closed_trip_takes_no_new_result(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    services.trip_cancel(actor=dispatcher, trip=trip)
    with pytest.raises(DomainError) as exc:
        services.trip_set_test_result(
            actor=dispatcher, trip=trip, result="negative", sampled_at=hours(-1)
        )
    assert (exc.value.code, exc.value.status) == ("trip_closed", 409)


# --- correcting the plate --------------------------------------------------------------------


def test_the_plate_may_be_corrected_before_the_window_opens(
    dispatcher: User, checkpoint: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint, planned_arrival=hours(6))  # window opens at +4 h
    pass_ = active_pass(trip)
    token = services.pass_token(pass_)
    with time_machine.travel(hours(3.9), tick=False):
        services.trip_correct_plate(actor=dispatcher, trip=trip, plate="豫h 54321")
    trip.refresh_from_db()
    assert trip.vehicle.plate == "豫H54321"
    assert trip.vehicle.company == trip.company
    # The token does not carry the plate: the same pass, the same code.
    assert active_pass(trip).pk == pass_.pk
    assert services.pass_token(active_pass(trip)) == token


def test_the_plate_is_locked_once_the_window_opens(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint, planned_arrival=hours(6))
    plate = trip.vehicle.plate
    with time_machine.travel(hours(4, MINUTE), tick=False), pytest.raises(DomainError) as exc:
        services.trip_correct_plate(actor=dispatcher, trip=trip, plate=valid_plate())
    assert (exc.value.code, exc.value.status) == ("plate_locked", 409)
    trip.refresh_from_db()
    assert trip.vehicle.plate == plate


def test_a_cancelled_trip_keeps_its_plate(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    services.trip_cancel(actor=dispatcher, trip=trip)
    with pytest.raises(DomainError) as exc:
        services.trip_correct_plate(actor=dispatcher, trip=trip, plate=valid_plate())
    assert exc.value.code == "plate_locked"


def test_a_bad_corrected_plate_is_refused(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    with pytest.raises(DomainError) as exc:
        services.trip_correct_plate(actor=dispatcher, trip=trip, plate="豫H1")
    assert list(exc.value.fields) == ["vehicle_plate"]


def test_a_plate_busy_with_another_trip_at_the_time_is_refused(
    dispatcher: User, checkpoint: Any
) -> None:
    busy = make_trip(dispatcher, checkpoint, planned_arrival=hours(10), planned_departure=hours(20))
    trip = make_trip(dispatcher, checkpoint, planned_arrival=hours(6), planned_departure=hours(12))
    with pytest.raises(DomainError) as exc:
        services.trip_correct_plate(actor=dispatcher, trip=trip, plate=busy.vehicle.plate)
    assert (exc.value.code, exc.value.status) == ("vehicle_busy", 409)
    # Correcting to the plate it already has is fine.
    services.trip_correct_plate(actor=dispatcher, trip=trip, plate=trip.vehicle.plate)


# --- region risk levels ----------------------------------------------------------------------


@pytest.fixture
def official() -> User:
    return UserFactory(role="official")


def test_raising_a_region_regrades_the_passes_that_touch_it(
    dispatcher: User, checkpoint: Any, official: User, django_capture_on_commit_callbacks: Any
) -> None:
    from_wujin = make_trip(dispatcher, checkpoint, origin_region="320412", travel_history=[])
    via_wujin = make_trip(
        dispatcher, checkpoint, origin_region="410802", travel_history=["140427", "320412"]
    )
    elsewhere = make_trip(dispatcher, checkpoint, origin_region="410802", travel_history=[])
    neighbour = make_trip(dispatcher, checkpoint, origin_region="320411", travel_history=[])

    with run_after_commit(django_capture_on_commit_callbacks):
        region = services.region_set_risk(
            actor=official, region=Region.objects.get(code="320412"), risk_level="high"
        )
    assert region.risk_level == "high" and region.risk_changed_at == NOW

    assert active_pass(from_wujin).colour == "red"
    assert active_pass(from_wujin).reasons == [{"code": "high_risk_origin", "regions": ["320412"]}]
    assert active_pass(via_wujin).reasons == [{"code": "high_risk_travel", "regions": ["320412"]}]
    for untouched in (elsewhere, neighbour):
        assert active_pass(untouched).colour == "green"
        assert active_pass(untouched).history.count() == 1

    # And lowering it again turns them back.
    with run_after_commit(django_capture_on_commit_callbacks):
        services.region_set_risk(
            actor=official, region=Region.objects.get(code="320412"), risk_level="low"
        )
    assert active_pass(from_wujin).colour == "green"
    assert active_pass(via_wujin).colour == "green"
    assert active_pass(from_wujin).history.count() == 3


def test_raising_a_city_regrades_passes_from_its_counties(
    dispatcher: User, checkpoint: Any, official: User, django_capture_on_commit_callbacks: Any
) -> None:
    from_county = make_trip(dispatcher, checkpoint, origin_region="320412", travel_history=[])
    via_county = make_trip(
        dispatcher, checkpoint, origin_region="410802", travel_history=["320411"]
    )
    elsewhere = make_trip(dispatcher, checkpoint, origin_region="140427", travel_history=[])
    with run_after_commit(django_capture_on_commit_callbacks):
        services.region_set_risk(
            actor=official, region=Region.objects.get(code="320400"), risk_level="medium"
        )
    assert active_pass(from_county).reasons == [
        {"code": "medium_risk_origin", "regions": ["320412"]}
    ]
    assert active_pass(via_county).reasons == [
        {"code": "medium_risk_travel", "regions": ["320411"]}
    ]
    assert active_pass(elsewhere).colour == "green"


def test_raising_a_province_regrades_passes_from_it(
    dispatcher: User, checkpoint: Any, official: User, django_capture_on_commit_callbacks: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    with run_after_commit(django_capture_on_commit_callbacks):
        services.region_set_risk(
            actor=official, region=Region.objects.get(code="320000"), risk_level="high"
        )
    assert active_pass(trip).colour == "red"


def test_revoked_passes_are_not_regraded(
    dispatcher: User, checkpoint: Any, official: User, django_capture_on_commit_callbacks: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint, origin_region="320412")
    services.trip_cancel(actor=dispatcher, trip=trip)
    with run_after_commit(django_capture_on_commit_callbacks):
        services.region_set_risk(
            actor=official, region=Region.objects.get(code="320412"), risk_level="high"
        )
    assert Pass.objects.get(trip=trip).colour == "green"


def test_a_risk_change_is_recorded_with_who_and_when(official: User) -> None:
    region = Region.objects.get(code="140427")
    before = region.history.count()
    services.region_set_risk(actor=official, region=region, risk_level="medium")
    latest = Region.history.filter(code="140427").latest("history_id")
    assert (latest.risk_level, latest.history_user, latest.risk_changed_at) == (
        "medium",
        official,
        NOW,
    )
    # Setting the level it already has records nothing: the rows are the change and, written
    # just before it, the level the region had (it was loaded without history).
    services.region_set_risk(actor=official, region=region, risk_level="medium")
    assert Region.history.filter(code="140427").count() == before + 2


def test_an_unknown_risk_level_is_refused(official: User) -> None:
    region = Region.objects.get(code="140427")
    with pytest.raises(DomainError) as exc:
        services.region_set_risk(actor=official, region=region, risk_level="extreme")
    assert list(exc.value.fields) == ["risk_level"]
    assert Region.objects.get(code="140427").risk_level == "low"


def test_only_officials_set_risk_levels(dispatcher: User) -> None:
    for actor in (dispatcher, UserFactory(role="staff"), driver_user()):
        with pytest.raises(PermissionDenied):
            services.region_set_risk(
                actor=actor, region=Region.objects.get(code="140427"), risk_level="high"
            )
    assert Region.objects.get(code="140427").risk_level == "low"


# --- passes ----------------------------------------------------------------------------------


def test_reissuing_revokes_the_old_pass(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    old = active_pass(trip)
    new = services.pass_issue(trip=trip)
    old.refresh_from_db()
    assert (old.status, old.revoked_reason) == (PassStatus.REVOKED, "reissued")
    assert old.history.latest("history_id").status == "revoked"
    assert active_pass(trip) == new
    assert services.pass_token(new) != services.pass_token(old)


def test_the_database_allows_one_active_pass_per_trip(dispatcher: User, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    existing = active_pass(trip)
    values = {
        "trip": trip,
        "colour": "green",
        "policy_version": 1,
        "valid_from": existing.valid_from,
        "valid_until": existing.valid_until,
        "key_id": 1,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Pass.objects.create(**values)
    Pass.objects.create(**values, status=PassStatus.REVOKED)
    assert Pass.objects.filter(trip=trip).count() == 2


# --- policy ----------------------------------------------------------------------------------


def test_policy_current_creates_the_default_version_1_when_missing() -> None:
    Policy.objects.all().delete()
    policy = services.policy_current()
    assert policy.pk is not None and policy.version == 1
    assert (
        policy.red_risk_level,
        policy.yellow_risk_level,
        policy.test_max_age_hours,
        policy.window_before_hours,
        policy.window_after_hours,
        policy.min_lead_hours,
        policy.max_window_hours,
        policy.multi_entry_max_days,
    ) == ("high", "medium", 48, 2, 2, 0, 72, 7)
    assert services.policy_current() == policy
    assert Policy.objects.count() == 1


def test_policy_current_is_the_highest_version() -> None:
    Policy.objects.create(version=3, test_max_age_hours=24)
    Policy.objects.create(version=2)
    assert services.policy_current().version == 3


# --- a company's vehicles and drivers --------------------------------------------------------


def test_a_dispatcher_adds_a_vehicle(dispatcher: User) -> None:
    vehicle = services.vehicle_add(actor=dispatcher, plate="豫h·88888", description=" 冷链车 ")
    assert (vehicle.plate, vehicle.description) == ("豫H88888", "冷链车")
    assert vehicle.company == dispatcher.company_membership.company
    again = services.vehicle_add(actor=dispatcher, plate="豫H88888", description="")
    assert again.pk == vehicle.pk and again.description == "冷链车"
    assert Vehicle.objects.filter(plate="豫H88888").count() == 1


def test_a_vehicle_first_seen_on_a_trip_is_claimed(dispatcher: User) -> None:
    loose = Vehicle.objects.create(plate="豫H77777")
    vehicle = services.vehicle_add(actor=dispatcher, plate="豫H77777")
    assert vehicle.pk == loose.pk and vehicle.company == dispatcher.company_membership.company


def test_another_companys_plate_is_refused(dispatcher: User) -> None:
    services.vehicle_add(actor=dispatcher, plate="豫H66666")
    with pytest.raises(DomainError) as exc:
        services.vehicle_add(actor=make_dispatcher(), plate="豫H66666")
    assert (exc.value.code, exc.value.status, list(exc.value.fields)) == (
        "plate_taken",
        409,
        ["plate"],
    )


def test_a_bad_plate_is_refused_for_a_vehicle(dispatcher: User) -> None:
    with pytest.raises(DomainError) as exc:
        services.vehicle_add(actor=dispatcher, plate="not a plate")
    assert list(exc.value.fields) == ["plate"]
    assert not Vehicle.objects.exists()


def test_a_dispatcher_adds_and_updates_a_driver(dispatcher: User) -> None:
    id_number = valid_id_number()
    driver = services.driver_add(
        actor=dispatcher, person=PersonData(" 周师傅 ", id_number, valid_phone())
    )
    assert driver.name == "周师傅" and driver.company == dispatcher.company_membership.company
    phone = valid_phone()
    again = services.driver_add(actor=dispatcher, person=PersonData("周师傅", id_number, phone))
    assert again.pk == driver.pk and again.phone == phone


def test_a_bad_driver_is_refused(dispatcher: User) -> None:
    with pytest.raises(DomainError) as exc:
        services.driver_add(actor=dispatcher, person=PersonData("", "1", "2"))
    assert set(exc.value.fields) == {"name", "id_number", "phone"}
    assert not Driver.objects.exists()


@pytest.mark.parametrize(
    "make_user",
    [
        lambda: driver_user(CompanyFactory()),
        lambda: consignee_user(),
        lambda: UserFactory(role="official"),
        lambda: UserFactory(role="dispatcher"),  # not linked to a company
    ],
)
def test_only_dispatchers_manage_vehicles_and_drivers(make_user: Any) -> None:
    actor = make_user()
    with pytest.raises(PermissionDenied):
        services.vehicle_add(actor=actor, plate="豫H55555")
    with pytest.raises(PermissionDenied):
        services.driver_add(actor=actor, person=person())
    assert not Vehicle.objects.filter(plate="豫H55555").exists()
