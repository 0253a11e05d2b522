"""The "Change driver" form on the trip page (``trucks:trip-driver``): dispatchers only, until the
window opens; errors on the form with 400; the changes listed on the trip page."""

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
    CompanyFactory,
    UserFactory,
    at,
    consignee_user,
    driver_user,
    make_trip,
    valid_id_number,
    valid_phone,
)
from tests.factories import dispatcher as make_dispatcher
from trucks.forms.common import DATETIME_LOCAL
from trucks.models import Driver, Pass, PassStatus, Trip, TripChange
from trucks.validators import mask_id_number

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def page(client: Client, trip: Trip) -> str:
    return client.get(reverse("trucks:trip", args=[trip.pk])).content.decode()


def post(client: Client, trip: Trip, **fields: Any) -> Any:
    data = {
        "driver-test_result": "negative",
        "driver-test_sampled_at": timezone.localtime(at(-2)).strftime(DATETIME_LOCAL),
        **{f"driver-{k}": v for k, v in fields.items()},
    }
    return client.post(reverse("trucks:trip-driver", args=[trip.pk]), data)


def errors_of(body: str, field_id: str) -> list[str]:
    match = re.search(rf'<ul class="field-errors" id="{field_id}_error">(.*?)</ul>', body, re.S)
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


@pytest.fixture
def trip(dispatcher: Any, checkpoint: Any) -> Trip:
    return make_trip(dispatcher, checkpoint)


def test_the_dispatcher_chooses_one_of_the_companys_drivers(
    trip: Trip, dispatcher: Any, company: Any
) -> None:
    new = Driver.objects.create(
        company=company, name="赵师傅", id_number=valid_id_number(), phone=valid_phone()
    )
    client = client_for(dispatcher)
    body = page(client, trip)
    assert "Change driver" in body
    assert f'<option value="{new.pk}">赵师傅 · {mask_id_number(new.id_number)}</option>' in body
    # The trip's own driver is not offered.
    assert f'<option value="{trip.driver_id}">' not in body

    response = post(client, trip, driver_id=new.pk)

    assert response.status_code == 302
    trip.refresh_from_db()
    assert trip.driver == new
    after = client.get(response["Location"]).content.decode()
    assert "赵师傅 is now the driver. A new pass was issued" in after
    assert 'data-change="driver"' in after
    assert f"赵师傅 {mask_id_number(new.id_number)}" in after
    assert new.id_number not in after.replace(mask_id_number(new.id_number), "")


def test_the_dispatcher_types_a_new_driver(trip: Trip, dispatcher: Any, company: Any) -> None:
    id_number = valid_id_number()

    response = post(
        client_for(dispatcher), trip, name="钱师傅", id_number=id_number, phone=valid_phone()
    )

    assert response.status_code == 302
    assert Trip.objects.get(pk=trip.pk).driver.id_number == id_number
    assert Driver.objects.filter(company=company, id_number=id_number).exists()


def test_faults_are_shown_on_the_form_with_400(trip: Trip, dispatcher: Any) -> None:
    response = post(
        client_for(dispatcher),
        trip,
        name="钱师傅",
        id_number="410802198506120001",
        phone="123",
        test_result="negative",
        test_sampled_at="",
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert errors_of(body, "id_driver-id_number")
    assert errors_of(body, "id_driver-phone")
    assert errors_of(body, "id_driver-test_sampled_at") == ["Enter when the test sample was taken."]
    assert 'value="钱师傅"' in body  # the input is kept
    assert '<details class="tool" open id="driver">' in body
    assert not TripChange.objects.exists()


def test_no_driver_given_is_said_on_the_name(trip: Trip, dispatcher: Any) -> None:
    response = post(client_for(dispatcher), trip)

    assert response.status_code == 400
    assert errors_of(response.content.decode(), "id_driver-name") == [
        "Enter the driver&#x27;s name, ID number and phone."
    ]


def test_the_form_is_locked_once_the_window_opens(trip: Trip, dispatcher: Any) -> None:
    pass_ = Pass.objects.get(trip=trip)
    client = client_for(dispatcher)
    with time_machine.travel(pass_.valid_from + timedelta(minutes=5)):
        assert "the driver can no longer be changed" in page(client, trip)
        response = post(
            client, trip, name="钱师傅", id_number=valid_id_number(), phone=valid_phone()
        )

    assert response.status_code == 409
    assert "The driver can only be changed before the pass window opens." in (
        response.content.decode()
    )
    assert Pass.objects.get(trip=trip).status == PassStatus.ACTIVE


def test_a_driver_sees_no_form_and_is_refused(company: Any, checkpoint: Any) -> None:
    user = driver_user(company)
    trip = make_trip(user, checkpoint, driver=None)
    client = client_for(user)

    assert "Change driver" not in page(client, trip)
    response = post(client, trip, name="钱师傅", id_number=valid_id_number(), phone=valid_phone())

    assert response.status_code == 403
    assert Trip.objects.get(pk=trip.pk).driver == user.driver_profile


def test_other_companies_consignees_and_officials_are_refused(
    dispatcher: Any, checkpoint: Any
) -> None:
    receiver = CompanyFactory(is_consignee=True)
    trip = make_trip(dispatcher, checkpoint, consignee=receiver.pk)
    person = {"name": "钱师傅", "id_number": valid_id_number(), "phone": valid_phone()}

    assert post(client_for(make_dispatcher(CompanyFactory())), trip, **person).status_code == 404
    for user in (consignee_user(receiver), UserFactory(role="official")):
        client = client_for(user)
        assert "Change driver" not in page(client, trip)
        assert post(client, trip, **person).status_code == 403
    anonymous = post(Client(), trip, **person)
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    assert not TripChange.objects.exists()


def test_officials_see_the_changes_on_the_trip_page(trip: Trip, dispatcher: Any) -> None:
    client = client_for(dispatcher)
    client.post(
        reverse("trucks:trip-plate", args=[trip.pk]),
        {"plate-plate_prefix": "豫", "plate-plate_rest": "HA1234"},
    )

    body = page(client_for(UserFactory(role="official")), trip)

    assert 'data-change="plate"' in body
    assert "Plate corrected" in body and "豫HA1234" in body
