"""The closed loop (issue 4 item 5): a truck inside with no arrival confirmed within the policy's
hours raises an overdue alert and tells its company and consignee; a truck arrived but not out
after its planned departure and the grace raises another. Once per trip and cause."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checkpoints import lifecycle
from checkpoints import services as checkpoint_services
from checkpoints import tasks as lifecycle_tasks
from checkpoints.models import Alert, ScanEvent
from handover.models import WebhookDelivery, WebhookSubscription
from notifications import messages
from notifications import sending as notify
from notifications.models import Notification
from tests.checkpoints.scanning import open_trip, scan, token_of
from tests.factories import CheckpointFactory, CompanyFactory, consignee_user, staff_user
from tests.factories import dispatcher as make_dispatcher
from tests.lifecycle import bulk_passes, setup_committed, task_names
from tests.notifications.notifying import sms_outbox_fixture  # noqa: F401
from trucks.models import Trip, TripStatus

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
HOURS = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def carrier() -> Any:
    return CompanyFactory(contact_email="dispatch@carrier.example.cn")


@pytest.fixture
def park() -> Any:
    return CompanyFactory(is_consignee=True, name="焦作物流园")


@pytest.fixture
def subscription(db: None) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        name="Relay", url="https://relay.example.cn/", secret="s", event_types=["trip.overdue"]
    )


@pytest.fixture
def entered(api_client: Any, carrier: Any, park: Any, checkpoint: Any, subscription: Any) -> Trip:
    """A truck bound for the park that entered the city at NOW."""
    trip = open_trip(make_dispatcher(carrier), checkpoint, consignee=park.pk)
    api_client.force_authenticate(staff_user(checkpoint))
    assert scan(api_client, checkpoint, token_of(trip)).json()["reason"] == "ok"
    api_client.force_authenticate(None)
    return Trip.objects.get(pk=trip.pk)


def alerts(kind: str) -> list[Alert]:
    return list(Alert.objects.filter(kind=kind))


def sent(template: str) -> list[tuple[str, str]]:
    return sorted(
        Notification.objects.filter(template=template).values_list("channel", "recipient")
    )


def overdue_events() -> list[dict[str, Any]]:
    return [d.payload for d in WebhookDelivery.objects.filter(event="trip.overdue")]


# --- arrival not confirmed --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_truck_not_confirmed_in_time_is_overdue_once(
    entered: Trip, carrier: Any, park: Any, checkpoint: Any
) -> None:
    due = NOW + 6 * HOURS  # policy v1: overdue_arrival_hours = 6

    assert lifecycle.trips_flag_overdue(now=due - SECOND) == lifecycle.Overdue(0, 0)
    assert lifecycle.trips_flag_overdue(now=due) == lifecycle.Overdue(arrival=1, exit=0)
    assert lifecycle.trips_flag_overdue(now=due + HOURS) == lifecycle.Overdue(0, 0)

    [alert] = alerts("overdue_arrival")
    scan_event = ScanEvent.objects.get(trip=entered)
    assert (alert.key, alert.trip_id, alert.checkpoint_id, alert.scan_id) == (
        f"overdue_arrival:{entered.pk}",
        entered.pk,
        checkpoint.pk,
        scan_event.pk,
    )
    assert alert.detail == {"entered_at": NOW.isoformat(), "hours": 6}
    # The company (phone and e-mail) and the consignee (phone) are told.
    assert sent("overdue_arrival") == sorted(
        [
            ("sms", carrier.contact_phone),
            ("email", "dispatch@carrier.example.cn"),
            ("sms", park.contact_phone),
        ]
    )
    row = Notification.objects.filter(template="overdue_arrival").first()
    assert row is not None and row.context == {
        "reference": entered.reference,
        "plate": entered.vehicle.plate,
        "entered_at": NOW.isoformat(),
        "consignee": "焦作物流园",
    }
    assert "焦作物流园" in messages.render(row.template, row.context, "en").sms
    # And the systems that follow the truck hear of it.
    [event] = overdue_events()
    assert (event["event"], event["cause"], event["trip"]["reference"]) == (
        "trip.overdue",
        "arrival",
        entered.reference,
    )


@pytest.mark.django_db
def test_each_company_is_told_in_its_own_language(
    entered: Trip, carrier: Any, park: Any, sms_outbox: list[Any]
) -> None:
    """Companies have a language of their own, as drivers do: the carrier reads English, the
    consignee the default Chinese, through the real sender."""
    carrier.language = "en"
    carrier.save(update_fields=["language"])

    lifecycle.trips_flag_overdue(now=NOW + 6 * HOURS)
    notify.notifications_send_due()

    texts = {m.phone: m.text for m in sms_outbox}
    assert texts[carrier.contact_phone].startswith("Trip ")
    assert entered.reference in texts[carrier.contact_phone]
    assert "行程" in texts[park.contact_phone]
    languages = dict(
        Notification.objects.filter(template="overdue_arrival", channel="sms").values_list(
            "recipient", "language"
        )
    )
    assert languages == {carrier.contact_phone: "en", park.contact_phone: "zh-hans"}


@pytest.mark.django_db
def test_a_confirmed_arrival_is_not_overdue(entered: Trip, park: Any) -> None:
    with time_machine.travel(NOW + 5 * HOURS, tick=False):
        checkpoint_services.trip_confirm_arrival(actor=consignee_user(park), trip=entered)
    assert lifecycle.trips_flag_overdue(now=NOW + 7 * HOURS) == lifecycle.Overdue(0, 0)
    assert Alert.objects.filter(kind__startswith="overdue").count() == 0


@pytest.mark.django_db
def test_the_hours_come_from_the_policy(entered: Trip) -> None:
    from trucks import services

    services.policy_publish(actor=None, overdue_arrival_hours=2)
    assert lifecycle.trips_flag_overdue(now=NOW + 2 * HOURS - SECOND).arrival == 0
    assert lifecycle.trips_flag_overdue(now=NOW + 2 * HOURS).arrival == 1


# --- not out after the planned departure ---------------------------------------------------


@pytest.mark.django_db
def test_an_arrived_truck_still_in_after_its_departure_is_overdue_once(
    entered: Trip, carrier: Any, park: Any
) -> None:
    with time_machine.travel(NOW + HOURS, tick=False):
        checkpoint_services.trip_confirm_arrival(actor=consignee_user(park), trip=entered)
    due = entered.planned_departure + 2 * HOURS  # exit_grace_hours

    assert lifecycle.trips_flag_overdue(now=due - SECOND) == lifecycle.Overdue(0, 0)
    assert lifecycle.trips_flag_overdue(now=due) == lifecycle.Overdue(arrival=0, exit=1)
    assert lifecycle.trips_flag_overdue(now=due + HOURS) == lifecycle.Overdue(0, 0)

    [alert] = alerts("overdue_exit")
    assert alert.key == f"overdue_exit:{entered.pk}"
    # Only the company is told: the consignee has had the truck.
    assert sent("overdue_exit") == sorted(
        [("sms", carrier.contact_phone), ("email", "dispatch@carrier.example.cn")]
    )
    row = Notification.objects.filter(template="overdue_exit").first()
    assert row is not None
    assert row.context["planned_departure"] == entered.planned_departure.isoformat()
    assert messages.render(row.template, row.context, "zh-hans").sms
    [event] = overdue_events()
    assert event["cause"] == "exit"


@pytest.mark.django_db
def test_an_exited_truck_is_never_overdue(entered: Trip, api_client: Any, checkpoint: Any) -> None:
    api_client.force_authenticate(staff_user(checkpoint))
    assert scan(api_client, checkpoint, token_of(entered), "out").json()["reason"] == "ok"
    assert Trip.objects.get(pk=entered.pk).status == TripStatus.EXITED
    assert lifecycle.trips_flag_overdue(now=NOW + 100 * HOURS) == lifecycle.Overdue(0, 0)


@pytest.mark.django_db
def test_a_truck_with_no_consignee_is_watched_until_it_leaves(
    api_client: Any, carrier: Any, checkpoint: Any
) -> None:
    trip = open_trip(make_dispatcher(carrier), checkpoint)
    api_client.force_authenticate(staff_user(checkpoint))
    assert scan(api_client, checkpoint, token_of(trip)).json()["reason"] == "ok"
    trip.refresh_from_db()

    # Nobody can confirm its arrival, so that rule does not apply...
    assert lifecycle.trips_flag_overdue(now=NOW + 20 * HOURS) == lifecycle.Overdue(0, 0)
    # ...but it must be out by its planned departure and the grace.
    overdue = lifecycle.trips_flag_overdue(now=trip.planned_departure + 2 * HOURS)
    assert overdue == lifecycle.Overdue(arrival=0, exit=1)
    assert sent("overdue_exit") == sorted(
        [("sms", carrier.contact_phone), ("email", "dispatch@carrier.example.cn")]
    )


# --- once, and in bulk -----------------------------------------------------------------------


@pytest.mark.django_db
def test_an_alert_raised_by_another_run_is_not_announced_again(
    entered: Trip, monkeypatch: Any
) -> None:
    build = lifecycle._arrival_alert

    def raced(trip: Any, policy: Any) -> dict[str, Any]:
        # Another worker raises it after our candidates were read, before our insert.
        Alert.objects.create(kind="overdue_arrival", key=f"overdue_arrival:{trip.pk}", trip=trip)
        return build(trip, policy)

    monkeypatch.setattr(lifecycle, "_arrival_alert", raced)

    assert lifecycle.trips_flag_overdue(now=NOW + 7 * HOURS).arrival == 0
    assert Alert.objects.count() == 1
    assert sent("overdue_arrival") == [] and overdue_events() == []


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 60])
def test_overdue_trucks_cost_the_same_statements_however_many(
    checkpoint: Any, carrier: Any, park: Any, subscription: Any, count: int
) -> None:
    bulk_passes(
        count,
        checkpoint=checkpoint,
        company=carrier,
        consignee=park,
        status=TripStatus.INSIDE,
        entered_at=NOW - 7 * HOURS,
        valid_from=NOW - 8 * HOURS,
        valid_until=NOW + 20 * HOURS,
    )
    with CaptureQueriesContext(connection) as queries:
        assert lifecycle.trips_flag_overdue(now=NOW).arrival == count
    assert Alert.objects.count() == count
    assert Notification.objects.count() == 3 * count
    assert WebhookDelivery.objects.count() == count
    # The policy; per rule: the candidates, and for the arrival rule the alerts' insert, the
    # ones created, the notifications' and the deliveries' inserts (subscriptions are read
    # once), the savepoints, and the query that finds no more candidates: 15. (SQLite caps a
    # statement's parameters, so there the 180 notifications take three INSERTs.)
    assert len(queries.captured_queries) <= 17


@pytest.mark.django_db
def test_the_task_flags_and_kicks_the_sender(
    entered: Trip, django_capture_on_commit_callbacks: Any
) -> None:
    setup_committed()
    with time_machine.travel(NOW + 6 * HOURS, tick=False):
        with django_capture_on_commit_callbacks() as callbacks:
            assert lifecycle_tasks.flag_overdue_trips() == 1
        assert lifecycle_tasks.flag_overdue_trips() == 0
    assert "notifications.tasks.send_notifications" in task_names(callbacks)


# --- two workers at once (PostgreSQL) ---------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Concurrent transactions are what is tested; SQLite runs them one after the other.",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_raise_and_announce_once(regions: None) -> None:
    checkpoint = CheckpointFactory()
    carrier, park = CompanyFactory(), CompanyFactory(is_consignee=True)
    WebhookSubscription.objects.create(
        name="Relay", url="https://relay.example.cn/", secret="s", event_types=["trip.overdue"]
    )
    bulk_passes(
        20,
        checkpoint=checkpoint,
        company=carrier,
        consignee=park,
        status=TripStatus.INSIDE,
        entered_at=NOW - 7 * HOURS,
        valid_from=NOW - 8 * HOURS,
        valid_until=NOW + 20 * HOURS,
    )
    start = threading.Barrier(2)
    results: list[lifecycle.Overdue] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=10)
            results.append(lifecycle.trips_flag_overdue(now=NOW))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sum(r.arrival for r in results) == 20
    assert Alert.objects.count() == 20
    assert Notification.objects.count() == 2 * 20
    assert WebhookDelivery.objects.count() == 20
