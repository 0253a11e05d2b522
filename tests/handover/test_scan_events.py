"""Admitted entry and exit scans become hand-over events (handover.scan_events): once each, never
for refusals, after the scan has settled, including entries a supervisor let through later; and
two sweeps at once never queue one twice."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from checkpoints import services
from handover import events as webhook_events
from handover import receivers, tasks
from handover import scan_events as events
from handover.models import SweepCursor, WebhookDelivery, WebhookSubscription
from tests.checkpoints.scanning import altered, open_trip, scan, token_of
from tests.factories import CheckpointFactory, at, staff_user
from tests.factories import dispatcher as make_dispatcher
from trucks.models import Trip

pytestmark = pytest.mark.django_db

SETTLED = timedelta(seconds=11)  # past WEBHOOK_SCAN_SETTLE_SECONDS (10)


def subscribe(name: str = "常州", **values: Any) -> WebhookSubscription:
    fields: dict[str, Any] = {
        "name": name,
        "url": "https://hub.example.cn/hooks/",
        "secret": "s",
        "event_types": ["trip.entered", "trip.exited"],
    }
    fields.update(values)
    return WebhookSubscription.objects.create(**fields)


def sweep(later: timedelta = SETTLED) -> int:
    with time_machine.travel(timezone.now() + later, tick=False):
        return events.scan_events_emit()


def queued() -> list[tuple[str, str, int]]:
    """(subscription, event, scan id) of every queued delivery, in order."""
    return [
        (d.subscription.name, d.event, d.payload["scan"]["id"])
        for d in WebhookDelivery.objects.select_related("subscription").order_by("pk")
    ]


def cursor() -> int:
    return SweepCursor.objects.get(name="scan_events").last_id


@pytest.fixture
def supervisor(checkpoint: Any) -> Any:
    user = staff_user()
    user.checkpoint_assignments.create(checkpoint=checkpoint, supervisor=True)
    return user


def test_an_admitted_entry_and_exit_become_events_once(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    subscribe()
    trip = open_trip(dispatcher, checkpoint)
    entry = scan(staff_client, checkpoint, token_of(trip), "in").json()
    exit_ = scan(staff_client, checkpoint, token_of(trip), "out").json()
    assert (entry["verdict"], exit_["verdict"]) == ("admit", "admit")

    assert sweep() == 2
    assert sweep() == 0
    assert sweep(timedelta(minutes=5)) == 0

    assert queued() == [
        ("常州", "trip.entered", entry["id"]),
        ("常州", "trip.exited", exit_["id"]),
    ]
    entered = WebhookDelivery.objects.get(event="trip.entered").payload
    assert entered["trip"]["reference"] == trip.reference
    assert entered["scan"]["checkpoint"] == checkpoint.code
    assert entered["scan"]["checkpoint_region"] == "410800"
    assert (entered["scan"]["direction"], entered["scan"]["overridden"]) == ("in", False)
    # When the truck passed, not when the sweep ran.
    assert entered["occurred_at"] == entered["scan"]["scanned_at"]
    assert cursor() == exit_["id"]


def test_refused_scans_become_nothing(staff_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    subscribe()
    red = open_trip(dispatcher, checkpoint, test_result="positive", test_sampled_at=at(-4))
    green = open_trip(dispatcher, checkpoint)
    assert scan(staff_client, checkpoint, token_of(red)).json()["reason"] == "red_code"
    assert scan(staff_client, checkpoint, altered(token_of(green))).json()["reason"] == "invalid"
    admitted = scan(staff_client, checkpoint, token_of(green)).json()
    again = scan(staff_client, checkpoint, token_of(green)).json()
    assert again["reason"] == "already_inside"

    assert sweep() == 1

    assert queued() == [("常州", "trip.entered", admitted["id"])]
    assert cursor() == again["id"]


def test_a_landing_test_entry_counts_as_admitted(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    subscribe()
    yellow = open_trip(dispatcher, checkpoint, test_result="none", test_sampled_at=None)
    entry = scan(staff_client, checkpoint, token_of(yellow)).json()
    assert entry["verdict"] == "admit_with_test"

    assert sweep() == 1

    assert queued() == [("常州", "trip.entered", entry["id"])]


def test_the_newest_scans_wait_until_they_settle(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    subscribe()
    trip = open_trip(dispatcher, checkpoint)
    entry = scan(staff_client, checkpoint, token_of(trip)).json()

    assert sweep(timedelta(seconds=5)) == 0
    assert cursor() < entry["id"]

    assert sweep() == 1
    assert cursor() == entry["id"]


def test_an_override_after_the_sweep_passed_still_becomes_an_entry(
    api_client: Any, supervisor: Any, dispatcher: Any, checkpoint: Any
) -> None:
    subscribe()
    red = open_trip(dispatcher, checkpoint, test_result="positive", test_sampled_at=at(-4))
    api_client.force_authenticate(supervisor)
    refused = scan(api_client, checkpoint, token_of(red)).json()
    assert sweep() == 0
    assert cursor() == refused["id"]

    services.scan_override(
        supervisor=supervisor, checkpoint=checkpoint, scan_pk=refused["id"], reason="指挥部批准"
    )

    assert sweep() == 1
    assert sweep() == 0
    assert queued() == [("常州", "trip.entered", refused["id"])]
    payload = WebhookDelivery.objects.get().payload
    assert payload["scan"]["overridden"] is True
    assert payload["scan"]["verdict"] == "refuse"
    assert payload["trip"]["status"] == "inside"


def test_an_override_before_the_sweep_becomes_one_entry(
    api_client: Any, supervisor: Any, dispatcher: Any, checkpoint: Any
) -> None:
    subscribe()
    red = open_trip(dispatcher, checkpoint, test_result="positive", test_sampled_at=at(-4))
    api_client.force_authenticate(supervisor)
    refused = scan(api_client, checkpoint, token_of(red)).json()
    services.scan_override(
        supervisor=supervisor, checkpoint=checkpoint, scan_pk=refused["id"], reason="指挥部批准"
    )

    assert sweep() == 1

    assert queued() == [("常州", "trip.entered", refused["id"])]


def test_without_subscriptions_the_cursor_moves_on_and_nothing_is_replayed(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    first = open_trip(dispatcher, checkpoint)
    before = scan(staff_client, checkpoint, token_of(first)).json()

    assert sweep() == 0
    assert cursor() == before["id"]

    subscribe()
    assert sweep() == 0
    second = open_trip(dispatcher, checkpoint)
    after = scan(staff_client, checkpoint, token_of(second)).json()
    assert sweep() == 1
    assert queued() == [("常州", "trip.entered", after["id"])]


def test_subscriptions_to_other_events_do_not_read_scans(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    subscribe(event_types=["pass.revoked", "trip.arrived"])
    trip = open_trip(dispatcher, checkpoint)
    entry = scan(staff_client, checkpoint, token_of(trip)).json()

    assert sweep() == 0

    assert queued() == []
    assert cursor() == entry["id"]


def test_the_region_filter_applies(staff_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    # The trips come from Changzhou Wujin (常州市武进区, 320412).
    subscribe("江苏省", region_id="320000")
    subscribe("山西省", region_id="140000")
    trip = open_trip(dispatcher, checkpoint)
    entry = scan(staff_client, checkpoint, token_of(trip)).json()

    assert sweep() == 1

    assert queued() == [("江苏省", "trip.entered", entry["id"])]


def test_a_first_sweep_starts_an_hour_back(
    staff_client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    subscribe()
    old_trip = open_trip(dispatcher, checkpoint)
    old = scan(staff_client, checkpoint, token_of(old_trip)).json()

    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1), tick=False):
        assert events.scan_events_emit() == 0
        assert cursor() == old["id"]


def test_a_backlog_is_read_in_batches(staff_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    subscribe()
    ids = [
        scan(staff_client, checkpoint, token_of(open_trip(dispatcher, checkpoint))).json()["id"]
        for _ in range(5)
    ]

    with time_machine.travel(timezone.now() + SETTLED, tick=False):
        assert events.scan_events_emit(batch_size=2) == 5

    assert [scan_id for _name, _event, scan_id in queued()] == ids
    assert cursor() == ids[-1]


def test_the_task_sweeps(staff_client: Any, dispatcher: Any, checkpoint: Any) -> None:
    subscribe()
    scan(staff_client, checkpoint, token_of(open_trip(dispatcher, checkpoint)))

    with time_machine.travel(timezone.now() + SETTLED, tick=False):
        assert tasks.emit_scan_events.run() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="The cursor's row lock (SELECT ... FOR UPDATE SKIP LOCKED) is what is tested; CI "
    "runs on PostgreSQL. SQLite runs whole write transactions one after the other.",
)
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_queue_each_event_once(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receivers, "enqueue_once_on_commit", lambda task: None)  # no broker here
    checkpoint = CheckpointFactory()
    staff = staff_user(checkpoint)
    dispatcher = make_dispatcher()
    subscribe()
    trips: list[Trip] = [open_trip(dispatcher, checkpoint) for _ in range(3)]
    for trip in trips:
        services.scan_perform(
            staff=staff,
            checkpoint=checkpoint,
            data=services.ScanInput(token=token_of(trip), direction="in"),
        )
    # The first sweep stops inside its batch, holding the cursor, until the second has run.
    inside, release = threading.Event(), threading.Event()
    real_emit_many = webhook_events.emit_many

    def slow_emit_many(*args: Any, **kwargs: Any) -> int:
        if threading.current_thread().name == "first":
            inside.set()
            release.wait(30)
        return real_emit_many(*args, **kwargs)

    monkeypatch.setattr(webhook_events, "emit_many", slow_emit_many)
    results: dict[str, int] = {}

    def run() -> None:
        try:
            results[threading.current_thread().name] = sweep()
        finally:
            connection.close()

    first = threading.Thread(target=run, name="first")
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=run, name="second")
    second.start()
    second.join(5)
    waited = second.is_alive()  # the second sweep must skip the held cursor, not wait on it
    release.set()
    first.join(10)
    second.join(10)

    assert not waited
    assert results == {"first": 3, "second": 0}
    assert WebhookDelivery.objects.count() == 3
    assert sweep() == 0
