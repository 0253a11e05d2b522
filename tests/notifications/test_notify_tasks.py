"""The sender's Celery tasks: scheduled by beat, acknowledged late, bounded in time, and the
reclaim sweep that asks for a send when it put rows back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from notifications import sending as notify
from notifications import sms
from notifications import tasks as notify_tasks
from notifications.models import Notification
from passcode_portal.celery import app
from passcode_portal.outbox import OutboxStatus
from tests.lifecycle import setup_committed
from tests.notifications.notifying import (  # noqa: F401 -- fixtures
    overdue_exit_rows,
    sms_outbox_fixture,
)

pytestmark = pytest.mark.django_db


def test_beat_runs_the_sender_and_the_sweep() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["send-notifications"]["schedule"] == 30.0
    assert schedule["reclaim-notifications"]["schedule"] == 300.0
    for entry in ("send-notifications", "reclaim-notifications"):
        assert schedule[entry]["task"] in app.tasks  # registered through trucks.tasks


@pytest.mark.parametrize(
    "task", [notify_tasks.send_notifications, notify_tasks.reclaim_notifications]
)
def test_tasks_are_acknowledged_after_they_ran(task: Any) -> None:
    assert task.acks_late is True


def test_the_task_sends_what_is_due(sms_outbox: list[sms.SentSms]) -> None:
    overdue_exit_rows(3)
    result = notify_tasks.send_notifications.apply()
    assert result.get() == 3
    assert len(sms_outbox) == 3


def test_the_task_stops_claiming_when_its_time_is_spent(
    sms_outbox: list[sms.SentSms], monkeypatch: Any, settings: Any
) -> None:
    settings.NOTIFY_BATCH = 2
    overdue_exit_rows(5)
    monkeypatch.setattr(notify_tasks, "SEND_BUDGET", timedelta(0))
    assert notify_tasks.send_notifications.apply().get() == 0
    assert Notification.objects.filter(status=OutboxStatus.PENDING).count() == 5


def test_the_sweep_puts_stuck_rows_back_and_asks_for_a_send(
    django_capture_on_commit_callbacks: Any,
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        overdue_exit_rows(2)
        setup_committed()
        notify.notifications_claim()
        clock.shift(timedelta(minutes=11))
        with (
            mock.patch.object(notify_tasks.send_notifications, "apply_async") as apply_async,
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert notify_tasks.reclaim_notifications.apply().get() == 2
    apply_async.assert_called_once()
    assert Notification.objects.filter(status=OutboxStatus.PENDING).count() == 2


def test_kick_sender_waits_for_the_commit(django_capture_on_commit_callbacks: Any) -> None:
    with (
        mock.patch.object(notify_tasks.send_notifications, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        notify_tasks.kick_sender()
        apply_async.assert_not_called()
    apply_async.assert_called_once()
