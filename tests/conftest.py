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


@pytest.fixture
def regions(db: None) -> None:
    """For transactional tests (live_server): the database is flushed after each of them, so
    the regions loaded at session start may be gone; load them again if so."""
    from trucks.models import Region

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
