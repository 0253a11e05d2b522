"""GET /api/v1/passes/{id}/qr.png and qr.svg: the QR image of the pass token, to its owners and
to checkpoint staff."""

from __future__ import annotations

import io
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from rest_framework.authtoken.models import Token

from tests.factories import (
    CompanyFactory,
    UserFactory,
    consignee_user,
    driver_user,
    make_trip,
    staff_user,
)
from tests.factories import (
    dispatcher as make_dispatcher,
)
from trucks import services
from trucks.models import Pass

pytestmark = pytest.mark.django_db


def _pass(dispatcher: Any, checkpoint: Any, **overrides: Any) -> Pass:
    return Pass.objects.get(trip=make_trip(dispatcher, checkpoint, **overrides))


def test_it_returns_a_png_that_decodes_to_the_token(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    pass_ = _pass(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)

    r = api_client.get(f"/api/v1/passes/{pass_.pk}/qr.png")

    assert r.status_code == 200
    assert r["Content-Type"] == "image/png"
    assert r["Cache-Control"] == "private, max-age=3600"
    assert r["ETag"].startswith('"')
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(r.content)))
    assert barcode.text == services.pass_token(pass_)


def test_it_returns_an_svg(api_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    pass_ = _pass(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)

    r = api_client.get(f"/api/v1/passes/{pass_.pk}/qr.svg")

    assert r.status_code == 200
    assert r["Content-Type"] == "image/svg+xml"
    assert r["Cache-Control"] == "private, max-age=3600"
    assert b"<svg" in r.content
    assert r["ETag"] != api_client.get(f"/api/v1/passes/{pass_.pk}/qr.png")["ETag"]


def test_the_urls_in_the_trip_answer_lead_to_the_images(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)
    shown = api_client.get(f"/api/v1/trips/{trip.pk}/").json()["pass"]

    png = api_client.get(shown["qr_png"])

    assert png["Content-Type"] == "image/png"
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert barcode.text == shown["token"]
    assert api_client.get(shown["qr_svg"])["Content-Type"] == "image/svg+xml"


def test_it_answers_304_to_a_client_holding_the_image(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    pass_ = _pass(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)
    first = api_client.get(f"/api/v1/passes/{pass_.pk}/qr.png")

    again = api_client.get(f"/api/v1/passes/{pass_.pk}/qr.png", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


def test_it_answers_an_image_whatever_the_client_accepts(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    pass_ = _pass(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)

    r = api_client.get(f"/api/v1/passes/{pass_.pk}/qr.png", HTTP_ACCEPT="image/png")

    assert r.status_code == 200
    assert r["Content-Type"] == "image/png"


def test_it_works_with_a_token(api_client: Any, company: Any, checkpoint: Any) -> None:
    user = driver_user(company)
    pass_ = _pass(user, checkpoint, driver=None)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    assert api_client.get(f"/api/v1/passes/{pass_.pk}/qr.svg").status_code == 200


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_it_refuses_another_company(
    api_client: Any, dispatcher: Any, checkpoint: Any, kind: str
) -> None:
    pass_ = _pass(dispatcher, checkpoint)
    api_client.force_authenticate(make_dispatcher(CompanyFactory()))

    r = api_client.get(f"/api/v1/passes/{pass_.pk}/qr.{kind}", HTTP_ACCEPT="image/png")

    assert r.status_code == 404
    assert r["Content-Type"] == "application/json"
    assert r.json()["code"] == "not_found"


def test_checkpoint_staff_and_officials_may_fetch_it(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    pass_ = _pass(dispatcher, checkpoint)

    for user in (staff_user(checkpoint), UserFactory(role="official")):
        api_client.force_authenticate(user)
        assert api_client.get(f"/api/v1/passes/{pass_.pk}/qr.png").status_code == 200


def test_a_consignee_of_another_trip_gets_404(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    pass_ = _pass(dispatcher, checkpoint)
    api_client.force_authenticate(consignee_user())

    assert api_client.get(f"/api/v1/passes/{pass_.pk}/qr.png").status_code == 404


def test_it_requires_authentication(api_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    pass_ = _pass(dispatcher, checkpoint)

    r = api_client.get(f"/api/v1/passes/{pass_.pk}/qr.png")

    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"


def test_an_unknown_pass_is_404(api_client: Any, dispatcher: Any) -> None:
    api_client.force_authenticate(dispatcher)

    assert api_client.get("/api/v1/passes/999999/qr.png").status_code == 404
