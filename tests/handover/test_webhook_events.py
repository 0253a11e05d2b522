"""Which hand-over events are queued, for whom (handover.events.emit): the region filter, the
event filter, once per occurrence; and the services that emit them (arrival, revocation,
regrading)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from checkpoints import services as checkpoint_services
from handover import events
from handover import tasks as webhook_tasks
from handover.models import WebhookDelivery, WebhookSubscription
from tests.factories import CompanyFactory, at, consignee_user, make_trip
from tests.lifecycle import task_names
from trucks import services
from trucks.models import Trip, TripStatus

pytestmark = pytest.mark.django_db

ALL_EVENTS = [
    "trip.entered",
    "trip.exited",
    "trip.arrived",
    "trip.overdue",
    "pass.revoked",
    "pass.regraded",
]


def subscribe(name: str = "hub", **values: Any) -> WebhookSubscription:
    fields: dict[str, Any] = {
        "name": name,
        "url": "https://hub.example.cn/hooks/",
        "secret": "s",
        "event_types": ALL_EVENTS,
    }
    fields.update(values)
    return WebhookSubscription.objects.create(**fields)


def deliveries(event: str | None = None) -> list[WebhookDelivery]:
    rows = WebhookDelivery.objects.select_related("subscription").order_by("pk")
    return list(rows.filter(event=event) if event else rows)


@pytest.fixture
def trip(dispatcher: Any, checkpoint: Any) -> Trip:
    # From Changzhou Wujin (常州市武进区, 320412) to a checkpoint in Jiaozuo (焦作, 410800).
    return make_trip(dispatcher, checkpoint)


# ---------------------------------------------------------------------------------------------
# emit


def test_a_region_covers_the_trips_from_the_regions_in_it(trip: Trip) -> None:
    subscribe("江苏省", region_id="320000")
    subscribe("常州市", region_id="320400")
    subscribe("武进区", region_id="320412")
    subscribe("山西省", region_id="140000")
    subscribe("全国")
    # The planned entry checkpoint's region counts too: Henan (河南, 410000) receives it.
    subscribe("河南省", region_id="410000")

    offered = events.emit(event="trip.entered", trip=trip, key="1")

    receivers = {d.subscription.name for d in deliveries()}
    assert receivers == {"江苏省", "常州市", "武进区", "全国", "河南省"}
    assert offered == 5


def test_only_subscriptions_that_want_the_event_and_are_active_get_it(trip: Trip) -> None:
    subscribe("exits", event_types=["trip.exited"])
    subscribe("entries", event_types=["trip.entered"])
    subscribe("off", active=False)

    events.emit(event="trip.entered", trip=trip, key="1")

    assert [d.subscription.name for d in deliveries()] == ["entries"]


def test_an_occurrence_is_queued_once(trip: Trip) -> None:
    subscribe()

    events.emit(event="trip.entered", trip=trip, key="scan-7")
    events.emit(event="trip.entered", trip=trip, key="scan-7")
    events.emit(event="trip.entered", trip=trip, key="scan-8")

    assert len(deliveries()) == 2


def test_nothing_is_queued_without_subscriptions(trip: Trip) -> None:
    assert events.emit(event="trip.entered", trip=trip, key="1") == 0
    assert deliveries() == []


def test_the_body_carries_the_trip_and_the_extra(trip: Trip) -> None:
    subscribe()
    when = timezone.now()

    events.emit(
        event="trip.overdue",
        trip=trip,
        key="overdue_arrival",
        extra={"overdue": {"cause": "arrival", "since": when}},
    )

    [delivery] = deliveries()
    payload = delivery.payload
    assert payload["event"] == "trip.overdue"
    assert payload["trip"]["reference"] == trip.reference
    assert payload["trip"]["origin_region"] == "320412"
    assert payload["trip"]["entry_checkpoint"] == trip.entry_checkpoint.code
    # A datetime in the extra is sent as ISO 8601 text.
    assert payload["overdue"] == {"cause": "arrival", "since": when.isoformat()}
    assert delivery.trip == trip
    assert delivery.status == "pending"


def test_an_unknown_event_is_a_programming_error(trip: Trip) -> None:
    subscribe()

    with pytest.raises(ValueError, match=r"trip\.vanished"):
        events.emit(event="trip.vanished", trip=trip, key="1")


def test_delivery_is_kicked_once_per_transaction_after_commit(
    trip: Trip, django_capture_on_commit_callbacks: Any
) -> None:
    subscribe()

    with (
        mock.patch.object(webhook_tasks.deliver_webhooks, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
    ):
        for i in range(5):
            events.emit(event="trip.entered", trip=trip, key=str(i))

    assert task_names(callbacks) == ["handover.tasks.deliver_webhooks"]
    apply_async.assert_called_once()
    assert len(deliveries()) == 5


def test_a_broker_that_is_down_fails_nothing(
    trip: Trip, django_capture_on_commit_callbacks: Any
) -> None:
    subscribe()

    down = ConnectionError("down")
    with (
        mock.patch.object(webhook_tasks.deliver_webhooks, "apply_async", side_effect=down),
        django_capture_on_commit_callbacks(execute=True),
    ):
        events.emit(event="trip.entered", trip=trip, key="1")

    assert len(deliveries()) == 1  # the periodic sender will send it


# ---------------------------------------------------------------------------------------------
# The services that emit


def test_cancelling_a_trip_emits_pass_revoked(dispatcher: Any, trip: Trip) -> None:
    subscribe()
    pass_ = trip.passes.get()

    services.trip_cancel(actor=dispatcher, trip=trip)

    [delivery] = deliveries("pass.revoked")
    assert delivery.payload["pass"] == {
        "id": pass_.pk,
        "status": "revoked",
        "colour": pass_.colour,
        "revoked_at": delivery.payload["pass"]["revoked_at"],
        "reason": "trip cancelled",
    }
    assert delivery.payload["trip"]["status"] == "cancelled"
    # Cancelled again: nothing more.
    services.trip_cancel(actor=dispatcher, trip=trip)
    assert len(deliveries("pass.revoked")) == 1


def test_reissuing_a_pass_emits_pass_revoked_for_the_old_one(trip: Trip) -> None:
    subscribe()
    old = trip.passes.get()

    new = services.pass_issue(trip=trip)

    [delivery] = deliveries("pass.revoked")
    assert delivery.payload["pass"]["id"] == old.pk
    assert delivery.payload["pass"]["reason"] == "reissued"
    assert new.pk != old.pk


def test_a_colour_change_emits_pass_regraded(dispatcher: Any, trip: Trip) -> None:
    subscribe()
    pass_ = trip.passes.get()
    assert pass_.colour == "green"

    services.trip_set_test_result(actor=dispatcher, trip=trip, result="positive", sampled_at=at(-1))

    [delivery] = deliveries("pass.regraded")
    pass_.refresh_from_db()
    assert delivery.payload["pass"] == {
        "id": pass_.pk,
        "colour": "red",
        "previous_colour": "green",
        "reasons": ["positive_test"],
        "policy_version": pass_.policy_version,
    }


def test_a_change_of_reasons_alone_emits_nothing(dispatcher: Any, checkpoint: Any) -> None:
    # Yellow for a stale test; then yellow for no test at all: same colour, other reason.
    trip = make_trip(dispatcher, checkpoint, test_sampled_at=at(-60))
    assert trip.passes.get().colour == "yellow"
    subscribe()

    services.trip_set_test_result(actor=dispatcher, trip=trip, result="none", sampled_at=None)

    assert trip.passes.get().reasons[0]["code"] == "no_test"
    assert deliveries("pass.regraded") == []


def test_a_confirmed_arrival_emits_trip_arrived(dispatcher: Any, checkpoint: Any) -> None:
    consignee = CompanyFactory(is_consignee=True)
    trip = make_trip(dispatcher, checkpoint, consignee=consignee.pk)
    Trip.objects.filter(pk=trip.pk).update(
        status=TripStatus.INSIDE, entered_at=timezone.now() - timedelta(hours=1)
    )
    subscribe()
    user = consignee_user(consignee)

    checkpoint_services.trip_confirm_arrival(actor=user, trip=trip)
    checkpoint_services.trip_confirm_arrival(actor=user, trip=trip)  # confirmed twice: once

    [delivery] = deliveries("trip.arrived")
    assert delivery.payload["trip"]["status"] == "arrived"
    assert delivery.payload["trip"]["arrived_at"] is not None
    assert delivery.payload["trip"]["consignee"] == consignee.name
