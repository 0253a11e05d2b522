"""Waiting for a worker in the integration tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(condition: Callable[[], Any], seconds: float = 45) -> Any:
    """Poll until the worker has done its part: the worker runs in other threads and takes
    tasks from a real broker, so the test waits for an outcome, bounded, rather than a time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("the worker did not get there in time")
