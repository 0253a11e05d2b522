"""Sending hand-over webhooks (handover.delivery): a real HTTP server on this machine
receives them, signed; failures are retried with backoff and given up after a limit; rows stuck
in "sending" are reclaimed; two workers never send one delivery twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from handover import delivery as webhook_delivery
from handover import events, receivers
from handover import tasks as webhook_tasks
from handover.models import WebhookDelivery, WebhookSubscription
from passcode_portal.outbox import OutboxStatus
from tests.factories import CheckpointFactory, make_trip
from tests.factories import dispatcher as make_dispatcher
from trucks.models import Trip

SECRET = "whsec_test-secret-中文-ok"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


class Receiver:
    """A webhook receiver on 127.0.0.1: records each request (headers, raw body) and answers
    the statuses it was given in turn, repeating the last."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses or [204])
        self.hold = threading.Event()  # set: answer at once; clear: hang (for timeouts)
        self.hold.set()
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    receiver.requests.append((dict(self.headers.items()), body))
                    answer = (
                        receiver.statuses.pop(0)
                        if len(receiver.statuses) > 1
                        else receiver.statuses[0]
                    )
                receiver.hold.wait(10)
                self.send_response(answer)
                if 300 <= answer < 400:
                    self.send_header("Location", receiver.url + "elsewhere")
                self.send_header("Content-Length", "11")
                self.end_headers()
                self.wfile.write(b"not today!\n")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[int]:
        return [int(headers["X-Passcode-Delivery"]) for headers, _body in self.requests]


@pytest.fixture(autouse=True)
def receivers_on_this_machine(settings: Any) -> None:
    """The receivers here listen on 127.0.0.1, which the sender refuses by default."""
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def trip(db: None) -> Trip:
    return make_trip(make_dispatcher(), CheckpointFactory())


def subscribe(url: str, **values: Any) -> WebhookSubscription:
    fields: dict[str, Any] = {
        "name": "常州市货车畅行平台",
        "url": url,
        "secret": SECRET,
        "event_types": ["trip.entered", "trip.exited", "trip.arrived", "pass.revoked"],
    }
    fields.update(values)
    return WebhookSubscription.objects.create(**fields)


def queue(trip: Trip, key: str = "scan-1", event: str = "trip.entered") -> WebhookDelivery:
    assert events.emit(event=event, trip=trip, key=key) >= 1
    return WebhookDelivery.objects.filter(trip=trip, event=event).latest("pk")


def independent_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The receiver's side, written from the documentation, not from our code."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# Signing


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = json.dumps({"id": 1, "event": "trip.entered", "plate": "苏D12345"}).encode()

    signature = webhook_delivery.sign(SECRET, 1_795_400_000, body)

    assert signature == independent_signature(SECRET, "1795400000", body)
    assert re.fullmatch(r"v1=[0-9a-f]{64}", signature)


def test_verify_refuses_old_timestamps_other_bodies_and_other_secrets() -> None:
    body = b'{"id":1}'
    now = 1_795_400_000.0
    stamp = str(int(now) - 60)
    good = webhook_delivery.sign(SECRET, int(stamp), body)

    assert webhook_delivery.verify(SECRET, body=body, timestamp=stamp, signature=good, now=now)
    # Replayed six minutes later: refused though the signature is right.
    assert not webhook_delivery.verify(
        SECRET, body=body, timestamp=stamp, signature=good, now=now + 360
    )
    assert not webhook_delivery.verify(
        SECRET, body=b'{"id":2}', timestamp=stamp, signature=good, now=now
    )
    assert not webhook_delivery.verify(
        "another", body=body, timestamp=stamp, signature=good, now=now
    )
    # A new timestamp on the old signature: the timestamp is signed too.
    assert not webhook_delivery.verify(
        SECRET, body=body, timestamp=str(int(now)), signature=good, now=now
    )
    assert not webhook_delivery.verify(SECRET, body=body, timestamp="soon", signature=good)


# ---------------------------------------------------------------------------------------------
# Delivering


def test_a_delivery_reaches_the_receiver_signed(receiver: Receiver, trip: Trip) -> None:
    subscription = subscribe(receiver.url)
    delivery = queue(trip)

    with time_machine.travel(timezone.now(), tick=False):
        sent = webhook_delivery.deliveries_send_due()
        now = int(time.time())

    assert sent == 1
    [(headers, body)] = receiver.requests
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Passcode-Event"] == "trip.entered"
    assert headers["X-Passcode-Delivery"] == str(delivery.pk)
    assert headers["X-Passcode-Timestamp"] == str(now)
    assert headers["X-Passcode-Signature"] == independent_signature(
        subscription.secret, headers["X-Passcode-Timestamp"], body
    )
    data = json.loads(body)
    assert data["id"] == delivery.pk
    assert data["event"] == "trip.entered"
    assert data["trip"]["reference"] == trip.reference
    assert data["trip"]["plate"] == trip.vehicle.plate
    # No ID numbers travel.
    assert trip.driver.id_number not in body.decode()
    delivery.refresh_from_db()
    assert delivery.status == OutboxStatus.SENT
    assert (delivery.attempts, delivery.response_status, delivery.last_error) == (1, 204, "")
    assert delivery.delivered_at is not None
    # Nothing is due any more.
    assert webhook_delivery.deliveries_send_due() == 0
    assert len(receiver.requests) == 1


