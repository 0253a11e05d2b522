"""The lifecycle's Celery tasks and their beat schedule (issue 4 items 1 and 6): every periodic
entry names a registered task, at the period the design asks for, and every task survives
faults: late acknowledgement, retries with backoff on a database that went away, time limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.db import OperationalError

from passcode_portal.celery import app

LIFECYCLE = {
    "trucks.tasks.expire_passes": 60.0,
    "notifications.tasks.send_reminders": 300.0,
    "checkpoints.tasks.flag_overdue_trips": 300.0,
    "trucks.tasks.regrade_stale": 600.0,
    "trucks.tasks.anonymise_personal_data": "daily",
    "checkpoints.tasks.anonymise_walk_ins": "daily",
}
ON_DEMAND = ["trucks.tasks.regrade_region", "trucks.tasks.regrade_all"]


@pytest.fixture(scope="module")
def tasks() -> dict[str, object]:
    app.loader.import_default_modules()  # what a worker does: autodiscovery of <app>.tasks
    return dict(app.tasks)


def test_beat_runs_each_lifecycle_task_at_its_period(tasks: dict[str, object]) -> None:
    scheduled = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name, period in LIFECYCLE.items():
        assert name in tasks, name
        entry = scheduled[name]
        if period == "daily":
            schedule = entry["schedule"]
            assert isinstance(schedule, crontab)
            assert schedule.remaining_estimate(schedule.now()) <= timedelta(days=1)
        else:
            assert entry["schedule"] == period
        # A run that waited longer than its period is dropped: the next does the same work.
        assert entry["options"]["expires"] <= (period if period != "daily" else 3600.0)


def test_every_lifecycle_task_is_acknowledged_late_retried_and_limited(
    tasks: dict[str, object],
) -> None:
    for name in [*LIFECYCLE, *ON_DEMAND]:
        task = tasks[name]
        assert task.acks_late is True, name  # type: ignore[attr-defined]
        assert OperationalError in task.autoretry_for, name  # type: ignore[attr-defined]
        assert task.retry_backoff, name  # type: ignore[attr-defined]
        assert 0 < task.soft_time_limit < task.time_limit <= 300, name  # type: ignore[attr-defined]
    assert settings.LIFECYCLE_TASK_BUDGET_SECONDS < 240
