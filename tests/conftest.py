from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Every test database holds all of China's regions, loaded once per session."""
    with django_db_blocker.unblock():
        call_command("load_regions", stdout=io.StringIO())
    yield