def test_a_receiver_failing_twice_gets_it_on_the_third_attempt(
    receiver: Receiver, trip: Trip
) -> None:
    receiver.statuses = [500, 500, 200]
    subscribe(receiver.url)
    delivery = queue(trip)
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        assert webhook_delivery.deliveries_send_due() == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, 500)
    assert delivery.last_error == "HTTP 500: not today!"
    assert delivery.next_attempt_at == start + timedelta(seconds=30)

    # Not due yet: nothing is sent before the backoff ends.
    with time_machine.travel(start + timedelta(seconds=29), tick=False):
        assert webhook_delivery.deliveries_send_due() == 0
    assert len(receiver.requests) == 1

    with time_machine.travel(delivery.next_attempt_at, tick=False):
        assert webhook_delivery.deliveries_send_due() == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 2)
    # The wait doubles.
    assert delivery.next_attempt_at == start + timedelta(seconds=30 + 60)

    with time_machine.travel(delivery.next_attempt_at, tick=False):
        assert webhook_delivery.deliveries_send_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("sent", 3, 200)
    assert delivery.last_error == ""
    assert receiver.ids() == [delivery.pk] * 3
    # Each attempt is signed afresh, with its own timestamp.
    stamps = [headers["X-Passcode-Timestamp"] for headers, _body in receiver.requests]
    assert len(set(stamps)) == 3
    for headers, body in receiver.requests:
        assert headers["X-Passcode-Signature"] == independent_signature(
            SECRET, headers["X-Passcode-Timestamp"], body
        )


def test_it_gives_up_after_the_last_attempt(receiver: Receiver, trip: Trip, settings: Any) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.statuses = [503]
    subscribe(receiver.url)
    delivery = queue(trip)
    when = timezone.now()

    for _attempt in range(5):
        with time_machine.travel(when, tick=False):
            webhook_delivery.deliveries_send_due()
        delivery.refresh_from_db()
        when = max(when, delivery.next_attempt_at) + timedelta(seconds=1)

    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert delivery.last_error == "HTTP 503: not today!"
    assert len(receiver.requests) == 3


def test_backoff_doubles_up_to_a_cap() -> None:
    waits = [webhook_delivery.backoff(n).total_seconds() for n in range(1, 10)]

    assert waits[:7] == [30, 60, 120, 240, 480, 960, 1920]
    assert max(waits) == 7200
    # Eight attempts span a little over an hour.
    assert 3600 < sum(waits[:7]) < 4200


def test_a_refused_connection_is_retried(trip: Trip) -> None:
    subscribe(f"http://127.0.0.1:{free_port()}/hooks/")
    delivery = queue(trip)

    assert webhook_delivery.deliveries_send_due() == 0

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, None)
    assert "ConnectionRefusedError" in delivery.last_error


def test_a_redirect_is_not_followed(receiver: Receiver, trip: Trip) -> None:
    # urllib would follow it with a GET without the body; a 200 to that is not a delivery.
    receiver.statuses = [302, 200]
    subscribe(receiver.url)
    delivery = queue(trip)

    assert webhook_delivery.deliveries_send_due() == 0

    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == ("pending", 302)
    assert len(receiver.requests) == 1


def test_a_receiver_that_does_not_answer_in_time_is_retried(
    receiver: Receiver, trip: Trip, settings: Any
) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.hold.clear()
    subscribe(receiver.url)
    delivery = queue(trip)

    assert webhook_delivery.deliveries_send_due() == 0

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "timed out" in delivery.last_error


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("localhost", "a loopback address"),
        ("10.20.30.40", "a private address"),
        ("[::1]", "a loopback address"),
        ("[::ffff:192.168.1.1]", "a private address"),
    ],
)
def test_a_receiver_on_a_private_address_is_refused_by_default(
    receiver: Receiver, trip: Trip, settings: Any, host: str, kind: str
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False  # the default
    port = receiver.server.server_address[1]
    subscribe(f"http://{host}:{port}/hooks/")
    delivery = queue(trip)

    assert webhook_delivery.deliveries_send_due() == 0

    delivery.refresh_from_db()
    # Failed at once (waiting would not change the address), the reason in the log.
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 1, None)
    assert delivery.last_error.startswith("refused: ")
    assert kind in delivery.last_error
    assert "OUTBOUND_ALLOW_PRIVATE_ADDRESSES" in delivery.last_error
    # Nothing reached the receiver (which listens on 127.0.0.1, the address refused first).
    assert receiver.requests == []


def test_an_inactive_subscription_is_not_sent(receiver: Receiver, trip: Trip) -> None:
    subscription = subscribe(receiver.url)
    delivery = queue(trip)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(active=False)

    assert webhook_delivery.deliveries_send_due() == 0

    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("failed", "subscription inactive")
    assert receiver.requests == []


