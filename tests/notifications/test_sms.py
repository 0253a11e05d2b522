"""SMS backends: console and locmem, and the HTTP gateway against a real local HTTP server whose
signature check is done here, independently of the code under test."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from notifications import sms
from tests.notifications.notifying import SECRET, Gateway, gateway_fixture, sms_outbox_fixture  # noqa: F401 -- fixtures
from tests.portal.test_deploy import production_env, run


def expected_signature(timestamp: str, body: bytes) -> str:
    return hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def test_console_backend_logs_the_message(settings: Any, caplog: Any) -> None:
    settings.SMS_BACKEND = "notifications.sms.ConsoleBackend"
    with caplog.at_level(logging.INFO, logger="notifications.sms"):
        sms.send_sms("13912345678", "你好 hello")
    assert "13912345678" in caplog.text
    assert "你好 hello" in caplog.text


def test_locmem_backend_keeps_the_message(sms_outbox: list[sms.SentSms]) -> None:
    sms.send_sms("13912345678", "text", message_id="k1")
    assert sms_outbox == [sms.SentSms("13912345678", "text", "k1")]


def test_the_backend_follows_the_setting(settings: Any) -> None:
    settings.SMS_BACKEND = "notifications.sms.LocmemBackend"
    assert isinstance(sms.get_backend(), sms.LocmemBackend)
    settings.SMS_BACKEND = "notifications.sms.ConsoleBackend"
    assert isinstance(sms.get_backend(), sms.ConsoleBackend)


def test_the_gateway_receives_a_signed_json_post(gateway: Gateway) -> None:
    before = int(time.time())
    sms.send_sms("13912345678", "通行码已签发 https://x/p/abc/", message_id="pass_issued:7:sms")

    [request] = gateway.requests
    assert request.path == "/sms/send"
    assert request.headers["content-type"].startswith("application/json")
    assert json.loads(request.body.decode("utf-8")) == {
        "phone": "13912345678",
        "text": "通行码已签发 https://x/p/abc/",
        "id": "pass_issued:7:sms",
    }
    timestamp = request.headers["x-timestamp"]
    assert before <= int(timestamp) <= int(time.time())
    assert hmac.compare_digest(
        request.headers["x-signature"], expected_signature(timestamp, request.body)
    )


def test_the_signature_covers_the_timestamp(gateway: Gateway) -> None:
    sms.send_sms("13912345678", "text")
    [request] = gateway.requests
    assert "id" not in json.loads(request.body)
    other_time = str(int(request.headers["x-timestamp"]) + 300)
    assert request.headers["x-signature"] != expected_signature(other_time, request.body)


def test_a_refusal_is_an_sms_error_with_the_status(gateway: Gateway) -> None:
    gateway.statuses = [503]
    with pytest.raises(sms.SmsError, match="503"):
        sms.send_sms("13912345678", "text")


def test_a_client_error_is_an_sms_error_too(gateway: Gateway) -> None:
    gateway.statuses = [401]
    with pytest.raises(sms.SmsError, match="401: upstream busy"):
        sms.send_sms("13912345678", "text")


def test_a_redirect_from_the_gateway_is_not_followed(gateway: Gateway) -> None:
    gateway.statuses = [302]
    with pytest.raises(sms.SmsError, match="gateway answered 302"):
        sms.send_sms("13912345678", "text")
    assert len(gateway.requests) == 1


def test_the_gateway_may_be_on_a_private_address(gateway: Gateway, settings: Any) -> None:
    # The operator sets the gateway's URL; the guard on webhook receivers' addresses is not
    # applied to it (the gateway here is on 127.0.0.1).
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False  # the default
    sms.send_sms("13912345678", "text")
    assert len(gateway.accepted) == 1


def test_an_unreachable_gateway_is_an_sms_error(settings: Any) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.SMS_BACKEND = "notifications.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{port}/sms"
    settings.SMS_GATEWAY_SECRET = SECRET
    with pytest.raises(sms.SmsError, match="unreachable"):
        sms.send_sms("13912345678", "text")


@pytest.fixture
def silent_gateway(settings: Any, monkeypatch: Any) -> Iterator[None]:
    """A gateway that accepts the connection and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
    thread.start()
    monkeypatch.setattr(sms, "GATEWAY_TIMEOUT_SECONDS", 0.2)
    settings.SMS_BACKEND = "notifications.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{server.getsockname()[1]}/sms"
    settings.SMS_GATEWAY_SECRET = SECRET
    yield
    for conn in accepted:
        conn.close()
    server.close()


def test_a_gateway_that_does_not_answer_is_an_sms_error(silent_gateway: None) -> None:
    with pytest.raises(sms.SmsError, match="unreachable"):
        sms.send_sms("13912345678", "text")


@pytest.mark.parametrize("missing", ["SMS_GATEWAY_URL", "SMS_GATEWAY_SECRET"])
def test_the_gateway_needs_its_url_and_secret(settings: Any, missing: str) -> None:
    settings.SMS_BACKEND = "notifications.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = "https://sms.example.org/send"
    settings.SMS_GATEWAY_SECRET = SECRET
    setattr(settings, missing, "")
    with pytest.raises(ImproperlyConfigured, match=missing):
        sms.send_sms("13912345678", "text")


def test_the_gateway_url_must_be_http(settings: Any) -> None:
    settings.SMS_BACKEND = "notifications.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = "file:///etc/passwd"
    settings.SMS_GATEWAY_SECRET = SECRET
    with pytest.raises(ImproperlyConfigured, match="http"):
        sms.send_sms("13912345678", "text")


PRINT_SMS_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.SMS_BACKEND, s.SMS_GATEWAY_URL, s.NOTIFY_MAX_ATTEMPTS, s.NOTIFY_BATCH)"
)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # Compose passes SMS_BACKEND empty when it is not set: production means the gateway.
        ({"SMS_BACKEND": ""}, "notifications.sms.HttpGatewayBackend  5 100"),
        (
            {
                "SMS_BACKEND": "notifications.sms.ConsoleBackend",
                "SMS_GATEWAY_URL": "https://sms.example.org/send",
                "NOTIFY_MAX_ATTEMPTS": "8",
                "NOTIFY_BATCH": "20",
            },
            "notifications.sms.ConsoleBackend https://sms.example.org/send 8 20",
        ),
        ({"DJANGO_ENV": "development", "SMS_BACKEND": ""}, "notifications.sms.ConsoleBackend"),
    ],
)
def test_settings_choose_the_backend(
    tmp_path: Path, overrides: dict[str, str], expected: str
) -> None:
    result = run(["-c", PRINT_SMS_SETTINGS], production_env(tmp_path, **overrides))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(expected)
