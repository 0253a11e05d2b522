"""The officials' management pages in Chromium: an official finds 焦作市, previews setting it and
everything below it high-risk (the passes from one of its districts would go green to red),
confirms, and sees the change in the history; the policy page previews a shorter test validity.
Both pages work on a phone and on a desktop, and no request leaves for any host but the server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from places.models import Region
from tests.browser.conftest import PHONE, open_page
from tests.browser.scanpage import sign_in
from tests.factories import CheckpointFactory, UserFactory
from tests.lifecycle import bulk_passes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
def official_with_passes(regions: None) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站")
    now = timezone.now()
    window = {"valid_from": now - timedelta(hours=1), "valid_until": now + timedelta(days=1)}
    bulk_passes(3, checkpoint=checkpoint, origin="410803", **window)
    bulk_passes(2, checkpoint=checkpoint, origin="320412", **window)
    UserFactory(role="official", username="official", first_name="值班员")


def test_an_official_previews_and_sets_a_city_high_risk(
    chromium: Any, live_server: Any, official_with_passes: None, screenshots: Path
) -> None:
    page = open_page(chromium, live_server, DESKTOP)
    sign_in(page, live_server, "official")

    page.goto(f"{live_server.url}/dashboard/regions/?level=county&q=4108")
    page.screenshot(path=str(screenshots / "regions-desktop.png"), full_page=True)
    page.goto(f"{live_server.url}/dashboard/regions/?q=焦作&level=city")
    page.check("#pick-410800")
    page.check("input[name=risk_level][value=high]")
    page.check("input[name=below]")
    page.fill("input[name=reason]", "市指挥部通报")
    page.click("button[value=preview]")

    page.wait_for_selector("[data-preview]")
    assert page.locator("[data-move='green-red'] strong").inner_text() == "3"
    assert Region.objects.get(code="410800").risk_level == "low"
    page.screenshot(path=str(screenshots / "regions-preview-desktop.png"), full_page=True)

    page.click("button[value=save]")
    page.wait_for_selector(".message-success")
    assert Region.objects.get(code="410800").risk_level == "high"
    assert Region.objects.get(code="410803").risk_level == "high"
    change = page.locator(".history-change").first
    assert "值班员" in change.inner_text()
    assert "低风险" in change.locator("del").inner_text()
    assert "高风险" in change.locator("ins").inner_text()
    assert "市指挥部通报" in change.inner_text()
    row = page.locator("tr[data-region='410800']")
    assert "高风险" in row.inner_text()
    assert page.outside_requests == []
    assert page.errors == []
    page.context.close()

    phone = open_page(chromium, live_server, PHONE)
    sign_in(phone, live_server, "official")
    phone.goto(f"{live_server.url}/dashboard/regions/?q=焦作")
    phone.screenshot(path=str(screenshots / "regions-phone.png"), full_page=True)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    phone.context.close()


def test_an_official_previews_a_policy_change(
    chromium: Any, live_server: Any, official_with_passes: None, screenshots: Path
) -> None:
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = open_page(chromium, live_server, viewport)
        sign_in(page, live_server, "official")
        page.goto(f"{live_server.url}/dashboard/policy/")
        page.fill("input[name=test_max_age_hours]", "8")
        page.fill("input[name=note]", "检测有效期缩短")
        page.click("button[value=preview]")
        page.wait_for_selector("[data-preview]")
        # Tested 10 h before arrival: every one of the 5 passes would go yellow.
        assert page.locator("[data-move='green-yellow'] strong").inner_text() == "5"
        page.screenshot(path=str(screenshots / f"policy-preview-{name}.png"), full_page=True)
        if name == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.outside_requests == []
        assert page.errors == []
        page.context.close()
