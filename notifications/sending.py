"""Sending the outbox (notifications queued by ``notifications.outbox``), once each.

A row moves pending -> sending -> sent, or back to pending with a later ``next_attempt_at`` when
the channel failed, or to failed after ``NOTIFY_MAX_ATTEMPTS`` attempts (officials see those and
may send them again). The claim (pending -> sending) is one statement that skips rows another
worker holds, so two workers never claim one row; every later change is a compare-and-set on the
claim (status "sending" and the same ``claimed_at``), so a worker that was presumed dead and whose
rows were reclaimed cannot overwrite what the new claimant recorded. The claim, the
compare-and-set, backoff and the sweep are ``passcode_portal.outbox``, shared with the hand-over
deliveries; this module says what is sent and how a failure counts.

Exactly once, and where it can break: a worker that dies between handing a message to the
gateway and recording "sent" leaves the row in "sending"; the sweep puts it back after
``RECLAIM_AFTER`` and it is sent again. The window is one message wide (each row is marked right
after its own send, not at the end of the batch), and the SMS carries its dedupe key as its id,
so a gateway that deduplicates drops the repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.db.models import Q, QuerySet
from django.utils import timezone

from notifications import messages, sms
from notifications.models import Notification, NotificationResend
from passcode_portal.outbox import Outbox, OutboxStatus

logger = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
# Far beyond the time one batch takes (the gateway timeout is 10 s a message, a task's hard
# limit 5 minutes), so a row is only reclaimed from a worker that is gone.
RECLAIM_AFTER = timedelta(minutes=10)
# Officials' page: a pending row older than this is late (the sender runs every 30 s).
LATE_AFTER = timedelta(minutes=10)

# The claim, the compare-and-set on it, backoff, release and reclaim (passcode_portal.outbox).
OUTBOX: Outbox[Notification] = Outbox(
    Notification,
    done_field="sent_at",
    max_attempts_setting="NOTIFY_MAX_ATTEMPTS",
    batch_setting="NOTIFY_BATCH",
    backoff_first=BACKOFF_FIRST,
    backoff_max=BACKOFF_MAX,
    reclaim_after=RECLAIM_AFTER,
    label="notifications",
)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min, ... up to 1 h."""
    return OUTBOX.backoff(attempts)


def notifications_claim(batch: int | None = None) -> list[Notification]:
    """Claim up to ``batch`` (NOTIFY_BATCH) due rows (pending, next attempt now or earlier) for
    this worker, in one statement: each becomes "sending", stamped with the claim time, its
    attempt counted. The caller sends each with ``notification_send``."""
    return OUTBOX.claim(batch)


def _deliver(row: Notification) -> None:
    """Render and hand over; raises MessageError (permanent) or anything the channel raises."""
    text = messages.render(row.template, row.context, row.language)
    if row.channel == Notification.Channel.SMS:
        sms.send_sms(row.recipient, text.sms, message_id=row.dedupe_key)
    elif row.channel == Notification.Channel.EMAIL:
        EmailMessage(
            subject=text.subject,
            body=text.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[row.recipient],
        ).send(fail_silently=False)
    else:
        raise messages.MessageError(f"unknown channel {row.channel!r}")


def notification_send(row: Notification) -> bool:
    """Send one claimed row and record the outcome; True if it was sent. A failure is recorded
    on the row (never raised): the row waits ``backoff`` and is tried again, or fails for good
    after NOTIFY_MAX_ATTEMPTS attempts, or at once when it cannot be rendered."""
    try:
        _deliver(row)
    except messages.MessageError as error:
        logger.error("Notification %s cannot be sent: %s", row.pk, error)
        _record_failure(row, str(error), final=True)
        return False
    except sms.SmsError as error:
        logger.warning("Notification %s: SMS failed: %s", row.pk, error)
        _record_failure(row, f"SMS: {error}")
        return False
    except SoftTimeLimitExceeded:
        # The task's time is up in the middle of this send: whether it went out is unknown, so
        # the row stays claimed (the sweep reclaims it) and the batch stops.
        raise
    except ImproperlyConfigured as error:
        # Loud in the log and visible on the row; the row is retried, so it goes out once the
        # configuration is fixed (or an official sends it again).
        logger.error("Notification %s: %s", row.pk, error)
        _record_failure(row, f"configuration: {error}")
        return False
    except Exception as error:  # an SMTP error, a bug in a backend: retried like any failure
        logger.warning("Notification %s failed", row.pk, exc_info=True)
        _record_failure(row, f"{row.channel}: {type(error).__name__}: {error}")
        return False
    if not OUTBOX.record_sent(row):
        # Reclaimed while we were sending (we were presumed dead): the new claimant decides.
        logger.warning("Notification %s was reclaimed while being sent.", row.pk)
    return True


def _record_failure(row: Notification, error: str, *, final: bool = False) -> None:
    OUTBOX.record_failure(row, error, final=final)


def notifications_release(rows: Iterable[Notification]) -> int:
    """Give claimed rows that were not tried back to the queue at once, their attempt not
    counted (a task stopped by its time limit in the middle of a batch)."""
    return OUTBOX.release(rows)


def notifications_send_due(*, batch: int | None = None, deadline: datetime | None = None) -> int:
    """Claim and send due rows, batch after batch, until none is due or ``deadline`` passes
    (rows claimed but not tried by then go back at once). Returns how many were sent."""
    return OUTBOX.send_due(notification_send, batch=batch, deadline=deadline)


def notifications_reclaim(older_than: timedelta = RECLAIM_AFTER) -> int:
    """Put rows stuck in "sending" (their worker died) back to pending, due now; a row that has
    used all its attempts fails instead, so a message that kills its worker is not retried
    forever. Two statements, whatever the count. Returns how many were put back."""
    return OUTBOX.reclaim(older_than)


def notifications_needing_attention(
    now: datetime | None = None,
    *,
    channel: str = "",
    template: str = "",
    state: str = "",
) -> QuerySet[Notification]:
    """What officials look at: rows given up as failed, and rows still not sent ``LATE_AFTER``
    after they were queued (the gateway is down, a worker is stuck), newest first; of one
    ``channel`` or ``template``, and only the ``state`` "failed" or "late", when asked."""
    now = now or timezone.now()
    failed = Q(status=OutboxStatus.FAILED)
    late = Q(
        status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING], created_at__lt=now - LATE_AFTER
    )
    rows = Notification.objects.filter({"failed": failed, "late": late}.get(state, failed | late))
    if channel:
        rows = rows.filter(channel=channel)
    if template:
        rows = rows.filter(template=template)
    return rows.select_related("trip").order_by("-created_at", "-pk")


def notifications_resend(ids: Iterable[int], *, actor: User | None = None) -> int:
    """An official's "send again": failed (or late pending) rows go back to the queue, due now,
    with a fresh set of attempts. Rows being sent or already sent are left alone. Each row
    queued again is audited (``NotificationResend``: who, when, the status and attempts it
    had). Returns how many were queued again; the caller kicks the sender
    (``notify_tasks.kick_sender``)."""
    return OUTBOX.send_again(
        ids,
        statuses=[OutboxStatus.FAILED, OutboxStatus.PENDING],
        audit=NotificationResend,
        actor=actor,
    )


def resends_list(*, channel: str = "", template: str = "") -> QuerySet[NotificationResend]:
    """Who sent which notification again, newest first; of one ``channel`` or ``template``."""
    resends = NotificationResend.objects.all()
    if channel:
        resends = resends.filter(notification__channel=channel)
    if template:
        resends = resends.filter(notification__template=template)
    return resends.select_related("notification__trip", "by").order_by("-at", "-pk")
