"""Sending SMS through a pluggable backend, the way Django sends e-mail.

``settings.SMS_BACKEND`` names the backend class by dotted path: ``ConsoleBackend`` in
development (messages go to the log), ``LocmemBackend`` in tests (messages collect in ``outbox``)
and ``HttpGatewayBackend`` in production (a JSON POST to the operator's gateway, signed with an
HMAC so the gateway can tell our requests from anyone else's). Every backend raises ``SmsError``
when a message could not be handed over; the caller (the outbox sender) retries later.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from passcode_portal import http as outbound

logger = logging.getLogger(__name__)

# Long enough for a slow gateway, short enough that a worker is not held: the sender's rows
# stay claimed while it waits, and a sweep reclaims rows only after minutes.
GATEWAY_TIMEOUT_SECONDS = 10
# Error texts are stored on the outbox row (last_error) and shown to officials: keep them short.
_REASON_LENGTH = 200


class SmsError(Exception):
    """A message was not accepted; ``str(error)`` is a short reason for the outbox row."""


class BaseBackend:
    def send(self, phone: str, text: str, *, message_id: str | None = None) -> None:
        """Hand one message over, or raise SmsError. ``message_id`` identifies the message
        across retries, so a gateway that supports it can drop a repeat."""
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Development: the message is logged (and so printed by the console handler)."""

    def send(self, phone: str, text: str, *, message_id: str | None = None) -> None:
        logger.info("SMS to %s: %s", phone, text)


@dataclass(frozen=True)
class SentSms:
    phone: str
    text: str
    message_id: str | None


# Tests read what was sent here, as they read django.core.mail.outbox. Appending to a list is
# atomic under the GIL; the lock keeps "clear" and "append" from interleaving across threads.
outbox: list[SentSms] = []
_outbox_lock = threading.Lock()


class LocmemBackend(BaseBackend):
    """Tests: messages are kept in ``notifications.sms.outbox``."""

    def send(self, phone: str, text: str, *, message_id: str | None = None) -> None:
        with _outbox_lock:
            outbox.append(SentSms(phone=phone, text=text, message_id=message_id))


def outbox_clear() -> None:
    with _outbox_lock:
        outbox.clear()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"``. The timestamp is signed too, so a captured
    request cannot be replayed later with a fresh timestamp; the gateway rejects old ones."""
    return outbound.hmac_sha256_hex(secret, timestamp, body)


class HttpGatewayBackend(BaseBackend):
    """Production: POST ``{"phone", "text", "id"?}`` as JSON to ``SMS_GATEWAY_URL`` with
    ``X-Timestamp`` (Unix seconds) and ``X-Signature`` (see ``signature``). Any 2xx answer is
    success; anything else (a redirect is not followed), or no answer within the timeout, is an
    SmsError. The request goes through ``passcode_portal.http``; its private-address guard is
    not applied here: the gateway's URL is set by the operator, not typed in by users, and an
    operator's gateway is often inside their own network."""

    def __init__(self) -> None:
        # Read at first use, not at import: settings are not read at import time, and a
        # production install without a gateway must fail loudly when it first sends, on the
        # outbox row and in the log, rather than lose messages to a console.
        self.url = settings.SMS_GATEWAY_URL
        self.secret = settings.SMS_GATEWAY_SECRET
        if not self.url or not self.secret:
            raise ImproperlyConfigured(
                "SMS_BACKEND is the HTTP gateway: set SMS_GATEWAY_URL and SMS_GATEWAY_SECRET."
            )
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise ImproperlyConfigured("SMS_GATEWAY_URL must be an http:// or https:// URL.")

    def send(self, phone: str, text: str, *, message_id: str | None = None) -> None:
        payload: dict[str, str] = {"phone": phone, "text": text}
        if message_id is not None:
            payload["id"] = message_id
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            answer = outbound.post(
                self.url,
                body,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "passcode-portal-sms/1",
                },
                sign=outbound.hmac_signer(
                    self.secret, timestamp_header="X-Timestamp", signature_header="X-Signature"
                ),
                timeout=GATEWAY_TIMEOUT_SECONDS,
                max_body=_REASON_LENGTH,
                allow_private=True,
            )
        except outbound.HttpError as error:
            raise SmsError(f"gateway unreachable: {error}"[:_REASON_LENGTH]) from error
        if not answer.ok:
            detail = answer.text()
            reason = f"gateway answered {answer.status}" + (f": {detail}" if detail else "")
            raise SmsError(reason[:_REASON_LENGTH])


def get_backend() -> BaseBackend:
    """The configured backend, built on each call: building one is cheap (the HTTP client keeps
    no connections), and a changed setting (a test, a fixed configuration) is seen at once. A
    misconfigured backend raises ImproperlyConfigured here, at first use."""
    backend: BaseBackend = import_string(settings.SMS_BACKEND)()
    return backend


def send_sms(phone: str, text: str, *, message_id: str | None = None) -> None:
    get_backend().send(phone, text, message_id=message_id)
