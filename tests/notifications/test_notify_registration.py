"""Registration tells the driver: one pass_issued notification per channel, in the driver's
language, with the signed link; the sender is asked after commit, and a broker that is down at
registration loses nothing (the periodic run sends the row once the broker is back)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.test import Client
from kombu.exceptions import OperationalError as BrokerDown

from notifications import sending as notify
from notifications import sms
from notifications import tasks as notify_tasks
from notifications.models import Notification
from passcode_portal.errors import DomainError
from passcode_portal.outbox import OutboxStatus
from tests.factories import driver_user, make_trip
from tests.notifications.notifying import sms_outbox_fixture  # noqa: F401 -- fixtures
from trucks import links
from trucks.models import Driver, Pass, Trip

pytestmark = pytest.mark.django_db


def pass_of(trip: Trip) -> Pass:
    return Pass.objects.get(trip=trip)


def test_registration_queues_pass_issued_for_the_driver(dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    pass_ = pass_of(trip)

    [row] = Notification.objects.filter(trip=trip)
    assert row.channel == Notification.Channel.SMS
    assert row.recipient == trip.driver.phone
    assert row.template == "pass_issued"
    assert row.language == "zh-hans"
    assert row.dedupe_key == f"pass_issued:{pass_.pk}:sms"
    assert row.status == OutboxStatus.PENDING
    context = dict(row.context)
    link = context.pop("link")
    assert context == {"reference": trip.reference, "plate": trip.vehicle.plate, "colour": "green"}
    # The signed link names the pass (its signature carries a timestamp, so compare the id).
    token = link.removeprefix(settings.SITE_URL + "/p/").removesuffix("/")
    assert links.pass_id_from_link(token) == pass_.pk


def test_the_link_in_the_message_opens_the_pass(dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    link = Notification.objects.get(trip=trip).context["link"]

    response = Client().get(link)

    assert response.status_code == 200
    assert trip.vehicle.plate in response.content.decode()


def test_a_driver_with_an_email_gets_both_in_their_language(
    checkpoint: Any, sms_outbox: list[sms.SentSms]
) -> None:
    user = driver_user()
    Driver.objects.filter(user=user).update(email="li@example.org", language="en")
    user.refresh_from_db()
    trip = make_trip(user, checkpoint, driver=None)

    rows = Notification.objects.filter(trip=trip).order_by("channel")
    assert [(r.channel, r.language) for r in rows] == [("email", "en"), ("sms", "en")]

    assert notify.notifications_send_due() == 2
    link = Notification.objects.filter(trip=trip).first().context["link"]  # type: ignore[union-attr]
    [message] = sms_outbox
    assert message.text.endswith(link)
    assert "Colour: Green" in message.text
    [email] = mail.outbox
    assert email.to == ["li@example.org"]
    assert email.subject == f"Your pass for trip {trip.reference}"
    assert link in email.body


def test_a_refused_registration_queues_nothing(dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    # The same truck at the same time again: refused, and no second message.
    with pytest.raises(DomainError):
        make_trip(
            dispatcher,
            checkpoint,
            vehicle_plate=trip.vehicle.plate,
            planned_arrival=trip.planned_arrival,
            planned_departure=trip.planned_departure,
        )
    assert Notification.objects.count() == 1


def test_the_sender_is_asked_after_commit(
    dispatcher: Any, checkpoint: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with mock.patch.object(notify_tasks.send_notifications, "apply_async") as apply_async:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            make_trip(dispatcher, checkpoint)
        apply_async.assert_not_called()  # nothing before commit

        for callback in callbacks:
            callback()
    apply_async.assert_called_once()


def test_trips_registered_in_one_transaction_ask_for_one_send(
    dispatcher: Any, checkpoint: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # An import registers its rows a chunk per transaction: one send takes every row pending,
    # so the broker is asked once for the chunk, not once per trip.
    with (
        mock.patch.object(notify_tasks.send_notifications, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        trips = [make_trip(dispatcher, checkpoint) for _ in range(3)]
    apply_async.assert_called_once()
    assert Notification.objects.filter(trip__in=trips, template="pass_issued").count() == 3


def test_a_broker_down_at_registration_loses_nothing(
    dispatcher: Any,
    checkpoint: Any,
    django_capture_on_commit_callbacks: Any,
    sms_outbox: list[sms.SentSms],
) -> None:
    broken = mock.patch.object(
        notify_tasks.send_notifications, "apply_async", side_effect=BrokerDown("refused")
    )
    with broken, django_capture_on_commit_callbacks(execute=True):
        trip = make_trip(dispatcher, checkpoint)  # succeeds all the same

    assert Trip.objects.filter(pk=trip.pk).exists()
    assert sms_outbox == []
    assert Notification.objects.get(trip=trip).status == OutboxStatus.PENDING

    # The broker is back: beat's periodic run sends the row, once.
    notify_tasks.send_notifications.apply()
    notify_tasks.send_notifications.apply()

    assert [m.phone for m in sms_outbox] == [trip.driver.phone]
    assert Notification.objects.get(trip=trip).status == OutboxStatus.SENT
