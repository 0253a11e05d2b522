"""A real Celery worker for integration tests: in this process (threads), on the broker the
settings name (Redis when REDIS_URL is set, as on CI; kombu's filesystem broker otherwise), on a
queue of its own so parallel test runs never take each other's tasks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kombu.pools
import pytest


@pytest.fixture
def celery_worker(tmp_path: Path) -> Iterator[Any]:
    from celery.contrib.testing.worker import start_worker

    from passcode_portal.celery import app

    saved = {
        "task_default_queue": app.conf.task_default_queue,
        "broker_transport_options": dict(app.conf.broker_transport_options or {}),
    }
    queue = f"test-{uuid.uuid4().hex}"
    app.conf.task_default_queue = queue
    if str(app.conf.broker_url).startswith("filesystem"):
        folder = tmp_path / "broker"
        (folder / "queue").mkdir(parents=True)
        (folder / "processed").mkdir()
        (folder / "control").mkdir()
        app.conf.broker_transport_options = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }
    _reset_pool(app)
    with start_worker(
        app,
        pool="solo",
        concurrency=1,
        perform_ping_check=False,
        queues=[queue],
        shutdown_timeout=15,
        loglevel="WARNING",
    ):
        yield app
    app.conf.update(saved)
    _reset_pool(app)


def _reset_pool(app: Any) -> None:
    """Drop the producer connections made with the old broker options; the next send opens new
    ones with the options in force."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    # The producer pool caches the connection pool it was made from; kombu keeps pools of its
    # own per connection too.
    app.amqp._producer_pool = None
    kombu.pools.reset()
