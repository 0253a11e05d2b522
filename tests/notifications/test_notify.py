"""The outbox sender: claiming rows, sending by channel, retrying with backoff against a real
local gateway, giving up after the limit, reclaiming rows stuck in "sending", and the claim's
compare-and-set that keeps a presumed-dead worker from overwriting a new claim."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications import outbox, sms
from notifications import sending as notify
from notifications.models import Notification
from passcode_portal.outbox import OutboxStatus
from tests.notifications.notifying import (  # noqa: F401 -- fixtures
    Gateway,
    gateway_fixture,
    overdue_exit_rows,
    sms_outbox_fixture,
)

pytestmark = pytest.mark.django_db


def fresh(row: Notification) -> Notification:
    return Notification.objects.get(pk=row.pk)


def statuses() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in Notification.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


# --- Claiming ---------------------------------------------------------------------------------


def test_claim_takes_due_pending_rows_only() -> None:
    due = overdue_exit_rows(3)
    later = overdue_exit_rows(1)
    Notification.objects.filter(pk=later[0].pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    done = overdue_exit_rows(2)
    Notification.objects.filter(pk=done[0].pk).update(status=OutboxStatus.SENT)
    Notification.objects.filter(pk=done[1].pk).update(status=OutboxStatus.FAILED)

    now = timezone.now()
    with time_machine.travel(now, tick=False):
        claimed = notify.notifications_claim(10)

    assert sorted(r.pk for r in claimed) == sorted(r.pk for r in due)
    for row in claimed:
        stored = fresh(row)
        assert stored.status == OutboxStatus.SENDING
        assert stored.claimed_at == now
        assert stored.attempts == 1
        assert (row.status, row.claimed_at, row.attempts) == (OutboxStatus.SENDING, now, 1)
        assert row.context["plate"] == "豫H12345"  # JSON read back as JSON
    assert notify.notifications_claim(10) == []


def test_claims_are_disjoint() -> None:
    rows = overdue_exit_rows(10)

    batches = [notify.notifications_claim(4) for _ in range(4)]

    assert [len(b) for b in batches] == [4, 4, 2, 0]
    claimed = [r.pk for batch in batches for r in batch]
    assert sorted(claimed) == sorted(r.pk for r in rows)
    assert len(set(claimed)) == len(claimed)


def test_the_longest_waiting_rows_are_claimed_first() -> None:
    rows = overdue_exit_rows(3)
    now = timezone.now()
    for minutes, row in zip([1, 3, 2], rows, strict=True):
        Notification.objects.filter(pk=row.pk).update(
            next_attempt_at=now - timedelta(minutes=minutes)
        )
    assert [r.pk for r in notify.notifications_claim(2)] == [rows[1].pk, rows[2].pk]


@pytest.mark.parametrize("count", [5, 60])
def test_sending_costs_a_constant_number_of_claim_statements(
    sms_outbox: list[sms.SentSms], count: int
) -> None:
    overdue_exit_rows(count)

    with CaptureQueriesContext(connection) as queries:
        sent = notify.notifications_send_due(batch=100)

    assert sent == count
    claims = [q["sql"] for q in queries.captured_queries if "RETURNING" in q["sql"]]
    # One claim takes every row, the next finds none; each claim reads its rows once.
    assert len(claims) == 2
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 1
    # Each row is marked right after its own send (the window for a repeat after a crash is one
    # message wide), and nothing else.
    assert len(queries.captured_queries) == 2 + 1 + count


# --- Sending ----------------------------------------------------------------------------------


def test_an_sms_goes_out_once_and_is_marked_sent(sms_outbox: list[sms.SentSms]) -> None:
    [row] = overdue_exit_rows(1, language="en")

    assert notify.notifications_send_due() == 1
    assert notify.notifications_send_due() == 0

    [message] = sms_outbox
    assert message.phone == row.recipient
    assert "JZ-20260101-000001" in message.text
    assert "has not left the city" in message.text
    assert message.message_id == row.dedupe_key
    stored = fresh(row)
    assert stored.status == OutboxStatus.SENT
    assert stored.sent_at is not None
    assert stored.attempts == 1


def test_an_email_goes_out_through_django(settings: Any) -> None:
    settings.DEFAULT_FROM_EMAIL = "passes@example.org"
    [row] = overdue_exit_rows(
        1, channel=Notification.Channel.EMAIL, recipient="fleet@example.org", language="en"
    )

    assert notify.notifications_send_due() == 1

    [message] = mail.outbox
    assert message.to == ["fleet@example.org"]
    assert message.from_email == "passes@example.org"
    assert message.subject == "Trip JZ-20260101-000001: truck has not left the city"
    assert "豫H12345" in message.body
    assert fresh(row).status == OutboxStatus.SENT


def test_a_row_cannot_be_queued_twice() -> None:
    def row() -> Notification:
        return outbox.notification(
            channel=Notification.Channel.SMS,
            recipient="13900000001",
            template="overdue_exit",
            dedupe_key="overdue_exit:42",
        )

    outbox.queue([row()])
    outbox.queue([row()])

    assert Notification.objects.filter(dedupe_key="overdue_exit:42").count() == 1


# --- Failures ---------------------------------------------------------------------------------


def test_backoff_doubles_from_thirty_seconds_up_to_an_hour() -> None:
    assert [notify.backoff(n).total_seconds() for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert notify.backoff(20) == timedelta(hours=1)


def test_a_gateway_failing_twice_gives_one_sms_after_three_attempts(gateway: Gateway) -> None:
    gateway.statuses = [503, 502]
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        [row] = overdue_exit_rows(1)

        assert notify.notifications_send_due() == 0
        first = fresh(row)
        assert (first.status, first.attempts) == (OutboxStatus.PENDING, 1)
        assert first.next_attempt_at == start + timedelta(seconds=30)
        assert "503" in first.last_error

        # Not due yet: nothing is claimed, nothing is sent.
        clock.move_to(start + timedelta(seconds=29))
        assert notify.notifications_send_due() == 0
        assert len(gateway.requests) == 1

        clock.move_to(start + timedelta(seconds=30))
        assert notify.notifications_send_due() == 0
        second = fresh(row)
        assert (second.status, second.attempts) == (OutboxStatus.PENDING, 2)
        assert second.next_attempt_at == start + timedelta(seconds=90)
        assert "502" in second.last_error

        clock.move_to(start + timedelta(seconds=90))
        assert notify.notifications_send_due() == 1

        clock.move_to(start + timedelta(hours=2))
        assert notify.notifications_send_due() == 0

    assert len(gateway.requests) == 3
    assert len(gateway.accepted) == 1
    done = fresh(row)
    assert (done.status, done.attempts) == (OutboxStatus.SENT, 3)


def test_it_gives_up_after_the_limit(gateway: Gateway, settings: Any) -> None:
    settings.NOTIFY_MAX_ATTEMPTS = 3
    gateway.statuses = [500] * 10
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        [row] = overdue_exit_rows(1)
        for _ in range(5):
            notify.notifications_send_due()
            clock.shift(timedelta(hours=1))

    assert len(gateway.requests) == 3
    failed = fresh(row)
    assert failed.status == OutboxStatus.FAILED
    assert failed.attempts == 3
    assert failed.last_error == "SMS: gateway answered 500: upstream busy"


def test_a_row_that_cannot_be_rendered_fails_at_once(sms_outbox: list[sms.SentSms]) -> None:
    [broken] = overdue_exit_rows(1, template="no_such_template")
    [incomplete] = overdue_exit_rows(1, context={"reference": "JZ-1"})
    [good] = overdue_exit_rows(1)

    assert notify.notifications_send_due() == 1

    assert len(sms_outbox) == 1
    assert sms_outbox[0].phone == good.recipient
    assert fresh(broken).status == OutboxStatus.FAILED
    assert fresh(broken).last_error == "unknown template 'no_such_template'"
    assert fresh(incomplete).status == OutboxStatus.FAILED
    assert "needs 'plate'" in fresh(incomplete).last_error


def test_a_gateway_without_configuration_is_shown_on_the_row(settings: Any) -> None:
    settings.SMS_BACKEND = "notifications.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = ""
    [row] = overdue_exit_rows(1)

    assert notify.notifications_send_due() == 0

    stored = fresh(row)
    assert stored.status == OutboxStatus.PENDING
    assert stored.last_error.startswith("configuration: SMS_BACKEND is the HTTP gateway")


def test_an_email_server_that_is_down_is_retried(settings: Any) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    [row] = overdue_exit_rows(1, channel=Notification.Channel.EMAIL, recipient="a@example.org")

    assert notify.notifications_send_due() == 0

    stored = fresh(row)
    assert stored.status == OutboxStatus.PENDING
    assert stored.last_error.startswith("email: ConnectionRefusedError")


# --- Crashes and reclaiming -------------------------------------------------------------------


def test_rows_stuck_in_sending_are_reclaimed_and_sent_once(
    sms_outbox: list[sms.SentSms],
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        [row] = overdue_exit_rows(1)
        notify.notifications_claim()  # and the worker dies

        clock.move_to(start + timedelta(minutes=9))
        assert notify.notifications_reclaim() == 0
        assert notify.notifications_send_due() == 0

        clock.move_to(start + timedelta(minutes=11))
        assert notify.notifications_reclaim() == 1
        stored = fresh(row)
        assert (stored.status, stored.claimed_at) == (OutboxStatus.PENDING, None)
        assert stored.next_attempt_at == start + timedelta(minutes=11)

        assert notify.notifications_send_due() == 1
        assert notify.notifications_reclaim() == 0

    assert len(sms_outbox) == 1
    assert fresh(row).attempts == 2


def test_a_row_that_keeps_killing_its_worker_fails(settings: Any) -> None:
    settings.NOTIFY_MAX_ATTEMPTS = 2
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        [row] = overdue_exit_rows(1)
        for _ in range(2):
            notify.notifications_claim()
            clock.shift(timedelta(minutes=11))
            notify.notifications_reclaim()

    stored = fresh(row)
    assert stored.status == OutboxStatus.FAILED
    assert "stopped while sending" in stored.last_error


def test_a_presumed_dead_worker_cannot_overwrite_the_new_claim(gateway: Gateway) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        [row] = overdue_exit_rows(1)
        [slow] = notify.notifications_claim()  # worker A, which hangs
        clock.move_to(start + timedelta(minutes=11))
        notify.notifications_reclaim()
        [fast] = notify.notifications_claim()  # worker B

        gateway.statuses = [500]
        assert notify.notification_send(slow) is False  # A wakes up; its failure is not recorded
        stored = fresh(row)
        assert (stored.status, stored.claimed_at, stored.last_error) == (
            OutboxStatus.SENDING,
            fast.claimed_at,
            "",
        )

        assert notify.notification_send(fast) is True
        assert fresh(row).status == OutboxStatus.SENT
        assert notify.notification_send(slow) is True  # a late "sent" changes nothing either
        assert fresh(row).sent_at == start + timedelta(minutes=11)


def test_a_batch_stopped_by_the_time_limit_gives_back_the_rows_it_did_not_try(
    sms_outbox: list[sms.SentSms], monkeypatch: Any
) -> None:
    rows = overdue_exit_rows(5)
    real = sms.send_sms
    phones: list[str] = []

    def send(phone: str, text: str, **kwargs: Any) -> None:
        phones.append(phone)
        if len(phones) == 3:
            raise SoftTimeLimitExceeded  # the task's time is up during the third send
        real(phone, text, **kwargs)

    monkeypatch.setattr(sms, "send_sms", send)
    with pytest.raises(SoftTimeLimitExceeded):
        notify.notifications_send_due(batch=10)

    assert statuses() == {OutboxStatus.SENT: 2, OutboxStatus.SENDING: 1, OutboxStatus.PENDING: 2}
    # The interrupted row stays claimed (it may have gone out) until the sweep reclaims it.
    assert Notification.objects.get(status=OutboxStatus.SENDING).recipient == phones[2]
    given_back = Notification.objects.filter(status=OutboxStatus.PENDING)
    assert {r.attempts for r in given_back} == {0}
    assert {r.claimed_at for r in given_back} == {None}
    assert {r.recipient for r in given_back} == {r.recipient for r in rows} - set(phones)
