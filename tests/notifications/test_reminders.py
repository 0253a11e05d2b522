"""Reminders (issue 4 item 3): before the pass window opens, when the test result will be stale
at the planned arrival, and before the pass expires while the truck is inside; each once, at
the policy's lead time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from notifications import messages, reminders, tasks
from notifications.models import Notification
from tests.factories import make_trip
from tests.lifecycle import setup_committed, task_names
from trucks import services
from trucks.links import pass_link_url
from trucks.models import Driver, Pass, Trip, TripStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def ahead(dispatcher: Any, checkpoint: Any, hours: float = 48, **overrides: Any) -> Trip:
    """A trip registered now for an arrival ``hours`` ahead, with a test sampled 10 hours ago."""
    values: dict[str, Any] = {
        "planned_arrival": NOW + timedelta(hours=hours),
        "planned_departure": NOW + timedelta(hours=hours + 12),
    }
    values.update(overrides)
    return make_trip(dispatcher, checkpoint, **values)


def rows(template: str) -> list[Notification]:
    return list(Notification.objects.filter(template=template).order_by("channel"))


def renders(row: Notification) -> str:
    """The row's SMS text in English; it renders in Chinese too (``notifications.messages``)."""
    assert messages.render(row.template, row.context, "zh-hans").sms
    return messages.render(row.template, row.context, "en").sms


# --- before the window opens ------------------------------------------------------------------


def test_the_window_reminder_goes_out_once_at_its_lead_time(
    dispatcher: Any, checkpoint: Any
) -> None:
    trip = ahead(dispatcher, checkpoint)
    pass_ = Pass.objects.get(trip=trip)
    due = pass_.valid_from - timedelta(hours=12)  # policy v1: remind_window_hours = 12

    assert reminders.reminders_queue(now=due - SECOND).window == 0
    assert reminders.reminders_queue(now=due).window == 1
    assert reminders.reminders_queue(now=due + timedelta(minutes=5)).window == 0

    [row] = rows("remind_window")
    assert (row.channel, row.recipient, row.language, row.trip_id) == (
        "sms",
        trip.driver.phone,
        "zh-hans",
        trip.pk,
    )
    assert row.context == {
        "reference": trip.reference,
        "plate": trip.vehicle.plate,
        "valid_from": pass_.valid_from.isoformat(),
        "checkpoint": checkpoint.name,
        "link": pass_link_url(pass_),
    }
    assert trip.reference in renders(row)


def test_a_driver_with_an_email_address_gets_both(dispatcher: Any, checkpoint: Any) -> None:
    trip = ahead(dispatcher, checkpoint)
    Driver.objects.filter(pk=trip.driver_id).update(email="li@example.cn", language="en")
    due = Pass.objects.get(trip=trip).valid_from - timedelta(hours=12)

    reminders.reminders_queue(now=due)

    assert [(r.channel, r.recipient, r.language) for r in rows("remind_window")] == [
        ("email", "li@example.cn", "en"),
        ("sms", trip.driver.phone, "en"),
    ]


def test_no_window_reminder_once_the_window_is_open_or_the_trip_is_over(
    dispatcher: Any, checkpoint: Any
) -> None:
    trip = ahead(dispatcher, checkpoint)
    cancelled = ahead(dispatcher, checkpoint)
    services.trip_cancel(actor=dispatcher, trip=cancelled)

    # Missed (a worker down through the lead time): too late once the window is open.
    assert reminders.reminders_queue(now=Pass.objects.get(trip=trip).valid_from).window == 0
    # In time: the cancelled trip's driver hears nothing.
    assert reminders.reminders_queue(now=NOW + timedelta(hours=40)).window == 1
    assert [r.trip_id for r in rows("remind_window")] == [trip.pk]


def test_a_trip_registered_inside_the_lead_time_is_not_reminded(
    dispatcher: Any, checkpoint: Any
) -> None:
    # Registered 6 hours ahead: the driver was just sent the pass with the same details.
    ahead(dispatcher, checkpoint, hours=6)
    for minutes in range(0, 240, 5):
        reminders.reminders_queue(now=NOW + timedelta(minutes=minutes))
    assert rows("remind_window") == []


def test_the_lead_time_comes_from_the_policy(dispatcher: Any, checkpoint: Any) -> None:
    services.policy_publish(actor=None, remind_window_hours=30)
    trip = ahead(dispatcher, checkpoint)
    due = Pass.objects.get(trip=trip).valid_from - timedelta(hours=30)

    assert reminders.reminders_queue(now=due - SECOND).window == 0
    assert reminders.reminders_queue(now=due).window == 1


def test_the_task_run_twice_reminds_once_and_kicks_the_sender(
    dispatcher: Any, checkpoint: Any, django_capture_on_commit_callbacks: Any
) -> None:
    trip = ahead(dispatcher, checkpoint, test_sampled_at=NOW)  # fresh: no test reminder
    setup_committed()
    with time_machine.travel(Pass.objects.get(trip=trip).valid_from - timedelta(hours=11)):
        with django_capture_on_commit_callbacks() as callbacks:
            assert tasks.send_reminders() == 1
        assert tasks.send_reminders() == 0
    assert len(rows("remind_window")) == 1
    assert "notifications.tasks.send_notifications" in task_names(callbacks)


