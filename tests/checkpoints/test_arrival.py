"""POST /api/v1/trips/{id}/arrival/: the consignee confirms that a truck inside the city arrived
(docs/architecture.md, "Closing the loop"); nobody else may."""

from __future__ import annotations

from typing import Any

import pytest

from tests.checkpoints.scanning import open_trip, scan, token_of
from tests.factories import (
    UserFactory,
    consignee_user,
    driver_user,
    make_trip,
    staff_user,
)
from trucks.models import Trip

pytestmark = pytest.mark.django_db


def url(trip: Trip) -> str:
    return f"/api/v1/trips/{trip.pk}/arrival/"


@pytest.fixture
def consignee() -> Any:
    return consignee_user()


@pytest.fixture
def inside(api_client: Any, dispatcher: Any, checkpoint: Any, consignee: Any) -> Trip:
    """A trip bound for the consignee whose truck entered at the checkpoint."""
    trip = open_trip(dispatcher, checkpoint, consignee=consignee.company_membership.company_id)
    api_client.force_authenticate(staff_user(checkpoint))
    assert scan(api_client, checkpoint, token_of(trip)).json()["reason"] == "ok"
    api_client.force_authenticate(None)
    return trip


def status_of(trip: Trip) -> str:
    trip.refresh_from_db()
    return trip.status


def test_the_consignee_confirms_arrival(api_client: Any, consignee: Any, inside: Trip) -> None:
    api_client.force_authenticate(consignee)

    r = api_client.post(url(inside))

    assert r.status_code == 200, r.json()
    data = r.json()
    assert set(data) == {
        "id",
        "reference",
        "status",
        "plate",
        "driver",
        "persons_expected",
        "entry_checkpoint",
        "multi_entry",
        "cargo_category",
    }
    assert (data["id"], data["reference"], data["status"]) == (
        inside.pk,
        inside.reference,
        "arrived",
    )
    assert data["driver"]["id_number"].count("*") == 10
    assert status_of(inside) == "arrived"


def test_confirming_twice_is_harmless(api_client: Any, consignee: Any, inside: Trip) -> None:
    api_client.force_authenticate(consignee)

    api_client.post(url(inside))
    r = api_client.post(url(inside))

    assert r.status_code == 200
    assert r.json()["status"] == "arrived"


def test_a_truck_that_has_not_entered_cannot_arrive(
    api_client: Any, dispatcher: Any, checkpoint: Any, consignee: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint, consignee=consignee.company_membership.company_id)
    api_client.force_authenticate(consignee)

    r = api_client.post(url(trip), HTTP_ACCEPT_LANGUAGE="en")

    assert r.status_code == 409
    assert r.json()["code"] == "not_inside"
    assert r.json()["detail"] == "Only a truck that entered the city can be confirmed as arrived."
    assert status_of(trip) == "registered"


def test_a_truck_that_left_cannot_arrive(
    api_client: Any, checkpoint: Any, consignee: Any, inside: Trip
) -> None:
    api_client.force_authenticate(staff_user(checkpoint))
    scan(api_client, checkpoint, token_of(inside), "out")
    api_client.force_authenticate(consignee)

    r = api_client.post(url(inside))

    assert r.status_code == 409
    assert status_of(inside) == "exited"


def test_the_exit_scan_closes_an_arrived_trip(
    api_client: Any, checkpoint: Any, consignee: Any, inside: Trip
) -> None:
    api_client.force_authenticate(consignee)
    api_client.post(url(inside))
    api_client.force_authenticate(staff_user(checkpoint))

    r = scan(api_client, checkpoint, token_of(inside), "out")

    assert (r.json()["reason"], r.json()["warnings"]) == ("ok", [])
    assert status_of(inside) == "exited"


def test_another_consignee_is_refused(api_client: Any, inside: Trip) -> None:
    api_client.force_authenticate(consignee_user())

    r = api_client.post(url(inside))

    assert r.status_code == 404
    assert status_of(inside) == "inside"


def test_the_dispatcher_is_refused(api_client: Any, dispatcher: Any, inside: Trip) -> None:
    api_client.force_authenticate(dispatcher)

    r = api_client.post(url(inside))

    assert r.status_code == 403
    assert r.json()["code"] == "not_consignee"
    assert status_of(inside) == "inside"


def test_the_driver_is_refused(
    api_client: Any, company: Any, checkpoint: Any, consignee: Any
) -> None:
    driver = driver_user(company)
    trip = open_trip(
        driver, checkpoint, driver=None, consignee=consignee.company_membership.company_id
    )
    Trip.objects.filter(pk=trip.pk).update(status="inside")
    api_client.force_authenticate(driver)

    r = api_client.post(url(trip))

    assert r.status_code == 403
    assert status_of(trip) == "inside"


@pytest.mark.parametrize("role", ["official", "staff"])
def test_officials_and_staff_are_refused(api_client: Any, inside: Trip, role: str) -> None:
    api_client.force_authenticate(UserFactory(role=role))

    r = api_client.post(url(inside))

    assert r.status_code in (403, 404)
    assert status_of(inside) == "inside"


def test_anonymous_is_refused(api_client: Any, inside: Trip) -> None:
    r = api_client.post(url(inside))

    assert r.status_code == 401
    assert status_of(inside) == "inside"


def test_a_trip_without_a_consignee_cannot_be_confirmed(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    Trip.objects.filter(pk=trip.pk).update(status="inside")
    api_client.force_authenticate(consignee_user())

    r = api_client.post(url(trip))

    assert r.status_code == 404
    assert status_of(trip) == "inside"


def test_an_unknown_trip_is_absent(api_client: Any, consignee: Any) -> None:
    api_client.force_authenticate(consignee)

    assert api_client.post("/api/v1/trips/999999/arrival/").status_code == 404
