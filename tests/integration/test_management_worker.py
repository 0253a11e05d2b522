"""The officials' management pages end to end through a real Celery worker (Redis on CI, the
filesystem broker with nothing set): a policy published on the page, and a city set high-risk
with everything below it, are followed by the worker regrading the active passes, which then
have the colours the preview foretold."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import CheckpointFactory, UserFactory
from tests.integration.test_lifecycle_worker import wait_for
from tests.lifecycle import bulk_passes
from trucks import services
from trucks.models import Pass

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def official_client(regions: None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(UserFactory(role="official"))
    return client


@pytest.fixture
def passes(regions: None) -> list[Pass]:
    """Five green passes tested 10 hours before arrival: two from 焦作市中站区, three from
    常州市武进区."""
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    now = timezone.now()
    window = {"valid_from": now - timedelta(hours=1), "valid_until": now + timedelta(days=1)}
    return bulk_passes(2, checkpoint=checkpoint, origin="410803", **window) + bulk_passes(
        3, checkpoint=checkpoint, origin="320412", **window
    )


def colours() -> dict[str, int]:
    found: dict[str, int] = {}
    for colour in Pass.objects.values_list("colour", flat=True):
        found[colour] = found.get(colour, 0) + 1
    return found


def test_a_policy_published_on_the_page_is_regraded_by_the_worker(
    celery_worker: Any, official_client: Client, passes: list[Pass]
) -> None:
    body: dict[str, Any] = {
        name: getattr(services.policy_current(), name)
        for name in services.POLICY_FIELDS
        if name not in ("note", "strict_checkpoint")
    }
    body.update(test_max_age_hours=8, note="检测 8 小时有效")

    preview = official_client.post("/dashboard/policy/", {**body, "action": "preview"})
    assert "5 of the 5 active passes concerned would change colour" in preview.content.decode()
    published = official_client.post(
        "/dashboard/policy/", {**body, "based_on": "1", "action": "publish"}
    )

    assert published.status_code == 302
    wait_for(lambda: colours() == {"yellow": 5})
    assert set(Pass.objects.values_list("policy_version", flat=True)) == {2}


def test_a_city_set_high_on_the_page_is_regraded_by_the_worker(
    celery_worker: Any, official_client: Client, passes: list[Pass]
) -> None:
    body = {"regions": ["410800"], "risk_level": "high", "below": "on", "reason": "全域高风险"}
    preview = official_client.post("/dashboard/regions/", {**body, "action": "preview"})
    assert "2 of the 2 active passes concerned would change colour" in preview.content.decode()
    found = re.search(r'name="seen" value="(\w+)"', preview.content.decode())
    assert found
    saved = official_client.post(
        "/dashboard/regions/", {**body, "seen": found.group(1), "action": "save"}
    )

    assert saved.status_code == 302
    wait_for(lambda: colours() == {"red": 2, "green": 3})
