from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from passcode_portal import ttlcache


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Process-local caches (token users, checkpoints, the policy) and the scan throttle's counts
    (in Django's cache) outlive a test's transaction; row ids are reused on SQLite, so a value
    kept by one test could answer another."""
    ttlcache.clear_all()
    cache.clear()
    yield
    ttlcache.clear_all()
    cache.clear()


@pytest.fixture
def staff(checkpoint: Any) -> Any:
    from tests.factories import staff_user

    return staff_user(checkpoint)


@pytest.fixture
def staff_client(api_client: Any, staff: Any) -> Any:
    api_client.force_authenticate(staff)
    return api_client
