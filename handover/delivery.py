"""Sending hand-over webhooks (queued by ``handover.events``): claim, sign, POST, record.

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

The request goes through ``passcode_portal.http``: a receiver whose address is private,
loopback, link-local or otherwise not public is refused before anything is sent (unless
``OUTBOUND_ALLOW_PRIVATE_ADDRESSES``), and the delivery fails at once with the reason, since
retrying would not change it.

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
deduplicate by id. The claim, the compare-and-set, backoff and the sweep are
``passcode_portal.outbox``, shared with the notifications.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from handover.models import WebhookDelivery
from passcode_portal import http as outbound
from passcode_portal.outbox import Outbox

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


# ---------------------------------------------------------------------------------------------
# Signing


def body_of(delivery: WebhookDelivery) -> bytes:
    """The bytes sent: the queued payload with the delivery's id first, so the id is signed."""
    body = {"id": delivery.pk, **delivery.payload}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Passcode-Signature`` header for ``body`` sent at ``timestamp``."""
    return f"{SIGNATURE_VERSION}={outbound.hmac_sha256_hex(secret, str(timestamp), body)}"


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


def headers_for(delivery: WebhookDelivery) -> dict[str, str]:
    """The headers besides the timestamp and signature (``signer_for`` adds those)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "passcode-portal-webhooks/1",
        "X-Passcode-Event": delivery.event,
        "X-Passcode-Delivery": str(delivery.pk),
    }


def signer_for(secret: str) -> outbound.Signer:
    """``X-Passcode-Timestamp`` and ``X-Passcode-Signature`` (``sign``), added by the client
    from the exact body it sends, at the moment it sends it."""
    return outbound.hmac_signer(
        secret,
        timestamp_header="X-Passcode-Timestamp",
        signature_header="X-Passcode-Signature",
        prefix=f"{SIGNATURE_VERSION}=",
    )


# ---------------------------------------------------------------------------------------------
# HTTP


@dataclass(frozen=True)
class Answer:
    ok: bool
    status: int | None = None
    error: str = ""
    # Retrying cannot help (the receiver's address is refused): the delivery fails at once.
    final: bool = False


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    sign: outbound.Signer | None = None,
) -> Answer:
    """POST through ``passcode_portal.http`` (one deadline, no redirects, a bounded read, the
    address guard) and classify the answer; never raises for what the network or the receiver
    does."""
    try:
        response = outbound.post(
            url, body, headers=headers, timeout=timeout, sign=sign, max_body=_ERROR_BODY
        )
    except outbound.AddressRefused as error:
        return Answer(False, None, str(error), final=True)
    except outbound.HttpError as error:
        return Answer(False, None, str(error))
    if response.ok:
        return Answer(True, response.status)
    # Another status, a redirect (not followed) included: a little of the body says why.
    text = response.text(_ERROR_BODY)
    message = f"HTTP {response.status}: {text}" if text else f"HTTP {response.status}"
    return Answer(False, response.status, message)


# ---------------------------------------------------------------------------------------------
# Claiming, sending, recording


# The claim, the compare-and-set on it, backoff, release and reclaim (passcode_portal.outbox).
OUTBOX: Outbox[WebhookDelivery] = Outbox(
    WebhookDelivery,
    done_field="delivered_at",
    max_attempts_setting="WEBHOOK_MAX_ATTEMPTS",
    batch_setting="WEBHOOK_BATCH",
    backoff_first=BACKOFF_FIRST,
    backoff_max=BACKOFF_MAX,
    reclaim_after=RECLAIM_AFTER,
    select_related=("subscription",),
    label="webhook deliveries",
)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s, 1, 2, 4, 8, 16, 32 min, ... up to
    2 h; the seven waits between eight attempts add up to a little over an hour."""
    return OUTBOX.backoff(attempts)


def deliveries_claim(batch: int | None = None) -> list[WebhookDelivery]:
    """Claim up to ``batch`` (WEBHOOK_BATCH) due deliveries (pending, next attempt now or
    earlier) for this worker in one statement: each becomes "sending", stamped with the claim
    time, its attempt counted. They are read with their subscriptions."""
    return OUTBOX.claim(batch)


def delivery_send(delivery: WebhookDelivery) -> bool:
    """Sign and POST one claimed delivery and record the answer; True if it was delivered. A
    failure is recorded on the row, never raised."""
    subscription = delivery.subscription
    if not subscription.active:
        # Switched off after the event was queued: not sent. It stays in the log, failed, and
        # an official may send it again once the subscription is active.
        _record(delivery, Answer(False, None, "subscription inactive"), final=True)
        return False
    answer = post(
        subscription.url,
        body_of(delivery),
        headers_for(delivery),
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        sign=signer_for(subscription.secret),
    )
    if not answer.ok:
        logger.info("Webhook delivery %s failed: %s", delivery.pk, answer.error)
    _record(delivery, answer, final=answer.final)
    return answer.ok


def _record(delivery: WebhookDelivery, answer: Answer, *, final: bool = False) -> None:
    if answer.ok:
        recorded = OUTBOX.record_sent(delivery, response_status=answer.status, last_error="")
    else:
        recorded = OUTBOX.record_failure(
            delivery, answer.error, final=final, response_status=answer.status
        )
    if not recorded:
        # Reclaimed while we were sending (we were presumed dead), or the subscription was
        # deleted: the new claimant, or nobody, decides.
        logger.warning("Webhook delivery %s changed hands while being sent.", delivery.pk)


def deliveries_release(deliveries: Iterable[WebhookDelivery]) -> int:
    """Give claimed rows that were not tried back to the queue at once, their attempt not
    counted (a task stopped in the middle of a batch)."""
    return OUTBOX.release(deliveries)


def deliveries_send_due(*, batch: int | None = None, deadline: datetime | None = None) -> int:
    """Claim and send due deliveries, batch after batch, until none is due or ``deadline``
    passes (rows claimed but not tried by then go back at once). Returns how many were
    delivered."""
    return OUTBOX.send_due(delivery_send, batch=batch, deadline=deadline)


def deliveries_reclaim(older_than: timedelta = RECLAIM_AFTER) -> int:
    """Put deliveries stuck in "sending" (their worker died) back to pending, due now; one that
    has used all its attempts fails instead, so a delivery that kills its worker is not retried
    forever. Two statements, whatever the count. Returns how many were put back."""
    return OUTBOX.reclaim(older_than)
