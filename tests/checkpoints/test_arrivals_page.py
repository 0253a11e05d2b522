"""/checkpoints/arrivals/: the consignee confirms that a truck bound for it arrived, by its
button in the list or by scanning or typing its pass code, trip reference or plate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib import messages
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from checkpoints import services
from places.models import Checkpoint
from tests.factories import (
    CompanyFactory,
    UserFactory,
    at,
    consignee_user,
    dispatcher,
    driver_user,
    make_trip,
    staff_user,
    valid_plate,
)
from trucks.models import Company, Pass, Trip, TripStatus
from trucks.services import pass_token

pytestmark = pytest.mark.django_db

URL = "/checkpoints/arrivals/"


def confirm_url(trip: Trip) -> str:
    return f"/checkpoints/arrivals/{trip.pk}/confirm/"


def token_of(trip: Trip) -> str:
    return pass_token(Pass.objects.get(trip=trip))


class World:
    def __init__(self, checkpoint: Checkpoint) -> None:
        self.checkpoint = checkpoint
        self.carrier = dispatcher()
        self.staff = staff_user(checkpoint)
        self.ours = CompanyFactory(is_consignee=True)
        self.theirs = CompanyFactory(is_consignee=True)
        self.consignee = consignee_user(self.ours)
        self.other_consignee = consignee_user(self.theirs)

    def trip(self, consignee: Company, *, enter: bool = True, **overrides: Any) -> Trip:
        """A trip whose window is open now; ``enter`` scans it in at the checkpoint."""
        values: dict[str, Any] = {
            "consignee": consignee.pk,
            "planned_arrival": at(1),
            "planned_departure": at(10),
        }
        values.update(overrides)
        trip = make_trip(self.carrier, self.checkpoint, **values)
        if enter:
            outcome = services.scan_perform(
                staff=self.staff,
                checkpoint=self.checkpoint,
                data=services.ScanInput(
                    token=token_of(trip),
                    direction="in",
                    scanned_at=timezone.now() - timedelta(minutes=20),
                ),
            )
            assert outcome.scan.verdict == "admit"
        trip.refresh_from_db()
        return trip


@pytest.fixture
def world(checkpoint: Checkpoint) -> World:
    return World(checkpoint)


@pytest.fixture
def consignee_client(client: Client, world: World) -> Client:
    client.force_login(world.consignee)
    return client


def status_of(trip: Trip) -> str:
    trip.refresh_from_db()
    return trip.status


# ---------------------------------------------------------------------------------------------
# The list


def test_it_lists_only_the_consignees_inbound_trips_inside(
    consignee_client: Client, world: World
) -> None:
    inside = world.trip(world.ours)
    waiting = world.trip(world.ours, enter=False)
    theirs = world.trip(world.theirs)

    r = consignee_client.get(URL)

    assert r.status_code == 200
    assert [t.pk for t in r.context["inside"]] == [inside.pk]
    page = r.content.decode()
    assert inside.vehicle.plate in page and inside.reference in page
    assert inside.driver.name in page
    assert theirs.vehicle.plate not in page and waiting.vehicle.plate not in page
    assert f'action="{confirm_url(inside)}"' in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_it_shows_when_and_where_the_truck_entered(consignee_client: Client, world: World) -> None:
    trip = world.trip(world.ours)
    scan = trip.scans.get()

    r = consignee_client.get(URL)

    row = r.context["inside"][0]
    assert row.entered_at == scan.scanned_at
    assert row.entered_through == world.checkpoint.name
    local = timezone.localtime(scan.scanned_at)
    assert local.strftime("%m-%d %H:%M") in r.content.decode()


def test_a_refused_entry_is_not_an_entry_time(consignee_client: Client, world: World) -> None:
    trip = world.trip(world.ours)
    entered = trip.scans.get().scanned_at
    # The same code shown again for entry is refused (already inside): still the first time.
    services.scan_perform(
        staff=world.staff,
        checkpoint=world.checkpoint,
        data=services.ScanInput(token=token_of(trip), direction="in"),
    )

    r = consignee_client.get(URL)

    assert r.context["inside"][0].entered_at == entered


def test_the_page_costs_the_same_for_many_trucks(
    consignee_client: Client, world: World, django_assert_max_num_queries: Any
) -> None:
    world.trip(world.ours)
    consignee_client.get(URL)  # sessions, caches
    with django_assert_max_num_queries(12) as one:
        consignee_client.get(URL)
    for _ in range(4):
        world.trip(world.ours)
    with django_assert_max_num_queries(len(one.captured_queries)):
        r = consignee_client.get(URL)
    assert len(r.context["inside"]) == 5


# ---------------------------------------------------------------------------------------------
# Confirming


def test_the_button_confirms_arrival(consignee_client: Client, world: World) -> None:
    trip = world.trip(world.ours)

    r = consignee_client.post(confirm_url(trip))

    assert r.status_code == 302 and r["Location"] == URL
    assert status_of(trip) == TripStatus.ARRIVED
    page = consignee_client.get(URL)
    assert page.context["inside"] == []
    assert [t.pk for t in page.context["arrived"]] == [trip.pk]
    (message,) = page.context["messages"]
    assert message.level == messages.SUCCESS and trip.vehicle.plate in str(message)
    # Who confirmed is in the trip's history.
    record = trip.history.filter(status=TripStatus.ARRIVED).get()
    assert record.history_user == world.consignee


@pytest.mark.parametrize("how", ["token", "token with spaces", "reference", "plate", "plate tail"])
def test_a_scanned_or_typed_code_confirms_arrival(
    consignee_client: Client, world: World, how: str
) -> None:
    plate = valid_plate()
    trip = world.trip(world.ours, vehicle_plate=plate)
    world.trip(world.ours)  # another truck inside, not named
    code = {
        "token": token_of(trip),
        "token with spaces": f"  {token_of(trip).lower()}\n",
        "reference": f" {(trip.reference or '').lower()} ",
        "plate": f"{plate[:2]}·{plate[2:]}",
        "plate tail": plate[1:],
    }[how]

    r = consignee_client.post(URL, {"code": code})

    assert r.status_code == 302 and r["Location"] == URL
    assert status_of(trip) == TripStatus.ARRIVED
    assert Trip.objects.filter(status=TripStatus.ARRIVED).count() == 1


def test_confirming_twice_says_so_and_changes_nothing(
    consignee_client: Client, world: World
) -> None:
    trip = world.trip(world.ours)
    consignee_client.post(confirm_url(trip), follow=True)
    updated = Trip.objects.get(pk=trip.pk).updated_at

    r = consignee_client.post(URL, {"code": trip.vehicle.plate}, follow=True)

    assert r.status_code == 200
    (message,) = r.context["messages"]
    assert message.level == messages.INFO and trip.vehicle.plate in str(message)
    assert Trip.objects.get(pk=trip.pk).updated_at == updated


def test_a_truck_not_yet_inside_cannot_be_confirmed(consignee_client: Client, world: World) -> None:
    trip = world.trip(world.ours, enter=False)

    r = consignee_client.post(confirm_url(trip))

    assert r.status_code == 409
    assert r.context["error"]
    assert status_of(trip) == TripStatus.REGISTERED


# ---------------------------------------------------------------------------------------------
# Refusals


def test_another_consignees_trip_cannot_be_confirmed(
    consignee_client: Client, world: World
) -> None:
    theirs = world.trip(world.theirs)

    by_button = consignee_client.post(confirm_url(theirs))
    by_token = consignee_client.post(URL, {"code": token_of(theirs)})
    by_reference = consignee_client.post(URL, {"code": theirs.reference})
    by_plate = consignee_client.post(URL, {"code": theirs.vehicle.plate})

    assert by_button.status_code == 404
    assert by_token.status_code == by_reference.status_code == by_plate.status_code == 400
    assert status_of(theirs) == TripStatus.INSIDE
    assert theirs.vehicle.plate not in by_button.content.decode()


def test_an_unknown_code_is_refused_and_kept_in_the_field(
    consignee_client: Client, world: World
) -> None:
    trip = world.trip(world.ours)

    r = consignee_client.post(URL, {"code": "豫H9Z9Z9"})

    assert r.status_code == 400
    assert r.context["code_error"]
    page = r.content.decode()
    assert 'value="豫H9Z9Z9"' in page and 'aria-invalid="true"' in page
    # The list is still there to pick from.
    assert [t.pk for t in r.context["inside"]] == [trip.pk]
    assert status_of(trip) == TripStatus.INSIDE


def test_a_forged_token_is_refused(consignee_client: Client, world: World) -> None:
    trip = world.trip(world.ours)
    token = token_of(trip)
    forged = token[:-10] + ("A" if token[-10] != "A" else "B") + token[-9:]

    r = consignee_client.post(URL, {"code": forged})

    assert r.status_code == 400
    assert r.context["code"] == forged
    assert status_of(trip) == TripStatus.INSIDE


@pytest.mark.parametrize(
    "code",
    [
        "   ",
        "\x00",
        "豫",
        "%",
        "____",
        "' OR 1=1 --",
        "A" * 117,
        "7" * 117,
        "豫H\x0012345",
        "x" * 5000,
    ],
)
def test_odd_input_is_refused_not_an_error(
    consignee_client: Client, world: World, code: str
) -> None:
    trip = world.trip(world.ours)
    assert consignee_client.post(URL, {"code": code}).status_code == 400
    assert status_of(trip) == TripStatus.INSIDE


def test_a_plate_tail_naming_two_trucks_is_refused(consignee_client: Client, world: World) -> None:
    a = world.trip(world.ours, vehicle_plate="豫H12398")
    b = world.trip(world.ours, vehicle_plate="豫A12398")

    r = consignee_client.post(URL, {"code": "12398"})

    assert r.status_code == 400
    assert status_of(a) == status_of(b) == TripStatus.INSIDE


def test_confirming_needs_a_post(consignee_client: Client, world: World) -> None:
    trip = world.trip(world.ours)
    assert consignee_client.get(confirm_url(trip)).status_code == 405
    assert status_of(trip) == TripStatus.INSIDE


def _other(role: str, world: World) -> User:
    if role == "dispatcher":
        return world.carrier
    if role == "driver":
        return driver_user()
    if role == "staff":
        return world.staff
    return UserFactory(role=role)


@pytest.mark.parametrize("role", ["dispatcher", "driver", "staff", "official"])
def test_others_are_refused(client: Client, world: World, role: str) -> None:
    trip = world.trip(world.ours)
    client.force_login(_other(role, world))

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"code": trip.vehicle.plate}).status_code == 403
    assert client.post(confirm_url(trip)).status_code == 403
    assert status_of(trip) == TripStatus.INSIDE


def test_a_consignee_without_a_company_is_refused(client: Client, world: World) -> None:
    client.force_login(UserFactory(role="consignee"))
    assert client.get(URL).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, world: World) -> None:
    trip = world.trip(world.ours)
    for response in (client.get(URL), client.post(confirm_url(trip))):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert status_of(trip) == TripStatus.INSIDE


def test_the_form_posts_with_csrf(world: World) -> None:
    trip = world.trip(world.ours)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.consignee)

    assert client.post(confirm_url(trip)).status_code == 403
    assert status_of(trip) == TripStatus.INSIDE


# ---------------------------------------------------------------------------------------------
# How each truck came in: colour, override, landing test


def test_the_list_shows_colour_override_and_landing_test(world: World) -> None:
    """A red-code truck a supervisor let in reads as such; a yellow one shows its landing test."""
    supervisor = staff_user()
    supervisor.checkpoint_assignments.create(checkpoint=world.checkpoint, supervisor=True)
    red = world.trip(world.ours, enter=False, test_result="positive", test_sampled_at=at(-3))
    refused = services.scan_perform(
        staff=supervisor,
        checkpoint=world.checkpoint,
        data=services.ScanInput(token=token_of(red), direction="in"),
    )
    assert refused.scan.reason == "red_code"
    services.scan_override(
        supervisor=supervisor,
        checkpoint=world.checkpoint,
        scan_pk=refused.scan.pk,
        reason="运送抗疫医疗物资，经指挥部批准放行",
    )
    yellow = world.trip(world.ours, enter=False, test_result="none", test_sampled_at=None)
    tested = services.scan_perform(
        staff=world.staff,
        checkpoint=world.checkpoint,
        data=services.ScanInput(token=token_of(yellow), direction="in"),
    )
    services.landing_test_sample(
        staff=world.staff, checkpoint=world.checkpoint, scan_pk=tested.scan.pk
    )
    green = world.trip(world.ours)
    client = Client()
    client.force_login(world.consignee)

    body = client.get(URL).content.decode()

    def item(trip: Trip) -> str:
        start = body.index(f'data-trip="{trip.pk}"')
        return body[start : body.index("</li>", start)]

    assert 'data-colour="red"' in item(red) and "红码" in item(red)
    assert "带班负责人" in item(red) and "经指挥部批准放行" in item(red) and "红码" in item(red)
    assert 'data-colour="yellow"' in item(yellow) and "已采样" in item(yellow)
    assert 'data-colour="green"' in item(green) and 'data-slot="override"' not in item(green)


def test_an_arrived_truck_keeps_its_override_note(world: World) -> None:
    supervisor = staff_user()
    supervisor.checkpoint_assignments.create(checkpoint=world.checkpoint, supervisor=True)
    red = world.trip(world.ours, enter=False, test_result="positive", test_sampled_at=at(-3))
    refused = services.scan_perform(
        staff=supervisor,
        checkpoint=world.checkpoint,
        data=services.ScanInput(token=token_of(red), direction="in"),
    )
    services.scan_override(
        supervisor=supervisor,
        checkpoint=world.checkpoint,
        scan_pk=refused.scan.pk,
        reason="保供放行",
    )
    services.trip_confirm_arrival(actor=world.consignee, trip=red)
    client = Client(headers={"accept-language": "en"})
    client.force_login(world.consignee)

    body = client.get(URL).content.decode()
    start = body.index(f'data-trip="{red.pk}"')
    arrived = body[start : body.index("</li>", start)]

    assert "arrival-done" in body[body.rindex("<li", 0, start) : start]
    assert "Red code" in arrived and "override" in arrived and "保供放行" in arrived
