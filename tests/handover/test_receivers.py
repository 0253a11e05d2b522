"""The apps above hear what happened below through signals, and their receivers write in the
transaction of the cause: the outbox row and the hand-over delivery commit with the trip, the
cancellation or the arrival, or vanish with it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from checkpoints import signals as checkpoint_signals
from handover.models import WebhookDelivery, WebhookSubscription
from notifications.models import Notification
from tests.factories import make_trip
from trucks import services
from trucks import signals as trip_signals
from trucks.models import Trip

pytestmark = pytest.mark.django_db


class Undone(Exception):
    pass


@pytest.fixture
def hub() -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        name="hub",
        url="https://hub.example.cn/hooks/",
        secret="s",
        event_types=["pass.revoked", "pass.regraded", "trip.arrived", "trip.overdue"],
    )


def receivers_of(signal: Any) -> set[str]:
    return {r().__module__ for _key, r, *_rest in signal.receivers if r() is not None}


def test_each_signal_is_heard_by_the_apps_above() -> None:
    assert receivers_of(trip_signals.trip_registered) == {"notifications.receivers"}
    assert receivers_of(trip_signals.pass_revoked) == {"handover.receivers"}
    assert receivers_of(trip_signals.passes_recoloured) == {
        "notifications.receivers",
        "handover.receivers",
        "dashboards.receivers",
    }
    assert receivers_of(trip_signals.trips_anonymised) == {
        "notifications.receivers",
        "handover.receivers",
    }
    assert receivers_of(trip_signals.policy_published) == {"trucks.receivers"}
    assert receivers_of(trip_signals.region_risk_changed) == {"trucks.receivers"}
    assert receivers_of(checkpoint_signals.trip_arrived) == {"handover.receivers"}
    assert receivers_of(checkpoint_signals.scan_reclassified) == {"dashboards.receivers"}
    assert receivers_of(checkpoint_signals.trips_overdue) == {
        "notifications.receivers",
        "handover.receivers",
    }


def test_a_registration_rolled_back_leaves_no_message(dispatcher: Any, checkpoint: Any) -> None:
    with pytest.raises(Undone), transaction.atomic():
        make_trip(dispatcher, checkpoint)
        assert Notification.objects.filter(template="pass_issued").count() == 1
        raise Undone

    assert not Trip.objects.exists()
    assert not Notification.objects.exists()


def test_the_message_commits_with_the_registration(dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)

    assert list(Notification.objects.values_list("trip_id", "template")) == [
        (trip.pk, "pass_issued")
    ]


def test_a_cancellation_rolled_back_hands_nothing_over(
    dispatcher: Any, checkpoint: Any, hub: WebhookSubscription
) -> None:
    trip = make_trip(dispatcher, checkpoint)

    with pytest.raises(Undone), transaction.atomic():
        services.trip_cancel(actor=dispatcher, trip=trip)
        assert WebhookDelivery.objects.filter(event="pass.revoked").count() == 1
        raise Undone

    assert not WebhookDelivery.objects.exists()
    services.trip_cancel(actor=dispatcher, trip=trip)
    assert list(WebhookDelivery.objects.values_list("event", "trip_id")) == [
        ("pass.revoked", trip.pk)
    ]
