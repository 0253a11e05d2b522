"""Helpers for notification tests: the SMS outbox, outbox rows, and a local SMS gateway (a real
HTTP server in a thread) that answers with the statuses a test scripts."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from notifications import outbox, sms
from notifications.models import Notification

# Fixtures are named ``sms_outbox`` and ``gateway``; test modules import the functions
# (``*_fixture``) so that the fixture's name does not clash with the imported one.
LOCMEM = "notifications.sms.LocmemBackend"
GATEWAY = "notifications.sms.HttpGatewayBackend"
SECRET = "gateway-test-secret"

_phones = itertools.count(1)


@pytest.fixture(name="sms_outbox")
def sms_outbox_fixture(settings: Any) -> Iterator[list[sms.SentSms]]:
    """SMS go to notifications.sms.outbox, empty at the start of the test."""
    settings.SMS_BACKEND = LOCMEM
    sms.outbox_clear()
    yield sms.outbox
    sms.outbox_clear()


def overdue_exit_rows(n: int, **overrides: Any) -> list[Notification]:
    """``n`` queued SMS to distinct phones, a template that needs no trip."""
    values: dict[str, Any] = {
        "channel": Notification.Channel.SMS,
        "template": "overdue_exit",
        "context": {
            "reference": "JZ-20260101-000001",
            "plate": "豫H12345",
            "planned_departure": "2026-01-02T10:00:00+08:00",
        },
    }
    values.update(overrides)
    rows = []
    for _ in range(n):
        i = next(_phones)
        rows.append(
            outbox.notification(
                recipient=values.get("recipient") or f"137{i % 100_000_000:08d}",
                dedupe_key=f"test:{i}",
                **{k: v for k, v in values.items() if k != "recipient"},
            )
        )
    outbox.queue(rows)
    return list(Notification.objects.filter(dedupe_key__in=[r.dedupe_key for r in rows]))


@dataclass
class GatewayRequest:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Gateway:
    """A local SMS gateway. ``statuses`` are answered in turn, then 200 for ever after."""

    url: str
    statuses: list[int] = field(default_factory=list)
    requests: list[GatewayRequest] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    @property
    def accepted(self) -> list[GatewayRequest]:
        return [r for r, s in zip(self.requests, self.answers, strict=True) if 200 <= s < 300]


@pytest.fixture(name="gateway")
def gateway_fixture(settings: Any) -> Iterator[Gateway]:
    """A gateway on 127.0.0.1, and the settings pointing the HTTP backend at it."""
    lock = threading.Lock()
    state = Gateway(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                status = state.statuses.pop(0) if state.statuses else 200
                state.requests.append(
                    GatewayRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                state.answers.append(status)
            reply = b'{"ok":true}' if status < 300 else b"upstream busy"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    settings.SMS_BACKEND = GATEWAY
    settings.SMS_GATEWAY_URL = state.url
    settings.SMS_GATEWAY_SECRET = SECRET
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
