"""How long lifecycle work may run before it hands the rest to a new task."""

from __future__ import annotations

import time


def deadline_passed(deadline: float | None) -> bool:
    """``deadline`` is a ``time.monotonic()`` value: a task stops between chunks once it is
    reached and continues in a new task, well inside Celery's time limits."""
    return deadline is not None and time.monotonic() >= deadline
