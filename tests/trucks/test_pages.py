"""The registration pages through Django's test client: who may open what, the register form
and its errors, the pass page and its signed link, the owner's forms, the dispatcher pages and
the language switch."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    CheckpointFactory,
    CompanyFactory,
    UserFactory,
    at,
    consignee_user,
    dispatcher,
    driver_user,
    make_trip,
    staff_user,
    valid_id_number,
    valid_phone,
    valid_plate,
)
from trucks import links
from trucks.forms.common import DATETIME_LOCAL
from trucks.models import Company, CompanyMember, Pass, PassStatus, Trip, TripStatus, Vehicle

pytestmark = pytest.mark.django_db


def local(hours: float) -> str:
    """A datetime-local value as the browser sends it, in the site's time zone."""
    return timezone.localtime(at(hours)).strftime(DATETIME_LOCAL)


def client_for(user: Any) -> Client:
    # English, so that the assertions on messages hold once the Chinese catalogue is filled in.
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def form_data(checkpoint: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "plate_prefix": "豫",
        "plate_rest": valid_plate()[1:],
        "driver_name": "李师傅",
        "driver_id_number": valid_id_number(),
        "driver_phone": valid_phone(),
        "co_riders-TOTAL_FORMS": "1",
        "co_riders-INITIAL_FORMS": "0",
        "co_riders-MIN_NUM_FORMS": "0",
        "co_riders-MAX_NUM_FORMS": "4",
        "co_riders-0-name": "",
        "co_riders-0-id_number": "",
        "co_riders-0-phone": "",
        "origin_region": "320412",
        "travel_history": "320400, 410800",
        "entry_checkpoint": checkpoint.code,
        "destination_name": "焦作市某物流园",
        "destination_address": "河南省焦作市解放区民主路1号",
        "consignee": "",
        "planned_arrival": local(6),
        "planned_departure": local(30),
        "cargo_category": "daily_necessities",
        "cargo_description": "蔬菜 20 吨",
        "test_result": "negative",
        "test_sampled_at": local(-10),
    }
    data.update(overrides)
    return data


