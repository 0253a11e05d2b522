"""The worker fixture really runs tasks from the broker the settings name."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from passcode_portal.celery import app

_done = threading.Event()
_seen: list[str] = []


@app.task(name="tests.integration.record")
def record(value: str) -> None:
    _seen.append(value)
    _done.set()


@pytest.mark.django_db(transaction=True)
def test_a_task_sent_through_the_broker_runs(celery_worker: Any) -> None:
    _done.clear()
    record.delay("hello")

    assert _done.wait(timeout=30), "the worker did not run the task"
    assert _seen[-1] == "hello"