# --- a stale test ------------------------------------------------------------------------------


def test_a_test_stale_at_arrival_is_reminded_with_what_to_do(
    dispatcher: Any, checkpoint: Any
) -> None:
    trip = ahead(dispatcher, checkpoint)  # sampled 58 hours before arrival; the policy says 48
    pass_ = Pass.objects.get(trip=trip)
    assert pass_.reasons == [{"code": "test_stale"}]
    due = trip.planned_arrival - timedelta(hours=24)  # remind_test_hours

    assert reminders.reminders_queue(now=due - SECOND).test == 0
    assert reminders.reminders_queue(now=due).test == 1
    assert reminders.reminders_queue(now=due + timedelta(hours=1)).test == 0

    [row] = rows("remind_test")
    assert row.context == {
        "reference": trip.reference,
        "plate": trip.vehicle.plate,
        "arrival": trip.planned_arrival.isoformat(),
        "hours": 48,
        "link": pass_link_url(pass_),
    }
    text = renders(row)
    assert "Upload a new negative result" in text and pass_link_url(pass_) in text


@pytest.mark.parametrize(
    ("result", "sampled_hours_before_arrival", "reminded"),
    [
        ("negative", 48, False),  # exactly the policy's age: still valid at arrival
        ("negative", 48.01, True),
        ("negative", 10, False),
        ("none", None, True),
        ("positive", 60, False),  # red, not stale: the pass says what to do
    ],
)
def test_which_tests_count_as_stale(
    dispatcher: Any,
    checkpoint: Any,
    result: str,
    sampled_hours_before_arrival: float | None,
    reminded: bool,
) -> None:
    arrival = NOW + timedelta(hours=30)
    sampled = (
        None
        if sampled_hours_before_arrival is None
        else arrival - timedelta(hours=sampled_hours_before_arrival)
    )
    with time_machine.travel(NOW - timedelta(days=3), tick=False):
        make_trip(
            dispatcher,
            checkpoint,
            planned_arrival=arrival,
            planned_departure=arrival + timedelta(hours=5),
            test_result=result,
            test_sampled_at=sampled and min(sampled, NOW - timedelta(days=3)),
        )
    trip = Trip.objects.get()
    Trip.objects.filter(pk=trip.pk).update(test_sampled_at=sampled)

    assert reminders.reminders_queue(now=NOW + timedelta(hours=6)).test == int(reminded)


def test_an_uploaded_result_stops_the_reminder(dispatcher: Any, checkpoint: Any) -> None:
    trip = ahead(dispatcher, checkpoint)
    with time_machine.travel(NOW + timedelta(hours=20), tick=False):
        services.trip_set_test_result(
            actor=dispatcher, trip=trip, result="negative", sampled_at=NOW + timedelta(hours=20)
        )
    assert reminders.reminders_queue(now=trip.planned_arrival - timedelta(hours=24)).test == 0


# --- a pass about to expire while the truck is inside -----------------------------------------


def inside(trip: Trip, status: str = TripStatus.INSIDE) -> None:
    Trip.objects.filter(pk=trip.pk).update(status=status, entered_at=trip.planned_arrival)


@pytest.mark.parametrize("status", [TripStatus.INSIDE, TripStatus.ARRIVED])
def test_a_truck_inside_is_reminded_before_its_pass_expires(
    dispatcher: Any, checkpoint: Any, status: str
) -> None:
    trip = make_trip(dispatcher, checkpoint)
    inside(trip, status)
    pass_ = Pass.objects.get(trip=trip)
    due = pass_.valid_until - timedelta(hours=2)  # remind_expiry_hours

    assert reminders.reminders_queue(now=due - SECOND).expiry == 0
    assert reminders.reminders_queue(now=due).expiry == 1
    assert reminders.reminders_queue(now=due + timedelta(hours=1)).expiry == 0

    [row] = rows("remind_expiry")
    assert row.context["valid_until"] == pass_.valid_until.isoformat()
    assert "expires" in renders(row)


def test_no_expiry_reminder_for_trucks_not_inside(dispatcher: Any, checkpoint: Any) -> None:
    registered = make_trip(dispatcher, checkpoint)
    exited = make_trip(dispatcher, checkpoint)
    inside(exited, TripStatus.EXITED)
    due = Pass.objects.get(trip=registered).valid_until - timedelta(hours=1)

    assert reminders.reminders_queue(now=due).expiry == 0
    assert rows("remind_expiry") == []


def test_the_three_selections_are_a_few_queries_whatever_the_count(
    dispatcher: Any, checkpoint: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(6):
        ahead(dispatcher, checkpoint)
    due = Pass.objects.order_by("valid_from").first().valid_from - timedelta(hours=12)  # type: ignore[union-attr]
    # Per kind: one SELECT and one INSERT, and the SELECT that finds no more; the policy; the
    # pass links are signed without the database.
    with django_assert_max_num_queries(10):
        assert reminders.reminders_queue(now=due).window == 6