def errors_of(html: str, field_id: str) -> str:
    """The text of the error list rendered next to a field."""
    match = re.search(rf'<ul class="field-errors" id="{field_id}_error">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


@pytest.fixture
def driver(company: Company) -> Any:
    return driver_user(company)


@pytest.fixture
def trip(dispatcher: Any, checkpoint: Any) -> Trip:
    return make_trip(dispatcher, checkpoint)


@pytest.fixture
def other_dispatcher() -> Any:
    return dispatcher(CompanyFactory())


# ---------------------------------------------------------------------------------------------
# Home


def test_home_sends_anonymous_users_to_sign_in() -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_home_lists_the_drivers_own_trips_only(driver: Any, checkpoint: Any) -> None:
    own = make_trip(driver, checkpoint, driver=None)
    other = make_trip(driver_user(), checkpoint, driver=None)
    response = client_for(driver).get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert own.reference in body and own.vehicle.plate in body
    assert other.reference not in body
    assert reverse("trucks:trip-new") in body


def test_home_filters_by_status_and_date(dispatcher: Any, checkpoint: Any) -> None:
    kept = make_trip(dispatcher, checkpoint)
    later = make_trip(dispatcher, checkpoint, planned_arrival=at(80), planned_departure=at(90))
    client = client_for(dispatcher)
    client.post(reverse("trucks:trip-cancel", args=[kept.pk]))
    body = client.get("/", {"status": "cancelled"}).content.decode()
    assert kept.reference in body and later.reference not in body
    day = timezone.localdate(later.planned_arrival).isoformat()
    body = client.get("/", {"date_from": day}).content.decode()
    assert later.reference in body and kept.reference not in body


def test_home_shows_staff_their_checkpoints(checkpoint: Any) -> None:
    elsewhere = CheckpointFactory(name="别处卡口")
    response = client_for(staff_user(checkpoint)).get("/")
    body = response.content.decode()
    assert reverse("checkpoints:detail", args=[checkpoint.code]) in body
    assert elsewhere.name not in body
    assert reverse("trucks:trip-new") not in body


def test_home_shows_officials_every_trip(trip: Trip) -> None:
    body = client_for(UserFactory(role="official")).get("/").content.decode()
    assert trip.reference in body


def test_the_checkpoint_page_is_for_its_staff_only(checkpoint: Any) -> None:
    elsewhere = CheckpointFactory()
    client = client_for(staff_user(checkpoint))
    assert client.get(reverse("checkpoints:detail", args=[checkpoint.code])).status_code == 200
    assert client.get(reverse("checkpoints:detail", args=[elsewhere.code])).status_code == 404


# ---------------------------------------------------------------------------------------------
# Register a trip


@pytest.mark.parametrize("role", ["driver", "dispatcher"])
def test_the_register_form_opens_for_drivers_and_dispatchers(
    role: str, driver: Any, dispatcher: Any, checkpoint: Any
) -> None:
    user = driver if role == "driver" else dispatcher
    response = client_for(user).get(reverse("trucks:trip-new"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="plate_prefix"' in body and '<option value="豫" selected>' in body
    assert checkpoint.name in body


@pytest.mark.parametrize("role", ["consignee", "staff", "official"])
def test_the_register_form_refuses_other_roles(role: str, checkpoint: Any) -> None:
    user = {
        "consignee": lambda: consignee_user(),
        "staff": lambda: staff_user(checkpoint),
        "official": lambda: UserFactory(role="official"),
    }[role]()
    client = client_for(user)
    assert client.get(reverse("trucks:trip-new")).status_code == 403
    response = client.post(reverse("trucks:trip-new"), form_data(checkpoint))
    assert response.status_code == 403
    assert not Trip.objects.exists()


def test_the_register_form_sends_anonymous_users_to_sign_in() -> None:
    response = Client().get(reverse("trucks:trip-new"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_dispatcher_registers_a_trip_and_sees_its_pass(dispatcher: Any, checkpoint: Any) -> None:
    client = client_for(dispatcher)
    data = form_data(
        checkpoint,
        **{
            "co_riders-0-name": "王五",
            "co_riders-0-id_number": valid_id_number(),
            "co_riders-0-phone": valid_phone(),
        },
    )
    response = client.post(reverse("trucks:trip-new"), data)
    trip = Trip.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("trucks:trip", args=[trip.pk])
    assert trip.vehicle.plate == "豫" + data["plate_rest"]
    assert trip.co_riders.count() == 1
    assert sorted(trip.travel_history.values_list("code", flat=True)) == ["320400", "410800"]
    assert (
        timezone.localtime(trip.planned_arrival).strftime(DATETIME_LOCAL)
        == (data["planned_arrival"])
    )

    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert trip.reference in body and trip.vehicle.plate in body
    assert "<svg" in body
    assert 'class="banner banner-green"' in body


def test_a_driver_registers_with_their_profile(driver: Any, checkpoint: Any) -> None:
    # Whatever is posted for the driver is ignored: the fields are read-only, from the profile.
    data = form_data(checkpoint, driver_name="冒名顶替", driver_id_number=valid_id_number())
    response = client_for(driver).post(reverse("trucks:trip-new"), data)
    assert response.status_code == 302
    trip = Trip.objects.get()
    assert trip.driver.user == driver
    assert trip.driver.name == "张师傅"


def test_a_bad_id_number_is_shown_next_to_its_field_and_input_is_kept(
    dispatcher: Any, checkpoint: Any
) -> None:
    data = form_data(checkpoint, driver_id_number="410802198506120000")
    response = client_for(dispatcher).post(reverse("trucks:trip-new"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "check digit" in errors_of(body, "id_driver_id_number")
    assert 'class="error-summary"' in body
    assert 'value="焦作市某物流园"' in body
    assert f'value="{data["plate_rest"]}"' in body
    assert f'value="{data["planned_arrival"]}"' in body
    assert 'value="320400, 410800"' in body
    assert not Trip.objects.exists()


def test_service_errors_are_mapped_onto_fields_and_rows(dispatcher: Any, checkpoint: Any) -> None:
    driver_id = valid_id_number()
    data = form_data(
        checkpoint,
        driver_id_number=driver_id,
        planned_arrival=local(-2),
        planned_departure=local(5),
        origin_region="999999",
        **{
            "co_riders-0-name": "王五",
            "co_riders-0-id_number": driver_id,
            "co_riders-0-phone": valid_phone(),
        },
    )
    response = client_for(dispatcher).post(reverse("trucks:trip-new"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "future" in errors_of(body, "id_planned_arrival")
    assert errors_of(body, "id_origin_region")
    assert "already listed" in errors_of(body, "id_co_riders-0-id_number")
    assert 'value="王五"' in body


def test_an_overlapping_trip_is_refused_on_the_plate(dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    data = form_data(checkpoint, plate_rest=trip.vehicle.plate[1:])
    response = client_for(dispatcher).post(reverse("trucks:trip-new"), data)
    assert response.status_code == 409
    assert errors_of(response.content.decode(), "id_plate_rest")


def test_too_many_co_riders_are_refused(dispatcher: Any, checkpoint: Any) -> None:
    rows: dict[str, Any] = {"co_riders-TOTAL_FORMS": "5"}
    for i in range(5):
        rows |= {
            f"co_riders-{i}-name": f"乘员{i}",
            f"co_riders-{i}-id_number": valid_id_number(),
            f"co_riders-{i}-phone": valid_phone(),
        }
    response = client_for(dispatcher).post(
        reverse("trucks:trip-new"), form_data(checkpoint, **rows)
    )
    assert response.status_code == 400
    assert not Trip.objects.exists()


def test_a_garbled_form_is_a_400_not_a_500(dispatcher: Any, checkpoint: Any) -> None:
    response = client_for(dispatcher).post(
        reverse("trucks:trip-new"),
        {"planned_arrival": "tomorrow", "consignee": "abc", "co_riders-TOTAL_FORMS": "x"},
    )
    assert response.status_code == 400


# ---------------------------------------------------------------------------------------------
# The pass page


def test_the_pass_page_shows_the_pass_to_its_owners(trip: Trip, dispatcher: Any) -> None:
    response = client_for(dispatcher).get(reverse("trucks:trip", args=[trip.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert trip.reference in body and trip.vehicle.plate in body and "<svg" in body
    assert trip.driver.masked_id_number in body and trip.driver.id_number not in body
    assert trip.entry_checkpoint.name in body
    assert reverse("trucks:trip-cancel", args=[trip.pk]) in body
    assert "/p/" in body  # the link to hand to the driver


def test_a_driver_cannot_open_another_drivers_trip(checkpoint: Any) -> None:
    mine = driver_user()
    theirs = make_trip(driver_user(), checkpoint, driver=None)
    response = client_for(mine).get(reverse("trucks:trip", args=[theirs.pk]))
    assert response.status_code == 404


def test_another_companys_dispatcher_cannot_see_the_trip(trip: Trip, other_dispatcher: Any) -> None:
    client = client_for(other_dispatcher)
    assert client.get(reverse("trucks:trip", args=[trip.pk])).status_code == 404
    assert trip.reference not in client.get("/").content.decode()


def test_the_consignee_sees_the_pass_but_cannot_change_the_trip(
    dispatcher: Any, checkpoint: Any
) -> None:
    receiver = consignee_user()
    company = receiver.company_membership.company
    trip = make_trip(dispatcher, checkpoint, consignee=company.pk)
    client = client_for(receiver)
    body = client.get(reverse("trucks:trip", args=[trip.pk])).content.decode()
    assert trip.reference in body
    assert reverse("trucks:trip-cancel", args=[trip.pk]) not in body
    assert client.post(reverse("trucks:trip-cancel", args=[trip.pk])).status_code == 403
    trip.refresh_from_db()
    assert trip.status == TripStatus.REGISTERED


def test_a_member_of_the_company_without_the_dispatcher_role_cannot_change_the_trip(
    company: Any, dispatcher: Any, checkpoint: Any
) -> None:
    """Membership alone is no role: the member finds no trip (404); one whose role is consignee
    sees the trip bound for the company, without the owner's forms, and may not cancel it (403)."""
    Company.objects.filter(pk=company.pk).update(is_consignee=True)
    trip = make_trip(dispatcher, checkpoint, consignee=company.pk)
    member = UserFactory()
    CompanyMember.objects.create(user=member, company=company)
    cancel = reverse("trucks:trip-cancel", args=[trip.pk])
    assert client_for(member).get(reverse("trucks:trip", args=[trip.pk])).status_code == 404
    assert client_for(member).post(cancel).status_code == 404

    client = client_for(consignee_user(company))
    body = client.get(reverse("trucks:trip", args=[trip.pk])).content.decode()
    assert trip.reference in body and cancel not in body
    assert client.post(cancel).status_code == 403
    plate = reverse("trucks:trip-plate", args=[trip.pk])
    assert client.post(plate, {"plate-plate_rest": "豫H99999"}).status_code == 403
    trip.refresh_from_db()
    assert trip.status == TripStatus.REGISTERED


def test_the_pass_page_explains_a_yellow_code(dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint, test_result="none", test_sampled_at=None)
    body = client_for(dispatcher).get(reverse("trucks:trip", args=[trip.pk])).content.decode()
    assert 'class="banner banner-yellow"' in body
    assert "No negative test result has been given." in body
    assert "Upload a negative test result" in body
    assert "rule version 1" in body


def test_the_signed_link_opens_the_pass_without_signing_in(trip: Trip) -> None:
    pass_ = Pass.objects.get(trip=trip)
    response = Client(headers={"accept-language": "en"}).get(links.pass_link_path(pass_))
    assert response.status_code == 200
    body = response.content.decode()
    assert trip.reference in body and "<svg" in body
    assert response["Referrer-Policy"] == "strict-origin"
    assert reverse("trucks:trip-cancel", args=[trip.pk]) not in body


def test_a_tampered_link_is_a_friendly_404(trip: Trip) -> None:
    path = links.pass_link_path(Pass.objects.get(trip=trip))
    token = path.split("/")[2]
    tampered = f"/p/{token[:-3]}{'abc' if token[-3:] != 'abc' else 'xyz'}/"
    response = Client(headers={"accept-language": "en"}).get(tampered)
    assert response.status_code == 404
    assert "new link" in response.content.decode()


def test_an_expired_link_is_a_404(trip: Trip) -> None:
    pass_ = Pass.objects.get(trip=trip)
    path = links.pass_link_path(pass_)
    with time_machine.travel(pass_.valid_until + links.GRACE + timedelta(minutes=1)):
        assert Client().get(path).status_code == 404


# ---------------------------------------------------------------------------------------------
# The owner's forms


def test_cancelling_asks_first_then_voids_the_pass(trip: Trip, dispatcher: Any) -> None:
    client = client_for(dispatcher)
    url = reverse("trucks:trip-cancel", args=[trip.pk])
    assert client.get(url).status_code == 200
    trip.refresh_from_db()
    assert trip.status == TripStatus.REGISTERED
    response = client.post(url, follow=True)
    trip.refresh_from_db()
    assert trip.status == TripStatus.CANCELLED
    body = response.content.decode()
    assert "<svg" not in body and "void-stamp" in body and "VOID" in body


def test_cancelling_is_refused_to_other_companies(trip: Trip, other_dispatcher: Any) -> None:
    url = reverse("trucks:trip-cancel", args=[trip.pk])
    assert client_for(other_dispatcher).post(url).status_code == 404
    trip.refresh_from_db()
    assert trip.status == TripStatus.REGISTERED


def test_a_new_test_result_regrades_the_pass(trip: Trip, dispatcher: Any) -> None:
    response = client_for(dispatcher).post(
        reverse("trucks:trip-test-result", args=[trip.pk]),
        {"test-test_result": "positive", "test-test_sampled_at": local(-1)},
        follow=True,
    )
    assert Pass.objects.get(trip=trip, status=PassStatus.ACTIVE).colour == "red"
    body = response.content.decode()
    assert 'class="banner banner-red banner-refused"' in body
    assert "Red code" in body


def test_a_bad_test_result_keeps_the_input(trip: Trip, dispatcher: Any) -> None:
    response = client_for(dispatcher).post(
        reverse("trucks:trip-test-result", args=[trip.pk]),
        {"test-test_result": "negative", "test-test_sampled_at": local(5)},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "future" in errors_of(body, "id_test-test_sampled_at")


def test_the_test_result_form_is_refused_to_other_drivers(trip: Trip) -> None:
    response = client_for(driver_user()).post(
        reverse("trucks:trip-test-result", args=[trip.pk]),
        {"test-test_result": "positive", "test-test_sampled_at": local(-1)},
    )
    assert response.status_code == 404
    assert Pass.objects.get(trip=trip, status=PassStatus.ACTIVE).colour == "green"


def test_the_plate_is_corrected_before_the_window_opens(trip: Trip, dispatcher: Any) -> None:
    new_plate = valid_plate()
    response = client_for(dispatcher).post(
        reverse("trucks:trip-plate", args=[trip.pk]),
        {"plate-plate_prefix": new_plate[0], "plate-plate_rest": new_plate[1:]},
    )
    assert response.status_code == 302
    trip.refresh_from_db()
    assert trip.vehicle.plate == new_plate


def test_the_plate_is_locked_once_the_window_opens(trip: Trip, dispatcher: Any) -> None:
    pass_ = Pass.objects.get(trip=trip)
    client = client_for(dispatcher)
    with time_machine.travel(pass_.valid_from + timedelta(minutes=5)):
        page = client.get(reverse("trucks:trip", args=[trip.pk])).content.decode()
        assert "can no longer be corrected" in page
        response = client.post(
            reverse("trucks:trip-plate", args=[trip.pk]),
            {"plate-plate_prefix": "豫", "plate-plate_rest": "H99999"},
        )
    assert response.status_code == 409
    trip.refresh_from_db()
    assert trip.vehicle.plate != "豫H99999"


def test_the_plate_form_is_refused_to_other_companies(trip: Trip, other_dispatcher: Any) -> None:
    response = client_for(other_dispatcher).post(
        reverse("trucks:trip-plate", args=[trip.pk]),
        {"plate-plate_prefix": "豫", "plate-plate_rest": "H99998"},
    )
    assert response.status_code == 404


def test_a_bad_plate_is_shown_next_to_the_plate(trip: Trip, dispatcher: Any) -> None:
    response = client_for(dispatcher).post(
        reverse("trucks:trip-plate", args=[trip.pk]),
        {"plate-plate_prefix": "豫", "plate-plate_rest": "HI0000"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert errors_of(body, "id_plate-plate_rest")
    assert 'value="HI0000"' in body


# ---------------------------------------------------------------------------------------------
# Dispatcher pages


def test_a_dispatcher_adds_and_lists_vehicles(dispatcher: Any) -> None:
    client = client_for(dispatcher)
    plate = valid_plate()
    response = client.post(reverse("trucks:vehicles"), {"plate": plate, "description": "冷藏车"})
    assert response.status_code == 302
    body = client.get(reverse("trucks:vehicles")).content.decode()
    assert plate in body and "冷藏车" in body


def test_a_bad_plate_is_refused_inline(dispatcher: Any) -> None:
    response = client_for(dispatcher).post(reverse("trucks:vehicles"), {"plate": "XYZ"})
    assert response.status_code == 400
    assert errors_of(response.content.decode(), "id_plate")


def test_another_companys_plate_is_refused(dispatcher: Any, other_dispatcher: Any) -> None:
    plate = valid_plate()
    client_for(other_dispatcher).post(reverse("trucks:vehicles"), {"plate": plate})
    response = client_for(dispatcher).post(reverse("trucks:vehicles"), {"plate": plate})
    assert response.status_code == 409
    assert Vehicle.objects.get(plate=plate).company != dispatcher.company_membership.company


def test_dispatchers_see_their_own_companys_vehicles_only(
    dispatcher: Any, other_dispatcher: Any
) -> None:
    plate = valid_plate()
    client_for(dispatcher).post(reverse("trucks:vehicles"), {"plate": plate})
    assert (
        plate not in client_for(other_dispatcher).get(reverse("trucks:vehicles")).content.decode()
    )


def test_a_dispatcher_adds_a_driver_and_sees_the_id_number_masked(dispatcher: Any) -> None:
    client = client_for(dispatcher)
    id_number = valid_id_number()
    response = client.post(
        reverse("trucks:drivers"),
        {"name": "赵师傅", "id_number": id_number, "phone": valid_phone()},
    )
    assert response.status_code == 302
    body = client.get(reverse("trucks:drivers")).content.decode()
    assert "赵师傅" in body
    assert id_number not in body and f"{id_number[:4]}**********{id_number[-4:]}" in body


def test_a_bad_driver_id_number_is_refused_inline(dispatcher: Any) -> None:
    response = client_for(dispatcher).post(
        reverse("trucks:drivers"),
        {"name": "赵师傅", "id_number": "123", "phone": valid_phone()},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert errors_of(body, "id_id_number") and 'value="赵师傅"' in body


@pytest.mark.parametrize("url", ["trucks:vehicles", "trucks:drivers"])
def test_company_pages_are_for_dispatchers_only(url: str, driver: Any) -> None:
    assert client_for(driver).get(reverse(url)).status_code == 403
    assert client_for(consignee_user()).get(reverse(url)).status_code == 403
    assert Client().get(reverse(url)).status_code == 302


# ---------------------------------------------------------------------------------------------
# Language


def test_pages_speak_chinese_by_default() -> None:
    body = Client().get("/accounts/login/").content.decode()
    assert '<html lang="zh-hans">' in body


def test_english_on_request(driver: Any) -> None:
    client = Client(headers={"accept-language": "en"})
    assert '<html lang="en">' in client.get("/accounts/login/").content.decode()

    client = client_for(driver)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="en">' in client.get("/").content.decode()
