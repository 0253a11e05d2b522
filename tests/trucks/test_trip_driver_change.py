"""POST /api/v1/trips/{id}/driver/ (``trucks.services.trip_change_driver``): a dispatcher gives a
trip another driver until its window opens; a new pass is graded for the new driver's test, the
old pass (its QR and signed link) stops working, the change is audited and both drivers are
told."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import Client

from checkpoints import services as checkpoint_services
from notifications.models import Notification
from tests.factories import (
    CompanyFactory,
    UserFactory,
    at,
    consignee_user,
    driver_user,
    make_trip,
    staff_user,
    valid_id_number,
    valid_phone,
)
from tests.factories import dispatcher as make_dispatcher
from trucks import links, services
from trucks.models import Driver, Pass, PassStatus, Trip, TripChange, TripStatus
from trucks.services import PersonData
from trucks.validators import mask_id_number

pytestmark = pytest.mark.django_db


def url(trip: Trip) -> str:
    return f"/api/v1/trips/{trip.pk}/driver/"


def negative(**extra: Any) -> dict[str, Any]:
    return {"test_result": "negative", "test_sampled_at": at(-2).isoformat(), **extra}


def company_driver(company: Any, name: str = "赵师傅", **extra: Any) -> Driver:
    return Driver.objects.create(
        company=company, name=name, id_number=valid_id_number(), phone=valid_phone(), **extra
    )


def typed(name: str = "钱师傅") -> dict[str, str]:
    return {"name": name, "id_number": valid_id_number(), "phone": valid_phone()}


@pytest.fixture(autouse=True)
def _in_english(api_client: Any) -> None:
    api_client.credentials(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def trip(dispatcher: Any, checkpoint: Any) -> Trip:
    return make_trip(dispatcher, checkpoint)


# ---------------------------------------------------------------------------------------------
# What a change does


def test_it_gives_the_trip_one_of_the_companys_drivers_with_a_new_pass(
    api_client: Any, dispatcher: Any, company: Any, trip: Trip
) -> None:
    old_pass = Pass.objects.get(trip=trip)
    previous = trip.driver
    new = company_driver(company, language="en")
    api_client.force_authenticate(dispatcher)

    r = api_client.post(url(trip), negative(driver_id=new.pk), format="json")

    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["driver"]["name"] == "赵师傅"
    assert body["driver"]["id_number"] == mask_id_number(new.id_number)
    assert body["pass"]["id"] != old_pass.pk
    assert body["pass"]["status"] == "active"
    old_pass.refresh_from_db()
    assert (old_pass.status, old_pass.revoked_reason) == (PassStatus.REVOKED, "driver changed")
    trip.refresh_from_db()
    assert trip.driver_id == new.pk
    assert Pass.objects.filter(trip=trip, status=PassStatus.ACTIVE).count() == 1
    change = TripChange.objects.get(trip=trip)
    assert change.kind == TripChange.Kind.DRIVER
    assert change.actor == dispatcher
    assert change.before == {"name": previous.name, "id_number": mask_id_number(previous.id_number)}
    assert change.after == {"name": "赵师傅", "id_number": mask_id_number(new.id_number)}
    # Never the full ID number in the audit.
    assert previous.id_number not in str(change.before)
    assert new.id_number not in str(change.after)


def test_both_drivers_are_told_each_in_their_language(
    api_client: Any, dispatcher: Any, company: Any, trip: Trip
) -> None:
    previous = trip.driver
    new = company_driver(company, language="en", email="zhao@example.cn")
    api_client.force_authenticate(dispatcher)

    api_client.post(url(trip), negative(driver_id=new.pk), format="json")

    new_pass = Pass.objects.get(trip=trip, status=PassStatus.ACTIVE)
    told = {
        (n.template, n.channel, n.recipient, n.language)
        for n in Notification.objects.filter(template__startswith="driver_")
    }
    assert told == {
        ("driver_assigned", "sms", new.phone, "en"),
        ("driver_assigned", "email", "zhao@example.cn", "en"),
        ("driver_released", "sms", previous.phone, "zh-hans"),
    }
    assigned = Notification.objects.get(template="driver_assigned", channel="sms")
    assert assigned.context["link"] == links.pass_link_url(new_pass)
    assert assigned.dedupe_key == f"driver_assigned:{new_pass.pk}:sms"
    released = Notification.objects.get(template="driver_released")
    assert "link" not in released.context
    assert released.context["plate"] == trip.vehicle.plate
    assert released.context["reference"] == trip.reference


def test_a_driver_typed_is_added_to_the_companys_records(
    api_client: Any, dispatcher: Any, company: Any, trip: Trip
) -> None:
    person = typed()
    api_client.force_authenticate(dispatcher)

    r = api_client.post(url(trip), negative(driver=person), format="json")

    assert r.status_code == 200, r.json()
    added = Driver.objects.get(company=company, id_number=person["id_number"])
    assert Trip.objects.get(pk=trip.pk).driver == added


def test_a_driver_typed_who_is_on_the_records_is_found_there(
    api_client: Any, dispatcher: Any, company: Any, trip: Trip
) -> None:
    known = company_driver(company)
    api_client.force_authenticate(dispatcher)
    person = {"name": "赵大师傅", "id_number": known.id_number, "phone": known.phone}

    r = api_client.post(url(trip), negative(driver=person), format="json")

    assert r.status_code == 200, r.json()
    assert Trip.objects.get(pk=trip.pk).driver_id == known.pk
    assert Driver.objects.filter(company=company, id_number=known.id_number).count() == 1


def test_the_new_pass_is_graded_for_the_new_drivers_test(
    api_client: Any, dispatcher: Any, company: Any, trip: Trip
) -> None:
    assert Pass.objects.get(trip=trip).colour == "green"
    api_client.force_authenticate(dispatcher)

    r = api_client.post(
        url(trip),
        {
            "driver_id": company_driver(company).pk,
            "test_result": "positive",
            "test_sampled_at": at(-1).isoformat(),
        },
        format="json",
    )

    assert r.status_code == 200, r.json()
    assert r.json()["pass"]["colour"] == "red"
    assert r.json()["test_result"] == "positive"


def test_the_old_drivers_code_is_refused_and_the_new_one_admitted(
    api_client: Any, dispatcher: Any, company: Any, checkpoint: Any, trip: Trip
) -> None:
    old_token = services.pass_token(Pass.objects.get(trip=trip))
    api_client.force_authenticate(dispatcher)
    api_client.post(url(trip), negative(driver_id=company_driver(company).pk), format="json")
    new_token = services.pass_token(Pass.objects.get(trip=trip, status=PassStatus.ACTIVE))
    staff = staff_user(checkpoint)

    with time_machine.travel(at(6)):
        refused = checkpoint_services.scan_perform(
            staff=staff,
            checkpoint=checkpoint,
            data=checkpoint_services.ScanInput(token=old_token, direction="in"),
        )
        admitted = checkpoint_services.scan_perform(
            staff=staff,
            checkpoint=checkpoint,
            data=checkpoint_services.ScanInput(token=new_token, direction="in"),
        )

    assert (refused.scan.verdict, refused.scan.reason) == ("refuse", "revoked")
    assert (admitted.scan.verdict, admitted.scan.reason) == ("admit", "ok")


def test_the_old_drivers_link_shows_their_pass_revoked_and_nothing_of_the_new_driver(
    api_client: Any, dispatcher: Any, company: Any, trip: Trip
) -> None:
    old_pass = Pass.objects.get(trip=trip)
    # A link from before a regrade that reissued the pass is the old driver's too.
    earlier = services.pass_issue(trip=trip)
    api_client.force_authenticate(dispatcher)
    new = company_driver(company, name="孙新师傅")
    api_client.post(url(trip), negative(driver_id=new.pk), format="json")
    new_pass = Pass.objects.get(trip=trip, status=PassStatus.ACTIVE)

    for stale in (old_pass, earlier):
        page = Client(headers={"accept-language": "en"}).get(links.pass_link_path(stale))
        html = page.content.decode()
        assert page.status_code == 200
        assert "data-unusable" in html
        assert "The trip was given to another driver; this pass is no longer valid." in html
        assert "孙新师傅" not in html
        assert "<svg" not in html
        assert links.pass_link_path(new_pass) not in html

    page = Client().get(links.pass_link_path(new_pass))
    html = page.content.decode()
    assert "孙新师傅" in html
    assert "<svg" in html


def test_the_new_driver_with_an_account_sees_the_trip_and_the_old_one_no_longer(
    api_client: Any, dispatcher: Any, company: Any, checkpoint: Any
) -> None:
    old_user, new_user = driver_user(company), driver_user(company)
    trip = make_trip(dispatcher, checkpoint, driver_id=old_user.driver_profile.pk, driver=None)
    api_client.force_authenticate(dispatcher)

    api_client.post(url(trip), negative(driver_id=new_user.driver_profile.pk), format="json")

    api_client.force_authenticate(new_user)
    assert api_client.get(f"/api/v1/trips/{trip.pk}/").status_code == 200
    api_client.force_authenticate(old_user)
    assert api_client.get(f"/api/v1/trips/{trip.pk}/").status_code == 404


def test_a_plate_correction_is_recorded_with_the_changes(
    api_client: Any, dispatcher: Any, trip: Trip
) -> None:
    before = trip.vehicle.plate
    api_client.force_authenticate(dispatcher)

    api_client.post(f"/api/v1/trips/{trip.pk}/plate/", {"vehicle_plate": "豫HA1234"}, format="json")
    api_client.post(f"/api/v1/trips/{trip.pk}/plate/", {"vehicle_plate": "豫HA1234"}, format="json")

    change = TripChange.objects.get(trip=trip)
    assert (change.kind, change.before, change.after) == (
        "plate",
        {"plate": before},
        {"plate": "豫HA1234"},
    )
    assert change.actor == dispatcher


# ---------------------------------------------------------------------------------------------
# Refusals: bad input


def fields_of(r: Any) -> dict[str, Any]:
    assert r.status_code == 400, r.json()
    assert r.json()["code"] == "validation_error"
    return dict(r.json()["fields"])


def test_another_companys_driver_is_none_of_ours(
    api_client: Any, dispatcher: Any, trip: Trip
) -> None:
    stranger = company_driver(CompanyFactory())
    api_client.force_authenticate(dispatcher)

    fields = fields_of(api_client.post(url(trip), negative(driver_id=stranger.pk), format="json"))

    assert fields == {"driver_id": ["Your company has no driver with this id."]}
    assert Trip.objects.get(pk=trip.pk).driver_id == trip.driver_id


def test_the_same_driver_is_refused(api_client: Any, dispatcher: Any, trip: Trip) -> None:
    api_client.force_authenticate(dispatcher)
    same = {"name": "李师傅", "id_number": trip.driver.id_number, "phone": trip.driver.phone}

    by_id = fields_of(api_client.post(url(trip), negative(driver_id=trip.driver_id), format="json"))
    by_typing = fields_of(api_client.post(url(trip), negative(driver=same), format="json"))

    assert by_id == {"driver_id": ["This person is already the trip's driver."]}
    assert by_typing == {"driver": {"id_number": ["This person is already the trip's driver."]}}
    assert Pass.objects.filter(trip=trip).count() == 1


def test_a_co_rider_cannot_become_the_driver(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    rider = PersonData("周师傅", valid_id_number(), valid_phone())
    trip = make_trip(dispatcher, checkpoint, co_riders=[rider])
    api_client.force_authenticate(dispatcher)
    person = {"name": rider.name, "id_number": rider.id_number, "phone": rider.phone}

    fields = fields_of(api_client.post(url(trip), negative(driver=person), format="json"))

    assert fields == {
        "driver": {
            "id_number": ["This person rides on the trip as a co-rider and cannot also drive it."]
        }
    }


def test_a_driver_typed_is_checked_as_registration_checks_one(
    api_client: Any, dispatcher: Any, trip: Trip, trip_payload: Any
) -> None:
    bad = {"name": " ", "id_number": "410802198506120001", "phone": "12345"}
    api_client.force_authenticate(dispatcher)

    fields = fields_of(api_client.post(url(trip), negative(driver=bad), format="json"))
    registration = api_client.post("/api/v1/trips/", trip_payload(driver=bad), format="json")

    assert set(fields["driver"]) == {"name", "id_number", "phone"}
    assert fields["driver"] == registration.json()["fields"]["driver"]


def test_no_driver_or_both_are_refused(
    api_client: Any, dispatcher: Any, company: Any, trip: Trip
) -> None:
    api_client.force_authenticate(dispatcher)

    none = fields_of(api_client.post(url(trip), negative(), format="json"))
    both = fields_of(
        api_client.post(
            url(trip), negative(driver_id=company_driver(company).pk, driver=typed()), format="json"
        )
    )

    assert none == {"driver": ["Enter the driver's name, ID number and phone."]}
    assert both == {"driver_id": ["Send the driver's details or the driver's id, not both."]}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"test_result": "maybe"}, "test_result", "Choose negative, positive or no result."),
        ({"test_result": "negative"}, "test_sampled_at", "Enter when the test sample was taken."),
        (
            {"test_result": "negative", "test_sampled_at": "2099-01-01T00:00:00+08:00"},
            "test_sampled_at",
            "The sample time cannot be in the future.",
        ),
    ],
)
def test_the_new_drivers_test_is_required_as_at_registration(
    api_client: Any,
    dispatcher: Any,
    company: Any,
    trip: Trip,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    api_client.force_authenticate(dispatcher)

    r = api_client.post(url(trip), {"driver_id": company_driver(company).pk, **body}, format="json")

    assert fields_of(r) == {field: [message]}


def test_a_malformed_body_names_its_fields(api_client: Any, dispatcher: Any, trip: Trip) -> None:
    api_client.force_authenticate(dispatcher)

    r = api_client.post(url(trip), {"driver_id": "x", "driver": "y"}, format="json")

    assert r.status_code == 400
    assert {"driver_id", "driver", "test_result"} <= set(r.json()["fields"])


# ---------------------------------------------------------------------------------------------
# Refusals: time and people


def test_the_driver_is_locked_once_the_window_opens(
    api_client: Any, dispatcher: Any, company: Any, trip: Trip
) -> None:
    new = company_driver(company)
    api_client.force_authenticate(dispatcher)

    with time_machine.travel(at(5)):
        r = api_client.post(url(trip), negative(driver_id=new.pk), format="json")

    assert r.status_code == 409
    assert r.json()["code"] == "driver_locked"
    assert r.json()["detail"] == "The driver can only be changed before the pass window opens."
    assert not TripChange.objects.exists()


@pytest.mark.parametrize("status", [TripStatus.INSIDE, TripStatus.CANCELLED])
def test_a_trip_started_or_cancelled_keeps_its_driver(
    api_client: Any, dispatcher: Any, company: Any, trip: Trip, status: str
) -> None:
    Trip.objects.filter(pk=trip.pk).update(status=status)
    api_client.force_authenticate(dispatcher)

    r = api_client.post(url(trip), negative(driver_id=company_driver(company).pk), format="json")

    assert r.status_code == 409
    assert r.json()["code"] == "driver_locked"


def test_a_revoked_pass_is_not_given_back_by_a_new_driver(
    api_client: Any, dispatcher: Any, company: Any, trip: Trip
) -> None:
    Pass.objects.filter(trip=trip).update(status=PassStatus.REVOKED, revoked_reason="查验异常")
    api_client.force_authenticate(dispatcher)

    r = api_client.post(url(trip), negative(driver_id=company_driver(company).pk), format="json")

    assert r.status_code == 409
    assert not Pass.objects.filter(trip=trip, status=PassStatus.ACTIVE).exists()


def test_a_driver_may_not_hand_their_own_trip_to_someone_else(
    api_client: Any, company: Any, checkpoint: Any
) -> None:
    user = driver_user(company)
    trip = make_trip(user, checkpoint, driver=None)
    api_client.force_authenticate(user)

    r = api_client.post(url(trip), negative(driver=typed()), format="json")

    assert r.status_code == 403
    assert r.json()["detail"] == "Only the company's dispatcher may change the driver of a trip."
    assert Trip.objects.get(pk=trip.pk).driver == user.driver_profile


def test_another_companys_trip_is_absent(api_client: Any, trip: Trip) -> None:
    api_client.force_authenticate(make_dispatcher(CompanyFactory()))

    r = api_client.post(url(trip), negative(driver=typed()), format="json")

    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_consignees_and_officials_see_the_trip_but_may_not_change_its_driver(
    api_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    receiver = CompanyFactory(is_consignee=True)
    trip = make_trip(dispatcher, checkpoint, consignee=receiver.pk)

    for user in (consignee_user(receiver), UserFactory(role="official")):
        api_client.force_authenticate(user)
        r = api_client.post(url(trip), negative(driver=typed()), format="json")
        assert r.status_code == 403
        assert r.json()["code"] == "not_allowed"
    assert not TripChange.objects.exists()


def test_staff_do_not_see_trips_and_anonymous_users_must_sign_in(
    api_client: Any, checkpoint: Any, trip: Trip
) -> None:
    assert api_client.post(url(trip), negative(driver=typed()), format="json").status_code == 401
    api_client.force_authenticate(staff_user(checkpoint))
    assert api_client.post(url(trip), negative(driver=typed()), format="json").status_code == 404
