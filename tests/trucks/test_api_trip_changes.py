"""POST /api/v1/trips/{id}/cancel/, /test-result/ and /plate/: only the trip's own side changes
it."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from tests.factories import (
    CompanyFactory,
    UserFactory,
    at,
    consignee_user,
    driver_user,
    make_trip,
    staff_user,
    valid_plate,
)
from tests.factories import (
    dispatcher as make_dispatcher,
)
from trucks.models import Company, CompanyMember, Pass, PassStatus, Trip, TripStatus

pytestmark = pytest.mark.django_db


def url(trip: Trip, action: str) -> str:
    return f"/api/v1/trips/{trip.pk}/{action}/"


# ---------------------------------------------------------------------------------------------
# Cancel


def test_it_cancels_a_trip_and_revokes_its_pass(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)

    r = api_client.post(url(trip, "cancel"))

    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "cancelled"
    assert r.json()["pass"]["status"] == "revoked"
    assert Pass.objects.get(trip=trip).status == PassStatus.REVOKED
    trip.refresh_from_db()
    assert trip.status == TripStatus.CANCELLED


def test_cancelling_twice_is_harmless(api_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)

    api_client.post(url(trip, "cancel"))
    r = api_client.post(url(trip, "cancel"))

    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"


def test_it_refuses_to_cancel_a_truck_already_inside(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    Trip.objects.filter(pk=trip.pk).update(status=TripStatus.INSIDE)
    api_client.force_authenticate(dispatcher)

    r = api_client.post(url(trip, "cancel"))

    assert r.status_code == 409
    assert r.json()["code"] == "not_cancellable"


def test_a_driver_cancels_own_trip(api_client: Any, company: Any, checkpoint: Any) -> None:
    user = driver_user(company)
    trip = make_trip(user, checkpoint, driver=None)
    api_client.force_authenticate(user)

    assert api_client.post(url(trip, "cancel")).status_code == 200


@pytest.mark.parametrize("action", ["cancel", "test-result", "plate"])
def test_it_refuses_another_company(
    api_client: Any, dispatcher: Any, checkpoint: Any, action: str
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher_of_another_company())

    r = api_client.post(url(trip, action), _body(action), format="json")

    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    assert Trip.objects.get(pk=trip.pk).status == TripStatus.REGISTERED


@pytest.mark.parametrize("action", ["cancel", "test-result", "plate"])
def test_a_consignee_reads_but_cannot_change(
    api_client: Any, dispatcher: Any, checkpoint: Any, action: str
) -> None:
    receiver = CompanyFactory(is_consignee=True)
    trip = make_trip(dispatcher, checkpoint, consignee=receiver.pk)
    api_client.force_authenticate(consignee_user(receiver))

    assert api_client.get(f"/api/v1/trips/{trip.pk}/").status_code == 200
    r = api_client.post(url(trip, action), _body(action), format="json")

    assert r.status_code == 403
    assert r.json()["code"] == "not_allowed"
    assert Trip.objects.get(pk=trip.pk).status == TripStatus.REGISTERED


@pytest.mark.parametrize("action", ["cancel", "test-result", "plate"])
def test_an_official_reads_but_cannot_change(
    api_client: Any, dispatcher: Any, checkpoint: Any, action: str
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(UserFactory(role="official"))

    r = api_client.post(url(trip, action), _body(action), format="json")

    assert r.status_code == 403
    assert Trip.objects.get(pk=trip.pk).status == TripStatus.REGISTERED


@pytest.mark.parametrize("action", ["cancel", "test-result", "plate"])
def test_another_driver_of_the_company_gets_404(
    api_client: Any, company: Any, dispatcher: Any, checkpoint: Any, action: str
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(driver_user(company))

    assert api_client.post(url(trip, action), _body(action), format="json").status_code == 404


@pytest.mark.parametrize("action", ["cancel", "test-result", "plate"])
def test_a_member_of_the_company_without_the_dispatcher_role_cannot_change(
    api_client: Any, company: Any, dispatcher: Any, checkpoint: Any, action: str
) -> None:
    """Membership alone is no role: the member sees none of the company's trips (404); one
    whose role is consignee sees the trips bound for the company (docs/architecture.md, "Roles
    and access") and still changes none of them (403)."""
    Company.objects.filter(pk=company.pk).update(is_consignee=True)
    trip = make_trip(dispatcher, checkpoint, consignee=company.pk)
    before = (trip.status, trip.vehicle_id, trip.test_sampled_at)
    member = UserFactory()
    CompanyMember.objects.create(user=member, company=company)
    api_client.force_authenticate(member)
    assert api_client.post(url(trip, action), _body(action), format="json").status_code == 404

    api_client.force_authenticate(consignee_user(company))
    r = api_client.post(url(trip, action), _body(action), format="json")
    assert r.status_code == 403
    assert r.json()["code"] == "not_allowed"
    trip.refresh_from_db()
    assert (trip.status, trip.vehicle_id, trip.test_sampled_at) == before


@pytest.mark.parametrize("action", ["cancel", "test-result", "plate"])
def test_staff_get_404(api_client: Any, dispatcher: Any, checkpoint: Any, action: str) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(staff_user(checkpoint))

    assert api_client.post(url(trip, action), _body(action), format="json").status_code == 404


@pytest.mark.parametrize("action", ["cancel", "test-result", "plate"])
def test_it_requires_authentication(
    api_client: Any, dispatcher: Any, checkpoint: Any, action: str
) -> None:
    trip = make_trip(dispatcher, checkpoint)

    assert api_client.post(url(trip, action), _body(action), format="json").status_code == 401


def dispatcher_of_another_company() -> Any:
    return make_dispatcher(CompanyFactory())


def _body(action: str) -> dict[str, Any]:
    if action == "test-result":
        return {"test_result": "negative", "test_sampled_at": at(-1).isoformat()}
    if action == "plate":
        return {"vehicle_plate": valid_plate()}
    return {}


# ---------------------------------------------------------------------------------------------
# Test result


def test_a_fresh_negative_test_turns_the_pass_green_at_once(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint, test_result="none", test_sampled_at=None)
    pass_ = Pass.objects.get(trip=trip)
    assert pass_.colour == "yellow"
    api_client.force_authenticate(dispatcher)

    r = api_client.post(
        url(trip, "test-result"),
        {"test_result": "negative", "test_sampled_at": at(-1).isoformat()},
        format="json",
    )

    assert r.status_code == 200, r.json()
    assert r.json()["test_result"] == "negative"
    assert r.json()["pass"]["id"] == pass_.pk
    assert r.json()["pass"]["colour"] == "green"
    assert r.json()["pass"]["reasons"] == []
    pass_.refresh_from_db()
    assert pass_.colour == "green"


def test_a_positive_test_turns_the_pass_red(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)

    r = api_client.post(
        url(trip, "test-result"),
        {"test_result": "positive", "test_sampled_at": at(-1).isoformat()},
        format="json",
    )

    assert r.json()["pass"]["colour"] == "red"
    assert [reason["code"] for reason in r.json()["pass"]["reasons"]] == ["positive_test"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"test_result": "negative"}, "test_sampled_at"),
        ({"test_result": "maybe", "test_sampled_at": None}, "test_result"),
        ({"test_sampled_at": "2026-01-01T00:00:00Z"}, "test_result"),
        ({"test_result": "negative", "test_sampled_at": "soon"}, "test_sampled_at"),
        ({"test_result": ["negative"]}, "test_result"),
    ],
)
def test_it_refuses_a_bad_test_result(
    api_client: Any,
    dispatcher: Any,
    checkpoint: Any,
    body: dict[str, Any],
    field: str,
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)

    r = api_client.post(url(trip, "test-result"), body, format="json")

    assert r.status_code == 400
    assert field in r.json()["fields"]


