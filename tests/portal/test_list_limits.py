"""Every paginated list caps ?limit=: a limit past the database's integer range (which
schemathesis sends) is a full page, never a failed query."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from handover import events, subscriptions
from tests.factories import CompanyFactory, UserFactory, make_trip

pytestmark = pytest.mark.django_db

HUGE = str(2**91)


@pytest.fixture
def official() -> User:
    return UserFactory(role="official")


@pytest.fixture
def lists(official: User, dispatcher: User, checkpoint: Any) -> dict[str, User]:
    """Each list, as a user who sees at least one row of it."""
    trip = make_trip(dispatcher, checkpoint)
    CompanyFactory(is_consignee=True)
    subscription = subscriptions.subscription_create(
        actor=official,
        name="焦作物流园",
        url="https://park.example.cn/in",
        event_types=["trip.entered"],
    )
    events.emit(event="trip.entered", trip=trip, key="entered")
    return {
        "/api/v1/trips/": dispatcher,
        "/api/v1/regions/": dispatcher,
        "/api/v1/consignees/": dispatcher,
        "/api/v1/checkpoints/": dispatcher,
        "/api/v1/webhooks/": official,
        f"/api/v1/webhooks/{subscription.pk}/deliveries/": official,
    }


@pytest.mark.parametrize(
    "index",
    range(6),
    ids=["trips", "regions", "consignees", "checkpoints", "webhooks", "deliveries"],
)
@pytest.mark.parametrize("query", [{"limit": HUGE}, {"limit": HUGE, "offset": "0"}])
def test_a_huge_limit_is_capped(
    api_client: Any, lists: dict[str, User], index: int, query: dict[str, str]
) -> None:
    url, user = list(lists.items())[index]
    api_client.force_authenticate(user)

    r = api_client.get(url, query)

    assert r.status_code == 200, r.content[:300]
    assert 1 <= len(r.json()["results"]) <= 1000
