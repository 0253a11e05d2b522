"""GET/PATCH /api/v1/regions/, GET /api/v1/consignees/ and GET /api/v1/keys/."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from places.models import Region
from tests.factories import (
    CompanyFactory,
    UserFactory,
    consignee_user,
    driver_user,
    make_trip,
    staff_user,
)
from tests.lifecycle import run_after_commit
from trucks import passcode, services
from trucks.models import Pass

pytestmark = pytest.mark.django_db


def test_it_lists_the_cities_of_a_province(api_client: Any, dispatcher: Any) -> None:
    api_client.force_authenticate(dispatcher)

    r = api_client.get("/api/v1/regions/?parent=410000&limit=1000")

    assert r.status_code == 200
    results = r.json()["results"]
    assert r.json()["count"] == len(results) == Region.objects.filter(parent="410000").count()
    assert {c["level"] for c in results} == {"city"}
    jiaozuo = next(c for c in results if c["code"] == "410800")
    assert jiaozuo == {
        "code": "410800",
        "name": "焦作市",
        "full_name": "河南省焦作市",
        "level": "city",
        "parent": "410000",
        "risk_level": "low",
        "risk_changed_at": None,
    }


def test_it_caps_the_page_at_1000(api_client: Any, dispatcher: Any) -> None:
    api_client.force_authenticate(dispatcher)

    r = api_client.get("/api/v1/regions/?limit=5000")

    assert r.json()["count"] > 3000
    assert len(r.json()["results"]) == 1000


def test_it_filters_by_level_and_text(api_client: Any, dispatcher: Any) -> None:
    api_client.force_authenticate(dispatcher)

    provinces = api_client.get("/api/v1/regions/?level=province&limit=100").json()
    found = api_client.get("/api/v1/regions/?q=焦作").json()["results"]
    by_code = api_client.get("/api/v1/regions/?q=3204&level=county&limit=100").json()["results"]

    assert 30 <= provinces["count"] <= 40
    assert "410800" in {r["code"] for r in found}
    assert "320412" in {r["code"] for r in by_code}
    assert all(r["code"].startswith("3204") for r in by_code)


def test_it_refuses_an_unknown_level(api_client: Any, dispatcher: Any) -> None:
    api_client.force_authenticate(dispatcher)

    r = api_client.get("/api/v1/regions/?level=village")

    assert r.status_code == 400
    assert "level" in r.json()["fields"]


def test_it_shows_a_region(api_client: Any, dispatcher: Any) -> None:
    api_client.force_authenticate(dispatcher)

    r = api_client.get("/api/v1/regions/320412/")

    assert r.status_code == 200
    assert r.json()["full_name"] == "江苏省常州市武进区"
    assert r.json()["parent"] == "320400"


def test_an_unknown_region_is_404(api_client: Any, dispatcher: Any) -> None:
    api_client.force_authenticate(dispatcher)

    assert api_client.get("/api/v1/regions/999999/").status_code == 404
    assert api_client.get("/api/v1/regions/nope/").status_code == 404


def test_regions_require_authentication(api_client: Any) -> None:
    assert api_client.get("/api/v1/regions/").status_code == 401
    assert api_client.get("/api/v1/regions/410800/").status_code == 401


def test_an_official_sets_the_risk_level_and_passes_are_regraded(
    api_client: Any, dispatcher: Any, checkpoint: Any, django_capture_on_commit_callbacks: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint)  # from 320412, through 320400
    official = UserFactory(role="official")
    api_client.force_authenticate(official)

    # The regrade runs in a worker once the change commits; here, at the end of the block.
    with run_after_commit(django_capture_on_commit_callbacks):
        r = api_client.patch("/api/v1/regions/320400/", {"risk_level": "medium"}, format="json")

    assert r.status_code == 200, r.json()
    assert r.json()["risk_level"] == "medium"
    assert r.json()["risk_changed_at"] is not None
    region = Region.objects.get(pk="320400")
    assert region.risk_level == "medium"
    assert region.history.latest().history_user == official
    assert Pass.objects.get(trip=trip).colour == "yellow"


def test_it_refuses_an_unknown_risk_level(api_client: Any) -> None:
    api_client.force_authenticate(UserFactory(role="official"))

    r = api_client.patch("/api/v1/regions/320400/", {"risk_level": "extreme"}, format="json")

    assert r.status_code == 400
    assert "risk_level" in r.json()["fields"]
    assert Region.objects.get(pk="320400").risk_level == "low"


def test_setting_the_risk_of_an_unknown_region_is_404(api_client: Any) -> None:
    api_client.force_authenticate(UserFactory(role="official"))

    r = api_client.patch("/api/v1/regions/999999/", {"risk_level": "high"}, format="json")

    assert r.status_code == 404


@pytest.mark.parametrize("role", ["dispatcher", "driver", "consignee", "staff"])
def test_only_officials_set_risk_levels(
    api_client: Any, dispatcher: Any, checkpoint: Any, role: str
) -> None:
    users = {
        "dispatcher": lambda: dispatcher,
        "driver": driver_user,
        "consignee": consignee_user,
        "staff": lambda: staff_user(checkpoint),
    }
    api_client.force_authenticate(users[role]())

    r = api_client.patch("/api/v1/regions/320400/", {"risk_level": "high"}, format="json")

    assert r.status_code == 403
    assert r.json()["code"] == "not_allowed"
    assert Region.objects.get(pk="320400").risk_level == "low"


def test_it_lists_consignees(api_client: Any, dispatcher: Any) -> None:
    receiver = CompanyFactory(is_consignee=True, name="焦作物流园")
    CompanyFactory(is_consignee=False)
    api_client.force_authenticate(dispatcher)

    r = api_client.get("/api/v1/consignees/")

    assert r.status_code == 200
    assert r.json()["results"] == [{"id": receiver.pk, "name": "焦作物流园"}]


def test_consignees_require_authentication(api_client: Any) -> None:
    assert api_client.get("/api/v1/consignees/").status_code == 401


def test_it_publishes_the_verification_keys(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    token = services.pass_token(Pass.objects.get(trip=make_trip(dispatcher, checkpoint)))

    r = api_client.get("/api/v1/keys/", HTTP_AUTHORIZATION="Token stale")

    assert r.status_code == 200
    assert "base32" in r.json()["token_format"]
    [key] = r.json()["keys"]
    assert key["kid"] == str(passcode.current_key_id())
    assert (key["kty"], key["crv"], key["alg"], key["active"]) == ("OKP", "Ed25519", "EdDSA", True)
    # A device can check a token offline with the published key alone.
    raw = base64.b32decode(token + "===")
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(key["x"] + "="))
    public.verify(raw[9:73], b"TP1" + raw[:9])
    assert raw[0] == int(key["kid"])


def test_regions_are_filtered_by_risk_level(api_client: Any, dispatcher: Any) -> None:
    Region.objects.filter(code__in=["410800", "410802"]).update(risk_level="high")
    Region.objects.filter(code="410100").update(risk_level="medium")
    api_client.force_authenticate(dispatcher)

    high = api_client.get("/api/v1/regions/?risk_level=high&limit=1000").json()
    medium = api_client.get("/api/v1/regions/?risk_level=medium&parent=410000").json()

    assert sorted(r["code"] for r in high["results"]) == ["410800", "410802"]
    assert [r["code"] for r in medium["results"]] == ["410100"]
    bad = api_client.get("/api/v1/regions/?risk_level=extreme", HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400
    assert "risk_level" in bad.json()["fields"]
