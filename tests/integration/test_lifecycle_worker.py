"""The lifecycle end to end through a real Celery worker (Redis on CI, the filesystem broker
with nothing set): a reminder reaches the driver's mailbox, a hand-over webhook reaches a
receiving HTTP server, and a notification queued while the broker was down goes out once the
broker is back."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from checkpoints import services as checkpoint_services
from handover.models import WebhookSubscription
from notifications import sms
from notifications.models import Notification
from notifications.tasks import send_notifications, send_reminders
from passcode_portal.celery import app
from tests.factories import (
    CheckpointFactory,
    CompanyFactory,
    consignee_user,
    dispatcher,
    make_trip,
    staff_user,
)
from tests.integration.waiting import wait_for
from trucks.models import Driver, Pass
from trucks.services import pass_token

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver(settings: Any) -> Iterator[str]:
    # On 127.0.0.1, which the sender refuses unless told otherwise.
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True
    Receiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    server.shutdown()


def test_a_reminder_and_a_webhook_go_out_through_the_worker(
    regions: None, celery_worker: Any, receiver: str
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    consignee = consignee_user(CompanyFactory(is_consignee=True))
    company = CompanyFactory()
    actor = dispatcher(company)
    subscription = WebhookSubscription.objects.create(
        name="常州", url=receiver, secret="s3cret", event_types=["trip.arrived"]
    )
    now = timezone.now()
    # Arrival in 6 hours: the window opens in 4, inside the policy's 12-hour reminder lead.
    trip = make_trip(
        actor,
        checkpoint,
        consignee=consignee.company_membership.company.pk,
        planned_arrival=now + timedelta(hours=1),
        planned_departure=now + timedelta(hours=20),
    )
    Driver.objects.filter(pk=trip.driver_id).update(email="driver@example.com")
    later = make_trip(
        actor,
        checkpoint,
        planned_arrival=now + timedelta(hours=6),
        planned_departure=now + timedelta(hours=20),
    )
    Driver.objects.filter(pk=later.driver_id).update(email="later@example.com")
    # Registered yesterday: reminders skip a pass issued after its reminder point (its driver
    # was just sent the pass itself).
    Pass.objects.filter(trip=later).update(issued_at=now - timedelta(days=1))

    send_reminders.delay()

    reminder = wait_for(
        lambda: [
            m for m in mail.outbox if m.to == ["later@example.com"] and later.reference in m.subject
        ]
    )[0]
    assert later.reference in reminder.body

    # The truck enters and the consignee confirms: trip.arrived is handed over.
    staff = staff_user(checkpoint)
    checkpoint_services.scan_perform(
        staff=staff,
        checkpoint=checkpoint,
        data=checkpoint_services.ScanInput(token=pass_token(trip.passes.get()), direction="in"),
    )
    trip.refresh_from_db()
    checkpoint_services.trip_confirm_arrival(actor=consignee, trip=trip)

    headers, body = wait_for(lambda: Receiver.received)[0]
    event = json.loads(body)
    assert event["event"] == "trip.arrived"
    assert event["trip"]["reference"] == trip.reference
    signed = headers["X-Passcode-Timestamp"].encode() + b"." + body
    expected = hmac.new(b"s3cret", signed, hashlib.sha256).hexdigest()
    assert headers["X-Passcode-Signature"] == f"v1={expected}"
    assert subscription.deliveries.get().status == "sent"


def test_a_notification_queued_while_the_broker_is_down_goes_out_once_it_is_back(
    regions: None, request: pytest.FixtureRequest
) -> None:
    sms.outbox_clear()
    checkpoint = CheckpointFactory()
    saved = app.conf.broker_url
    # Nothing listens on port 1: enqueueing fails at once, as with a broker that is down.
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    _drop_connections()
    try:
        trip = make_trip(dispatcher(), checkpoint)
    finally:
        app.conf.broker_url = saved
        _drop_connections()

    # Registration succeeded and its message waits in the outbox.
    row = Notification.objects.get(trip=trip, template="pass_issued", channel="sms")
    assert row.status == "pending"
    assert sms.outbox == []

    # The broker is back; the periodic sweep (beat runs it every 30 s) sends it, once.
    request.getfixturevalue("celery_worker")
    send_notifications.delay()
    wait_for(lambda: Notification.objects.get(pk=row.pk).status == "sent")
    send_notifications.delay()
    send_notifications.delay()
    wait_for(lambda: _queue_drained())
    assert [m.phone for m in sms.outbox] == [trip.driver.phone]


def _queue_drained() -> bool:
    # The last two sweeps have run when nothing is left pending or in flight.
    return not Notification.objects.filter(status__in=["pending", "sending"]).exists()


def _drop_connections() -> None:
    import kombu.pools

    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()
