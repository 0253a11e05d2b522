from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import signals
from django.core.cache import cache
from django.core.management import call_command
from django.db import close_old_connections

from passcode_portal import ttlcache


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Process-local caches (token users, sessions taken on trust, checkpoints, the policy) and
    the scan throttle's counts (in Django's cache) outlive a test's transaction, and ids and
    checkpoint codes come back in the next test: a value kept by one test could answer another.
    Every test starts and ends with none."""
    ttlcache.clear_all()
    cache.clear()
    yield
    ttlcache.clear_all()
    cache.clear()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Every test database holds all of China's regions, loaded once per session."""
    with django_db_blocker.unblock():
        call_command("load_regions", stdout=io.StringIO())
    yield


@pytest.fixture
def regions(db: None) -> None:
    """For transactional tests (live_server): the database is flushed after each of them, so
    the regions loaded at session start may be gone; load them again if so."""
    from places.models import Region

    if not Region.objects.filter(code="410800").exists():
        call_command("load_regions", stdout=io.StringIO())


@pytest.fixture
def checkpoint(db: None) -> Any:
    from tests.factories import CheckpointFactory

    return CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站")


@pytest.fixture
def company(db: None) -> Any:
    from tests.factories import CompanyFactory

    return CompanyFactory()


@pytest.fixture
def dispatcher(company: Any) -> Any:
    from tests.factories import dispatcher

    return dispatcher(company)


@pytest.fixture
def api_client() -> Any:
    """DRF's test client; log in with ``force_authenticate`` or a token."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def trip_payload(checkpoint: Any) -> Any:
    """Builds the JSON body of ``POST /api/v1/trips/``: a valid green trip, with overrides."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import valid_id_number, valid_phone, valid_plate

    def build(**overrides: Any) -> dict[str, Any]:
        now = timezone.now()
        body: dict[str, Any] = {
            "vehicle_plate": valid_plate(),
            "driver": {"name": "李师傅", "id_number": valid_id_number(), "phone": valid_phone()},
            "co_riders": [],
            "origin_region": "320412",
            "travel_history": ["320400"],
            "destination_name": "焦作市某物流园",
            "destination_address": "河南省焦作市解放区民主路1号",
            "entry_checkpoint": checkpoint.code,
            "planned_arrival": (now + timedelta(hours=6)).isoformat(),
            "planned_departure": (now + timedelta(hours=30)).isoformat(),
            "cargo_category": "daily_necessities",
            "cargo_description": "蔬菜 20 吨",
            "test_result": "negative",
            "test_sampled_at": (now - timedelta(hours=10)).isoformat(),
        }
        body.update(overrides)
        return body

    return build


@pytest.fixture
def keep_the_test_transaction() -> Iterator[None]:
    """For requests through the WSGI application (tests.wsgi): a request closes stale
    connections when it starts and ends, which inside a test would close the test's own
    transaction. Django's test client unhooks the same receiver."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# Tests that take minutes start as soon as the transactional tests start (pytest-django runs
# those after the others, since each flushes the database when it ends), so that the parallel
# workers share out the rest around them instead of one worker starting them when the others
# are nearly done: the suite's wall time is then about its work halved, not that plus the
# longest test.
LONGEST_FIRST = ("tests/integration/test_import_worker.py::",)


def _transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(fixtures)
    )


@pytest.hookimpl(trylast=True)  # after pytest-django has put the transactional tests last
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    longest = [item for item in items if item.nodeid.startswith(LONGEST_FIRST)]
    rest = [item for item in items if not item.nodeid.startswith(LONGEST_FIRST)]
    start = next((n for n, item in enumerate(rest) if _transactional(item)), len(rest))
    items[:] = [*rest[:start], *longest, *rest[start:]]
