"""A consignee sees the trucks bound for it, not the code that lets them through: no QR (PNG,
SVG, inline), no token, no no-account link, and phone numbers masked, by page and by API. The
trip's own company and officials still get them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import (
    CompanyFactory,
    UserFactory,
    consignee_user,
    make_trip,
    staff_user,
    valid_id_number,
    valid_phone,
)
from trucks import services
from trucks.models import Pass, Trip
from trucks.validators import mask_phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver() -> Any:
    return consignee_user(CompanyFactory(is_consignee=True))


@pytest.fixture
def trip(dispatcher: Any, checkpoint: Any, receiver: Any) -> Trip:
    return make_trip(
        dispatcher,
        checkpoint,
        consignee=receiver.company_membership.company.pk,
        co_riders=(services.PersonData("王小明", valid_id_number(), valid_phone()),),
    )


def _get(api_client: Any, user: Any, path: str) -> Any:
    api_client.force_authenticate(user)
    return api_client.get(path)


def test_the_consignee_gets_the_trip_without_its_code(
    api_client: Any, receiver: Any, trip: Trip
) -> None:
    body = _get(api_client, receiver, f"/api/v1/trips/{trip.pk}/").json()

    assert body["reference"] == trip.reference
    assert body["pass"]["colour"] == "green"
    assert [body["pass"][k] for k in ("token", "link", "qr_png", "qr_svg")] == [None] * 4
    assert body["driver"]["phone"] == mask_phone(trip.driver.phone)
    assert body["co_riders"][0]["phone"] == mask_phone(trip.co_riders.get().phone)
    text = str(body)
    assert trip.driver.phone not in text and "/p/" not in text


def test_the_consignees_list_holds_no_codes_either(
    api_client: Any, receiver: Any, trip: Trip
) -> None:
    [row] = _get(api_client, receiver, "/api/v1/trips/").json()["results"]

    assert row["pass"]["token"] is None and row["pass"]["link"] is None
    assert row["driver"]["phone"] == mask_phone(trip.driver.phone)


@pytest.mark.parametrize("who", ["dispatcher", "official"])
def test_the_company_and_officials_still_get_the_code(
    who: str, api_client: Any, dispatcher: Any, trip: Trip
) -> None:
    user = dispatcher if who == "dispatcher" else UserFactory(role="official")

    body = _get(api_client, user, f"/api/v1/trips/{trip.pk}/").json()

    assert body["pass"]["token"] == services.pass_token(Pass.objects.get(trip=trip))
    assert body["pass"]["link"].startswith("http") and "/p/" in body["pass"]["link"]
    assert body["pass"]["qr_png"].endswith("/qr.png")
    assert body["driver"]["phone"] == trip.driver.phone


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_the_consignee_cannot_fetch_the_qr(
    kind: str, api_client: Any, receiver: Any, dispatcher: Any, checkpoint: Any, trip: Trip
) -> None:
    pass_ = Pass.objects.get(trip=trip)
    path = f"/api/v1/passes/{pass_.pk}/qr.{kind}"

    assert _get(api_client, receiver, path).status_code == 404
    assert _get(api_client, dispatcher, path).status_code == 200
    assert _get(api_client, staff_user(checkpoint), path).status_code == 200


def test_the_consignees_trip_page_shows_no_code(receiver: Any, trip: Trip) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(receiver)

    body = client.get(f"/trips/{trip.pk}/").content.decode()

    assert trip.reference in body and "焦作市某物流园" in body
    assert "<svg" not in body and "/p/" not in body
    assert "shown to the driver and the company only" in body
    assert trip.driver.phone not in body


def test_the_companys_trip_page_shows_the_code(dispatcher: Any, trip: Trip) -> None:
    client = Client()
    client.force_login(dispatcher)

    body = client.get(f"/trips/{trip.pk}/").content.decode()

    assert "<svg" in body and "/p/" in body
