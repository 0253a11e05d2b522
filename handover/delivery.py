"""Sending hand-over webhooks (queued by ``handover.webhooks``): claim, sign, POST, record.

What a receiver gets
--------------------
An HTTP ``POST`` of a JSON body (UTF-8) to the subscription's URL, with these headers:

- ``Content-Type: application/json``
- ``X-Passcode-Event``: the event, e.g. ``trip.entered``
- ``X-Passcode-Delivery``: the delivery's id, also the body's ``id``. A delivery may arrive
  more than once (see below): a receiver that has seen the id already answers 2xx and ignores it.
- ``X-Passcode-Timestamp``: when this attempt was signed, in Unix seconds
- ``X-Passcode-Signature``: ``v1=`` followed by the lower-case hex HMAC-SHA256, keyed with the
  subscription's secret (as UTF-8), of ``f"{timestamp}.{body}"``, the timestamp header and the
  raw body bytes joined by a full stop.

The receiver recomputes the signature over the raw body it received (before parsing it),
compares in constant time, and refuses a timestamp more than five minutes from its own clock
(``REPLAY_WINDOW``): the timestamp is signed, so a captured request cannot be replayed later
with a new one. ``verify`` below does exactly this; docs/webhooks.md has a receiver example.

Any 2xx answer within ``WEBHOOK_TIMEOUT_SECONDS`` (10 s) means delivered. Anything else (another
status, a redirect, which is not followed, a timeout, a refused connection) is retried with
exponential backoff (``backoff``) until ``WEBHOOK_MAX_ATTEMPTS`` (8) attempts, then the delivery
is failed, its last error kept for the officials' log, from which they may send it again.

Once each, and where it can break
---------------------------------
A row moves pending -> sending -> sent, or back to pending with a later ``next_attempt_at``, or
to failed. The claim (pending -> sending, the attempt counted) is one statement that skips rows
another worker holds (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite runs it under its write
lock), so two workers never send one row. Every later change is a compare-and-set on the claim
(status "sending" and the same ``claimed_at``), so a worker presumed dead, whose rows were
reclaimed, cannot overwrite what the new claimant recorded. A worker that dies between the POST
and recording the answer leaves the row in "sending"; ``deliveries_reclaim`` puts it back after
``RECLAIM_AFTER`` and it is sent again: delivery is at least once, which is why receivers
deduplicate by id.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from handover.models import WebhookDelivery
from passcode_portal.outbox import OutboxStatus

logger = logging.getLogger(__name__)

SIGNATURE_VERSION = "v1"
# How far a receiver lets the signed timestamp stray from its clock: long enough for a slow
# network and clocks a little apart, short enough that a captured request is soon worthless.
REPLAY_WINDOW = 300
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=2)
# Far beyond the time one batch takes (WEBHOOK_BATCH deliveries of at most 10 s each, and a
# task's hard limit is 5 minutes), so a row is only reclaimed from a worker that is gone.
RECLAIM_AFTER = timedelta(minutes=10)
# Enough of an error answer's body to see what the receiver complained about.
_ERROR_BODY = 200
_ERROR_LENGTH = WebhookDelivery._meta.get_field("last_error").max_length or 500


# ---------------------------------------------------------------------------------------------
# Signing


def body_of(delivery: WebhookDelivery) -> bytes:
    """The bytes sent: the queued payload with the delivery's id first, so the id is signed."""
    body = {"id": delivery.pk, **delivery.payload}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Passcode-Signature`` header for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify(
    secret: str,
    *,
    body: bytes,
    timestamp: str,
    signature: str,
    now: float | None = None,
    tolerance: int = REPLAY_WINDOW,
) -> bool:
    """What a receiver checks (written for Python receivers, and for our tests): a signature
    of this body and timestamp with this secret, and a timestamp within ``tolerance`` seconds."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)


def headers_for(delivery: WebhookDelivery, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "passcode-portal-webhooks/1",
        "X-Passcode-Event": delivery.event,
        "X-Passcode-Delivery": str(delivery.pk),
        "X-Passcode-Timestamp": str(timestamp),
        "X-Passcode-Signature": sign(delivery.subscription.secret, timestamp, body),
    }


# ---------------------------------------------------------------------------------------------
# HTTP


@dataclass(frozen=True)
class Answer:
    ok: bool
    status: int | None = None
    error: str = ""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed: urllib would turn the POST into a GET without the body, and
    a 200 to that would count as delivered. The 3xx is reported as an error instead."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _snippet(stream: Any) -> str:
    try:
        data = stream.read(_ERROR_BODY) if stream is not None else b""
    except Exception:
        return ""
    return data.decode("utf-8", "replace").strip() if isinstance(data, bytes) else ""


def post(url: str, body: bytes, headers: Mapping[str, str], *, timeout: float) -> Answer:
    """POST and classify the answer; never raises for what the network or the receiver does."""
    if urlsplit(url).scheme not in ("http", "https"):
        # The opener would also read file: and ftp: URLs; subscriptions are checked on entry,
        # and this holds for a row typed in by other means.
        return Answer(False, None, "not an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 -- the scheme is checked above
        url, data=body, headers=dict(headers), method="POST"
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = int(response.status)
            response.read(_ERROR_BODY)  # a little of the body, so the connection ends cleanly
    except urllib.error.HTTPError as error:
        text = _snippet(error)
        error.close()
        message = f"HTTP {error.code}: {text}" if text else f"HTTP {error.code}"
        return Answer(False, error.code, message)
    except (OSError, http.client.HTTPException, ValueError) as error:
        # URLError (refused, DNS), timeouts and TLS failures are OSErrors; a malformed answer is
        # an HTTPException; a URL urllib cannot use is a ValueError.
        reason = getattr(error, "reason", None) or error
        return Answer(False, None, f"{type(error).__name__}: {reason}")
    if 200 <= status < 300:
        return Answer(True, status)
    return Answer(False, status, f"HTTP {status}")


# ---------------------------------------------------------------------------------------------
# Claiming, sending, recording


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s, 1, 2, 4, 8, 16, 32 min, ... up to
    2 h; the seven waits between eight attempts add up to a little over an hour."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def _claim_sql(vendor: str) -> str:
    qn = connection.ops.quote_name
    table = qn(WebhookDelivery._meta.db_table)
    # PostgreSQL: rows another worker is claiming right now are skipped, not waited for, so
    # workers racing for the same rows each take different ones. SQLite has no row locks: the
    # single statement runs under the database's write lock, so it is exclusive by itself.
    lock = " FOR UPDATE SKIP LOCKED" if vendor == "postgresql" else ""
    return (
        f"UPDATE {table} SET {qn('status')} = %s, {qn('claimed_at')} = %s, "  # noqa: S608 -- names from the model; values are parameters
        f"{qn('attempts')} = {qn('attempts')} + 1 "
        f"WHERE {qn('id')} IN (SELECT {qn('id')} FROM {table} "
        f"WHERE {qn('status')} = %s AND {qn('next_attempt_at')} <= %s "
        f"ORDER BY {qn('next_attempt_at')} LIMIT %s{lock}) "
        # Checked again on the row itself: should a claim ever wait on a row (without SKIP
        # LOCKED), the re-check after the wait sees it is no longer pending.
        f"AND {qn('status')} = %s "
        f"RETURNING {qn('id')}"
    )


def deliveries_claim(batch: int | None = None) -> list[WebhookDelivery]:
    """Claim up to ``batch`` due deliveries (pending, next attempt now or earlier) for this
    worker in one statement: each becomes "sending", stamped with the claim time, its attempt
    counted. They are then read in one query with their subscriptions."""
    batch = batch or settings.WEBHOOK_BATCH
    now = timezone.now()
    # A raw statement gets no field adaptation: adapt the time as the ORM stores it (on SQLite,
    # text in UTC without an offset, which is compared as text).
    db_now = connection.ops.adapt_datetimefield_value(now)
    # One transaction for the claim and the read: if the read fails, the claim is undone
    # rather than left "sending" until the sweep.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            _claim_sql(connection.vendor),
            [
                OutboxStatus.SENDING,
                db_now,
                OutboxStatus.PENDING,
                db_now,
                batch,
                OutboxStatus.PENDING,
            ],
        )
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return []
        # Only this claim's rows: one reclaimed and claimed by another worker in between carries
        # another claim time.
        return list(
            WebhookDelivery.objects.filter(pk__in=ids, status=OutboxStatus.SENDING, claimed_at=now)
            .select_related("subscription")
            .order_by("next_attempt_at", "pk")
        )


def _claim_of(delivery: WebhookDelivery) -> Q:
    """The row as this worker claimed it: still "sending" under the same claim."""
    return Q(pk=delivery.pk, status=OutboxStatus.SENDING, claimed_at=delivery.claimed_at)


def delivery_send(delivery: WebhookDelivery) -> bool:
    """Sign and POST one claimed delivery and record the answer; True if it was delivered. A
    failure is recorded on the row, never raised."""
    subscription = delivery.subscription
    if not subscription.active:
        # Switched off after the event was queued: not sent. It stays in the log, failed, and
        # an official may send it again once the subscription is active.
        _record(delivery, Answer(False, None, "subscription inactive"), final=True)
        return False
    timestamp = int(timezone.now().timestamp())
    body = body_of(delivery)
    answer = post(
        subscription.url,
        body,
        headers_for(delivery, body, timestamp),
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
    )
    if not answer.ok:
        logger.info("Webhook delivery %s failed: %s", delivery.pk, answer.error)
    _record(delivery, answer)
    return answer.ok


def _record(delivery: WebhookDelivery, answer: Answer, *, final: bool = False) -> None:
    now = timezone.now()
    changes: dict[str, Any] = {"response_status": answer.status}
    if answer.ok:
        changes.update(status=OutboxStatus.SENT, delivered_at=now, last_error="")
    elif final or delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        changes.update(status=OutboxStatus.FAILED, last_error=answer.error[:_ERROR_LENGTH])
    else:
        changes.update(
            status=OutboxStatus.PENDING,
            next_attempt_at=now + backoff(delivery.attempts),
            last_error=answer.error[:_ERROR_LENGTH],
        )
    if not WebhookDelivery.objects.filter(_claim_of(delivery)).update(**changes):
        # Reclaimed while we were sending (we were presumed dead), or the subscription was
        # deleted: the new claimant, or nobody, decides.
        logger.warning("Webhook delivery %s changed hands while being sent.", delivery.pk)


def deliveries_release(deliveries: Iterable[WebhookDelivery]) -> int:
    """Give claimed rows that were not tried back to the queue at once, their attempt not
    counted (a task stopped in the middle of a batch)."""
    rows = list(deliveries)
    if not rows:
        return 0
    return WebhookDelivery.objects.filter(
        pk__in=[r.pk for r in rows],
        status=OutboxStatus.SENDING,
        claimed_at__in={r.claimed_at for r in rows},
    ).update(status=OutboxStatus.PENDING, attempts=F("attempts") - 1, claimed_at=None)


def deliveries_send_due(*, batch: int | None = None, deadline: datetime | None = None) -> int:
    """Claim and send due deliveries, batch after batch, until none is due or ``deadline``
    passes. Returns how many were delivered."""
    delivered = 0
    while deadline is None or timezone.now() < deadline:
        rows = deliveries_claim(batch)
        if not rows:
            break
        for i, row in enumerate(rows):
            if deadline is not None and timezone.now() >= deadline:
                deliveries_release(rows[i:])
                return delivered
            try:
                delivered += delivery_send(row)
            except BaseException:
                # Stopped mid-batch (time limit, shutdown, database gone): the rows not yet
                # tried go back now instead of waiting for the sweep.
                try:
                    deliveries_release(rows[i + 1 :])
                except Exception:
                    logger.warning("Could not release claimed deliveries", exc_info=True)
                raise
    return delivered


def deliveries_reclaim(older_than: timedelta = RECLAIM_AFTER) -> int:
    """Put deliveries stuck in "sending" (their worker died) back to pending, due now; one that
    has used all its attempts fails instead, so a delivery that kills its worker is not retried
    forever. Two statements, whatever the count. Returns how many were put back."""
    now = timezone.now()
    stuck = WebhookDelivery.objects.filter(
        status=OutboxStatus.SENDING, claimed_at__lt=now - older_than
    )
    stuck.filter(attempts__gte=settings.WEBHOOK_MAX_ATTEMPTS).update(
        status=OutboxStatus.FAILED,
        last_error="the sender stopped while sending, on every attempt",
    )
    return stuck.update(status=OutboxStatus.PENDING, next_attempt_at=now, claimed_at=None)