def test_a_non_http_url_is_never_opened(trip: Trip, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("do not read")
    subscribe(secret_file.as_uri())
    delivery = queue(trip)

    webhook_delivery.deliveries_send_due()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("pending", "not an http(s) URL")


def test_the_task_sends_what_is_due(receiver: Receiver, trip: Trip) -> None:
    subscribe(receiver.url)
    first = queue(trip, key="a")
    second = queue(trip, key="b")

    assert webhook_tasks.deliver_webhooks.run() == 2

    assert sorted(receiver.ids()) == [first.pk, second.pk]


def test_a_deadline_stops_the_sender_and_gives_rows_back(receiver: Receiver, trip: Trip) -> None:
    subscribe(receiver.url)
    delivery = queue(trip)
    claimed = webhook_delivery.deliveries_claim()

    assert webhook_delivery.deliveries_release(claimed) == 1

    delivery.refresh_from_db()
    # Not tried, so not counted.
    assert (delivery.status, delivery.attempts, delivery.claimed_at) == ("pending", 0, None)
    assert webhook_delivery.deliveries_send_due(deadline=timezone.now()) == 0
    assert receiver.requests == []


# ---------------------------------------------------------------------------------------------
# Workers that die, and workers that race


def test_a_delivery_stuck_in_sending_is_reclaimed(receiver: Receiver, trip: Trip) -> None:
    subscribe(receiver.url)
    delivery = queue(trip)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        [lost] = webhook_delivery.deliveries_claim()  # the worker dies before sending

    with time_machine.travel(start + timedelta(minutes=9), tick=False):
        assert webhook_tasks.reclaim_webhooks.run() == 0  # it may still be working
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        assert webhook_delivery.deliveries_reclaim() == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.next_attempt_at == start + timedelta(minutes=11)
        assert webhook_delivery.deliveries_send_due() == 1

    # The worker presumed dead comes back and records its answer: it changes nothing.
    webhook_delivery._record(lost, webhook_delivery.Answer(False, 500, "HTTP 500"))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert receiver.ids() == [delivery.pk]


def test_a_delivery_that_kills_its_worker_every_time_fails(trip: Trip, settings: Any) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    subscribe("https://hub.example.cn/hooks/")
    delivery = queue(trip)
    when = timezone.now()
    for _attempt in range(2):
        with time_machine.travel(when, tick=False):
            assert len(webhook_delivery.deliveries_claim()) == 1
        when += timedelta(minutes=11)
        with time_machine.travel(when, tick=False):
            webhook_delivery.deliveries_reclaim()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert "stopped while sending" in delivery.last_error


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Row locks (FOR UPDATE SKIP LOCKED) are what is tested; CI runs on PostgreSQL. "
    "SQLite runs each claim under its database write lock, so claims cannot interleave.",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_deliver_each_once(
    regions: None, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receivers, "enqueue_once_on_commit", lambda task: None)  # no broker here
    trip = make_trip(make_dispatcher(), CheckpointFactory())
    subscribe(receiver.url)
    subscribe(receiver.url, name="焦作物流园")
    for i in range(15):
        queue(trip, key=f"scan-{i}")
    expected = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert len(expected) == 30
    barrier = threading.Barrier(2)
    results: list[int] = []

    def worker() -> None:
        try:
            barrier.wait(5)
            results.append(webhook_delivery.deliveries_send_due(batch=3))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sum(results) == 30
    assert Counter(receiver.ids()) == {pk: 1 for pk in expected}
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("sent", 1)}


# ---------------------------------------------------------------------------------------------
# The receiver documented in docs/webhooks.md works as written


def documented_receiver(secret: bytes) -> type[BaseHTTPRequestHandler]:
    text = DOCS.read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code is not None
    source = code.group(1)
    assert len(source.strip().splitlines()) <= 20
    source = source.replace('SECRET = b"whsec_..."', f"SECRET = {secret!r}")
    source = "\n".join(line for line in source.splitlines() if "serve_forever" not in line)
    namespace: dict[str, Any] = {}
    exec(compile(source, str(DOCS), "exec"), namespace)  # noqa: S102 -- our own documentation
    handler: type[BaseHTTPRequestHandler] = namespace["Receiver"]
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    return handler


def test_the_documented_receiver_accepts_deliveries_and_refuses_forgeries(
    trip: Trip, capsys: pytest.CaptureFixture[str]
) -> None:
    server = HTTPServer(("127.0.0.1", 0), documented_receiver(SECRET.encode()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        subscription = subscribe(url)
        good = queue(trip, key="good")
        assert webhook_delivery.deliveries_send_due() == 1
        WebhookSubscription.objects.filter(pk=subscription.pk).update(secret="forged")
        forged = queue(trip, key="forged")
        assert webhook_delivery.deliveries_send_due() == 0
    finally:
        server.shutdown()
        server.server_close()

    good.refresh_from_db()
    forged.refresh_from_db()
    assert (good.status, good.response_status) == ("sent", 204)
    assert (forged.status, forged.response_status) == ("pending", 401)
    assert "trip.entered" in capsys.readouterr().out
