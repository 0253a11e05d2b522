"""Claimers racing over both outboxes (passcode_portal.outbox): the notifications and the
webhook deliveries, several connections each, claiming at once. No row is claimed twice, every
due row is claimed, nothing else is, and no claim takes more than its batch.

The tables are set up as after a quiet spell: the statistics were gathered when every row was
sent, then a burst of rows came due. The planner then expects next to no pending rows and picks
a nested loop; written as "id IN (subquery ... LIMIT n FOR UPDATE SKIP LOCKED)", the claim runs
its subquery again for each row and one claim takes far more than n rows (the form this test
was checked against). The claim's materialised CTE runs once, whatever the plan."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from handover import delivery as webhook_delivery
from handover.models import WebhookDelivery, WebhookSubscription
from notifications import sending as notify
from notifications.models import Notification
from passcode_portal.outbox import OutboxStatus

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Row locks (FOR UPDATE SKIP LOCKED) and the planner's choices are what is tested; "
        "CI runs on PostgreSQL. SQLite runs each claim under its database write lock, so claims "
        "cannot interleave.",
    ),
    pytest.mark.django_db(transaction=True),
]

SENT_BEFORE = 3000  # rows sent long ago, when the statistics were gathered
DUE = 150  # rows due now, per outbox
NOT_DUE = 20  # pending with a later attempt, per outbox
FAILED = 10  # given up, per outbox
CLAIMERS = 3  # per outbox
BATCH = 5
WAIT = 120.0  # seconds: a bound on the threads, never reached when all is well


def notification_rows(status: str, count: int, prefix: str, **values: Any) -> list[Notification]:
    return [
        Notification(
            channel=Notification.Channel.SMS,
            recipient=f"1370000{i:04d}",
            template="overdue_exit",
            dedupe_key=f"{prefix}:{i}",
            status=status,
            **values,
        )
        for i in range(count)
    ]


def delivery_rows(
    subscription: WebhookSubscription, status: str, count: int, prefix: str, **values: Any
) -> list[WebhookDelivery]:
    return [
        WebhookDelivery(
            subscription=subscription,
            event="trip.entered",
            payload={"event": "trip.entered"},
            dedupe_key=f"{prefix}:{i}",
            status=status,
            **values,
        )
        for i in range(count)
    ]


def fill() -> tuple[set[int], set[int]]:
    """The two tables after a quiet spell and a burst; returns the ids due now in each."""
    now = timezone.now()
    long_ago = now - timedelta(days=1)
    subscription = WebhookSubscription.objects.create(
        name="常州市货车畅行平台",
        url="https://hub.example.cn/hooks/",
        secret="whsec_race",
        event_types=["trip.entered"],
    )
    Notification.objects.bulk_create(
        notification_rows(OutboxStatus.SENT, SENT_BEFORE, "old", sent_at=long_ago, attempts=1),
        batch_size=1000,
    )
    WebhookDelivery.objects.bulk_create(
        delivery_rows(
            subscription, OutboxStatus.SENT, SENT_BEFORE, "old", delivered_at=long_ago, attempts=1
        ),
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        for model in (Notification, WebhookDelivery):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    # Due at different times in the past, so "oldest first" orders them.
    for i, row in enumerate(due := notification_rows(OutboxStatus.PENDING, DUE, "due")):
        row.next_attempt_at = now - timedelta(seconds=i + 1)
    Notification.objects.bulk_create(due)
    Notification.objects.bulk_create(
        notification_rows(
            OutboxStatus.PENDING, NOT_DUE, "later", next_attempt_at=now + timedelta(hours=1)
        )
        + notification_rows(OutboxStatus.FAILED, FAILED, "failed", next_attempt_at=long_ago)
    )
    for i, row in enumerate(hooks := delivery_rows(subscription, OutboxStatus.PENDING, DUE, "due")):
        row.next_attempt_at = now - timedelta(seconds=i + 1)
    WebhookDelivery.objects.bulk_create(hooks)
    WebhookDelivery.objects.bulk_create(
        delivery_rows(
            subscription,
            OutboxStatus.PENDING,
            NOT_DUE,
            "later",
            next_attempt_at=now + timedelta(hours=1),
        )
        + delivery_rows(
            subscription, OutboxStatus.FAILED, FAILED, "failed", next_attempt_at=long_ago
        )
    )
    return (
        set(
            Notification.objects.filter(dedupe_key__startswith="due:").values_list("pk", flat=True)
        ),
        set(
            WebhookDelivery.objects.filter(dedupe_key__startswith="due:").values_list(
                "pk", flat=True
            )
        ),
    )


def test_claimers_racing_over_both_outboxes_claim_each_due_row_once() -> None:
    due_notifications, due_deliveries = fill()
    assert len(due_notifications) == len(due_deliveries) == DUE

    claims: Sequence[tuple[str, Callable[[int], list[Any]]]] = [
        ("notifications", notify.notifications_claim),
        ("deliveries", webhook_delivery.deliveries_claim),
    ]
    claimers = [(name, claim) for name, claim in claims for _ in range(CLAIMERS)]
    start = threading.Barrier(len(claimers))
    claimed: list[list[list[int]]] = [[] for _ in claimers]
    errors: list[BaseException] = []

    def claimer(index: int, claim: Callable[[int], list[Any]]) -> None:
        try:
            start.wait(WAIT)
            while rows := claim(BATCH):
                claimed[index].append([row.pk for row in rows])
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=claimer, args=(i, claim))
        for i, (_name, claim) in enumerate(claimers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)

    assert not errors
    assert not any(t.is_alive() for t in threads)
    for name, due in (("notifications", due_notifications), ("deliveries", due_deliveries)):
        mine = [
            batches for (n, _claim), batches in zip(claimers, claimed, strict=True) if n == name
        ]
        sizes = [len(batch) for batches in mine for batch in batches]
        ids = [pk for batches in mine for batch in batches for pk in batch]
        # No claim took more than its batch...
        assert max(sizes) <= BATCH, (name, sorted(sizes, reverse=True)[:5])
        # ...no row went to two claimers (or twice to one)...
        assert len(ids) == len(set(ids)), name
        # ...and together they claimed exactly the due rows.
        assert set(ids) == due, name
        # More than one claimer took part, or there was no race.
        assert sum(1 for batches in mine if batches) > 1, (name, [len(b) for b in mine])

    for model, due in ((Notification, due_notifications), (WebhookDelivery, due_deliveries)):
        assert (
            set(
                model._default_manager.filter(status=OutboxStatus.SENDING).values_list(
                    "pk", flat=True
                )
            )
            == due
        )
        assert set(
            model._default_manager.filter(pk__in=due).values_list("attempts", flat=True)
        ) == {1}
        # The rows not due, and those given up, were left alone.
        assert model._default_manager.filter(status=OutboxStatus.PENDING).count() == NOT_DUE
        assert model._default_manager.filter(status=OutboxStatus.FAILED).count() == FAILED
