"""Two senders racing over the same rows send each exactly once (issue 4, fault tests). Run on
PostgreSQL, where the claim's FOR UPDATE SKIP LOCKED is what is under test."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from notifications import sending as notify
from notifications import sms
from notifications.models import Notification
from passcode_portal.outbox import OutboxStatus
from tests.notifications.notifying import overdue_exit_rows, sms_outbox_fixture  # noqa: F401 -- fixtures

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Row locks (FOR UPDATE SKIP LOCKED) are what is tested; CI runs on PostgreSQL. "
        "SQLite runs each claim under its database write lock, so claims cannot interleave.",
    ),
    pytest.mark.django_db(transaction=True),
]

ROWS = 200
SENDERS = 2
WAIT = 60.0  # seconds: a bound on the threads, never reached when all is well


def test_two_senders_racing_send_each_row_once(sms_outbox: list[sms.SentSms]) -> None:
    rows = overdue_exit_rows(ROWS)
    start = threading.Barrier(SENDERS)
    sent_by: list[list[int]] = [[] for _ in range(SENDERS)]
    errors: list[BaseException] = []
    real_send = notify.notification_send

    def sender(index: int) -> None:
        try:
            start.wait(WAIT)
            while True:
                # Small batches, so the two senders claim many times, side by side.
                claimed = notify.notifications_claim(7)
                if not claimed:
                    break
                for row in claimed:
                    if real_send(row):
                        sent_by[index].append(row.pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)

    assert not errors
    assert not any(t.is_alive() for t in threads)
    # Both took part (else there was no race), and no row went to both.
    assert all(sent_by), [len(s) for s in sent_by]
    assert not set(sent_by[0]) & set(sent_by[1])
    phones = Counter(message.phone for message in sms_outbox)
    assert len(sms_outbox) == ROWS
    assert set(phones) == {r.recipient for r in rows}
    assert max(phones.values()) == 1
    assert Notification.objects.filter(status=OutboxStatus.SENT, attempts=1).count() == ROWS
