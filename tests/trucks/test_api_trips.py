"""POST/GET /api/v1/trips/ and GET /api/v1/trips/{id}/: the contract, field by field, and who
sees what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.authtoken.models import Token

from tests.factories import (
    CompanyFactory,
    UserFactory,
    consignee_user,
    driver_user,
    make_trip,
    staff_user,
    valid_id_number,
    valid_phone,
)
from tests.factories import (
    dispatcher as make_dispatcher,
)
from trucks import links, passcode
from trucks.models import Pass, Trip

pytestmark = pytest.mark.django_db

URL = "/api/v1/trips/"


def test_it_registers_a_trip(
    api_client: Any, dispatcher: Any, checkpoint: Any, trip_payload: Any
) -> None:
    consignee = CompanyFactory(is_consignee=True)
    co_rider = {"name": "王五", "id_number": valid_id_number(), "phone": valid_phone()}
    body = trip_payload(co_riders=[co_rider], consignee=consignee.pk)
    api_client.force_authenticate(dispatcher)

    r = api_client.post(URL, body, format="json")

    assert r.status_code == 201, r.json()
    data = r.json()
    trip = Trip.objects.get(pk=data["id"])
    assert data["reference"] == trip.reference
    assert data["status"] == "registered"
    assert data["vehicle_plate"] == body["vehicle_plate"]
    driver_id = body["driver"]["id_number"]
    assert data["driver"] == {
        "name": "李师傅",
        "id_number": driver_id[:4] + "*" * 10 + driver_id[-4:],
        "phone": body["driver"]["phone"],
    }
    assert [p["name"] for p in data["co_riders"]] == ["王五"]
    assert data["co_riders"][0]["id_number"].count("*") == 10
    assert data["co_riders"][0]["phone"] == co_rider["phone"]
    assert data["origin_region"] == "320412"
    assert data["travel_history"] == ["320400"]
    assert data["destination_name"] == body["destination_name"]
    assert data["destination_address"] == body["destination_address"]
    assert data["consignee"] == consignee.pk
    assert data["entry_checkpoint"] == checkpoint.code
    assert parse_datetime(data["planned_arrival"]) == parse_datetime(body["planned_arrival"])
    assert parse_datetime(data["planned_departure"]) == parse_datetime(body["planned_departure"])
    assert data["cargo_category"] == "daily_necessities"
    assert data["cargo_description"] == "蔬菜 20 吨"
    assert data["test_result"] == "negative"
    assert parse_datetime(data["test_sampled_at"]) == parse_datetime(body["test_sampled_at"])
    assert data["multi_entry"] is False
    assert parse_datetime(data["created_at"]) is not None

    pass_ = Pass.objects.get(trip=trip)
    p = data["pass"]
    assert set(p) == {
        "id",
        "token",
        "colour",
        "reasons",
        "policy_version",
        "status",
        "valid_from",
        "valid_until",
        "qr_png",
        "qr_svg",
        "link",
    }
    assert p["id"] == pass_.pk
    assert passcode.decode(p["token"]).pass_id == pass_.pk
    assert p["colour"] == "green"
    assert p["reasons"] == []
    assert p["policy_version"] == pass_.policy_version
    assert p["status"] == "active"
    assert parse_datetime(p["valid_from"]) == pass_.valid_from
    assert parse_datetime(p["valid_until"]) == pass_.valid_until
    assert p["qr_png"] == f"http://testserver/api/v1/passes/{pass_.pk}/qr.png"
    assert p["qr_svg"] == f"http://testserver/api/v1/passes/{pass_.pk}/qr.svg"
    assert p["link"].startswith(settings.SITE_URL + "/")
    assert links.pass_id_from_link(p["link"].rstrip("/").rsplit("/", 1)[1]) == pass_.pk


def test_it_explains_a_yellow_pass(
    api_client: Any, dispatcher: Any, checkpoint: Any, trip_payload: Any
) -> None:
    api_client.force_authenticate(dispatcher)
    body = trip_payload(test_result="none")
    del body["test_sampled_at"]

    r = api_client.post(URL, body, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert r.status_code == 201, r.json()
    assert r.json()["pass"]["colour"] == "yellow"
    [reason] = r.json()["pass"]["reasons"]
    assert reason["code"] == "no_test"
    assert reason["text"] == "No negative test result has been given."
    assert reason["action"].startswith("Upload a negative test result")


def test_it_lets_a_driver_register_for_himself(
    api_client: Any, company: Any, checkpoint: Any, trip_payload: Any
) -> None:
    user = driver_user(company)
    body = trip_payload()
    del body["driver"]
    api_client.force_authenticate(user)

    r = api_client.post(URL, body, format="json")

    assert r.status_code == 201, r.json()
    assert r.json()["driver"]["name"] == user.driver_profile.name
    assert Trip.objects.get(pk=r.json()["id"]).driver == user.driver_profile


def test_it_reports_a_nested_field_error(
    api_client: Any, dispatcher: Any, trip_payload: Any
) -> None:
    body = trip_payload()
    body["driver"]["id_number"] = "410802198506120001"  # wrong check character
    api_client.force_authenticate(dispatcher)

    r = api_client.post(URL, body, format="json")

    assert r.status_code == 400
    data = r.json()
    assert data["code"] == "validation_error"
    assert isinstance(data["detail"], str)
    assert list(data["fields"]) == ["driver"]
    assert list(data["fields"]["driver"]) == ["id_number"]
    assert isinstance(data["fields"]["driver"]["id_number"][0], str)
    assert not Trip.objects.exists()


def test_it_reports_a_co_rider_error_by_row(
    api_client: Any, dispatcher: Any, trip_payload: Any
) -> None:
    good = {"name": "王五", "id_number": valid_id_number(), "phone": valid_phone()}
    bad = {"name": "赵六", "id_number": valid_id_number(), "phone": "12"}
    api_client.force_authenticate(dispatcher)

    r = api_client.post(URL, trip_payload(co_riders=[good, bad]), format="json")

    assert r.status_code == 400
    assert list(r.json()["fields"]["co_riders"]) == ["1"]
    assert list(r.json()["fields"]["co_riders"]["1"]) == ["phone"]


def test_it_lists_every_fault_of_a_registration_at_once(
    api_client: Any, dispatcher: Any, trip_payload: Any
) -> None:
    body = trip_payload(
        vehicle_plate="XYZ",
        origin_region="999999",
        travel_history=["888888"],
        entry_checkpoint="NO-SUCH",
        consignee=987654,
        cargo_category="gold",
        test_result="maybe",
        planned_arrival=(timezone.now() - timedelta(hours=1)).isoformat(),
    )
    api_client.force_authenticate(dispatcher)

    r = api_client.post(URL, body, format="json")

    assert r.status_code == 400
    assert set(r.json()["fields"]) == {
        "vehicle_plate",
        "origin_region",
        "travel_history",
        "entry_checkpoint",
        "consignee",
        "cargo_category",
        "test_result",
        "planned_arrival",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("travel_history", "320400"),
        ("co_riders", {"name": "x"}),
        ("driver", "李师傅"),
        ("planned_arrival", "tomorrow"),
        ("planned_arrival", "9999-12-31T23:00:00+08:00"),
        ("test_sampled_at", "0001-01-01T00:00:00+14:00"),
        ("consignee", "acme"),
        ("consignee", 10**30),
        ("multi_entry", "perhaps"),
        ("destination_name", "长" * 5000),
        ("vehicle_plate", ["豫H12345"]),
        ("origin_region", None),
        ("cargo_description", "a\x00b"),
    ],
)
def test_it_refuses_wrong_types(
    api_client: Any, dispatcher: Any, trip_payload: Any, field: str, value: Any
) -> None:
    api_client.force_authenticate(dispatcher)

    r = api_client.post(URL, trip_payload(**{field: value}), format="json")

    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert field in r.json()["fields"]


def test_it_refuses_missing_fields(api_client: Any, dispatcher: Any) -> None:
    api_client.force_authenticate(dispatcher)

    r = api_client.post(URL, {}, format="json")

    assert r.status_code == 400
    assert {"vehicle_plate", "origin_region", "planned_arrival", "test_result"} <= set(
        r.json()["fields"]
    )


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', "null"])
def test_it_refuses_a_body_that_is_not_an_object(
    api_client: Any, dispatcher: Any, body: str
) -> None:
    api_client.force_authenticate(dispatcher)

    r = api_client.post(URL, body, content_type="application/json")

    assert r.status_code == 400
    assert r.json()["code"] in {"parse_error", "validation_error"}
    assert "detail" in r.json()


def test_it_refuses_a_second_trip_of_the_same_truck_at_the_same_time(
    api_client: Any, dispatcher: Any, trip_payload: Any
) -> None:
    api_client.force_authenticate(dispatcher)
    body = trip_payload()
    assert api_client.post(URL, body, format="json").status_code == 201

    r = api_client.post(URL, trip_payload(vehicle_plate=body["vehicle_plate"]), format="json")

    assert r.status_code == 409
    assert r.json()["code"] == "vehicle_busy"
    assert "vehicle_plate" in r.json()["fields"]


@pytest.mark.parametrize("role", ["consignee", "staff", "official"])
def test_it_refuses_registration_by_other_roles(
    api_client: Any, trip_payload: Any, checkpoint: Any, role: str
) -> None:
    users = {
        "consignee": consignee_user,
        "staff": lambda: staff_user(checkpoint),
        "official": lambda: UserFactory(role="official"),
    }
    api_client.force_authenticate(users[role]())

    r = api_client.post(URL, trip_payload(), format="json")

    assert r.status_code == 403
    assert r.json()["code"] == "not_allowed"


def test_it_requires_authentication(api_client: Any, trip_payload: Any) -> None:
    assert api_client.post(URL, trip_payload(), format="json").status_code == 401
    r = api_client.get(URL)
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"


def test_it_accepts_a_token(api_client: Any, dispatcher: Any, trip_payload: Any) -> None:
    token = Token.objects.create(user=dispatcher)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert api_client.post(URL, trip_payload(), format="json").status_code == 201
    assert api_client.get(URL).json()["count"] == 1


def test_it_refuses_a_wrong_token(api_client: Any) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")

    r = api_client.get(URL)

    assert r.status_code == 401
    assert r.json()["code"] == "authentication_failed"


# ---------------------------------------------------------------------------------------------
# Reading


def test_it_lists_the_company_trips_only(api_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    mine = make_trip(dispatcher, checkpoint)
    make_trip(dispatcher_factory(), checkpoint)
    api_client.force_authenticate(dispatcher)

    r = api_client.get(URL)

    assert r.status_code == 200
    assert r.json()["count"] == 1
    assert [t["id"] for t in r.json()["results"]] == [mine.pk]


def dispatcher_factory() -> Any:
    return make_dispatcher(CompanyFactory())


def test_it_shows_a_trip(api_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)

    r = api_client.get(f"{URL}{trip.pk}/")

    assert r.status_code == 200
    assert r.json()["reference"] == trip.reference
    assert r.json()["pass"]["colour"] == "green"


def test_it_refuses_another_company(api_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher_factory(), checkpoint)
    api_client.force_authenticate(dispatcher)

    r = api_client.get(f"{URL}{trip.pk}/")

    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_it_answers_404_for_an_absurd_id(api_client: Any, dispatcher: Any) -> None:
    api_client.force_authenticate(dispatcher)

    assert api_client.get(f"{URL}{10**30}/").status_code == 404


def test_a_driver_sees_only_own_trips(api_client: Any, company: Any, checkpoint: Any) -> None:
    user = driver_user(company)
    own = make_trip(user, checkpoint, driver=None)
    colleague = make_trip(make_dispatcher(company), checkpoint)
    api_client.force_authenticate(user)

    r = api_client.get(URL)

    assert [t["id"] for t in r.json()["results"]] == [own.pk]
    assert api_client.get(f"{URL}{own.pk}/").status_code == 200
    assert api_client.get(f"{URL}{colleague.pk}/").status_code == 404


def test_a_consignee_reads_inbound_trips(api_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    receiver = CompanyFactory(is_consignee=True)
    user = consignee_user(receiver)
    inbound = make_trip(dispatcher, checkpoint, consignee=receiver.pk)
    make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(user)

    r = api_client.get(URL)

    assert [t["id"] for t in r.json()["results"]] == [inbound.pk]
    assert "*" in r.json()["results"][0]["driver"]["id_number"]
    assert api_client.get(f"{URL}{inbound.pk}/").status_code == 200


def test_staff_cannot_list_trips(api_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(staff_user(checkpoint))

    assert api_client.get(URL).json()["count"] == 0
    assert api_client.get(f"{URL}{trip.pk}/").status_code == 404


def test_an_official_sees_all_trips_with_full_id_numbers(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    co_rider = ("王五", valid_id_number(), valid_phone())
    first = make_trip(dispatcher, checkpoint, co_riders=[_person(*co_rider)])
    second = make_trip(dispatcher_factory(), checkpoint)
    api_client.force_authenticate(UserFactory(role="official"))

    r = api_client.get(URL)

    by_id = {t["id"]: t for t in r.json()["results"]}
    assert set(by_id) == {first.pk, second.pk}
    assert by_id[first.pk]["driver"]["id_number"] == first.driver.id_number
    assert by_id[first.pk]["co_riders"][0]["id_number"] == co_rider[1]


def test_others_see_masked_id_numbers(api_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)

    shown = api_client.get(f"{URL}{trip.pk}/").json()["driver"]["id_number"]

    assert shown != trip.driver.id_number
    assert shown == trip.driver.id_number[:4] + "**********" + trip.driver.id_number[-4:]


def _person(name: str, id_number: str, phone: str) -> Any:
    from trucks.services import PersonData

    return PersonData(name, id_number, phone)


def test_it_filters_by_status_and_date(api_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    from tests.factories import at
    from trucks import services

    soon = make_trip(dispatcher, checkpoint)
    later = make_trip(dispatcher, checkpoint, planned_arrival=at(72), planned_departure=at(80))
    services.trip_cancel(actor=dispatcher, trip=later)
    api_client.force_authenticate(dispatcher)

    def ids(query: str) -> list[int]:
        r = api_client.get(URL + query)
        assert r.status_code == 200, r.json()
        return [t["id"] for t in r.json()["results"]]

    day_of_later = timezone.localtime(later.planned_arrival).date().isoformat()
    day_of_soon = timezone.localtime(soon.planned_arrival).date().isoformat()
    assert ids("?status=cancelled") == [later.pk]
    assert ids("?status=registered") == [soon.pk]
    assert ids(f"?date_from={day_of_later}") == [later.pk]
    assert ids(f"?date_to={day_of_soon}") == [soon.pk]
    assert ids(f"?date_from={day_of_soon}&date_to={day_of_later}") == [later.pk, soon.pk]


@pytest.mark.parametrize(
    "query", ["?status=lost", "?date_from=yesterday", "?date_to=2026-13-01", "?date_from=1/2/2026"]
)
def test_it_refuses_bad_filters(api_client: Any, dispatcher: Any, query: str) -> None:
    api_client.force_authenticate(dispatcher)

    r = api_client.get(URL + query)

    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert set(r.json()["fields"]) <= {"status", "date_from", "date_to"}


def test_it_paginates(api_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    for _ in range(3):
        make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)

    r = api_client.get(URL + "?limit=2")

    assert r.json()["count"] == 3
    assert len(r.json()["results"]) == 2
    assert r.json()["next"] is not None


def test_the_list_costs_the_same_for_one_trip_as_for_ten(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    from tests.factories import at

    def count_queries() -> int:
        api_client.force_authenticate(dispatcher)
        with CaptureQueriesContext(connection) as queries:
            r = api_client.get(URL)
        assert r.status_code == 200
        return len(queries)

    def trip(i: int) -> None:
        # Yellow passes, with reasons naming regions, as well as green ones.
        make_trip(
            dispatcher,
            checkpoint,
            test_result="none" if i % 2 else "negative",
            test_sampled_at=None if i % 2 else at(-10),
            co_riders=[_person("王五", valid_id_number(), valid_phone())],
        )

    trip(1)
    one = count_queries()
    for i in range(2, 11):
        trip(i)
    assert Trip.objects.count() == 10
    assert count_queries() == one