def test_a_sample_in_the_future_is_refused(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)

    r = api_client.post(
        url(trip, "test-result"),
        {"test_result": "negative", "test_sampled_at": at(3).isoformat()},
        format="json",
    )

    assert r.status_code == 400
    assert "test_sampled_at" in r.json()["fields"]


# ---------------------------------------------------------------------------------------------
# Plate


def test_it_corrects_the_plate(api_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    pass_ = Pass.objects.get(trip=trip)
    api_client.force_authenticate(dispatcher)

    r = api_client.post(url(trip, "plate"), {"vehicle_plate": "豫h·a1234"}, format="json")

    assert r.status_code == 200, r.json()
    assert r.json()["vehicle_plate"] == "豫HA1234"
    assert r.json()["pass"]["id"] == pass_.pk
    assert Trip.objects.get(pk=trip.pk).vehicle.plate == "豫HA1234"


def test_it_refuses_a_bad_plate(api_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)

    r = api_client.post(url(trip, "plate"), {"vehicle_plate": "ABC"}, format="json")

    assert r.status_code == 400
    assert "vehicle_plate" in r.json()["fields"]


def test_the_plate_is_locked_once_the_window_opens(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    api_client.force_authenticate(dispatcher)

    with time_machine.travel(at(5)):
        r = api_client.post(url(trip, "plate"), {"vehicle_plate": valid_plate()}, format="json")

    assert r.status_code == 409
    assert r.json()["code"] == "plate_locked"
