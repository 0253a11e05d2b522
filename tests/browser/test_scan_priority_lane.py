"""The priority lane on the scan page: a whitelisted truck whose entry gives it the lane shows it
across the verdict ("优先通道"), a truck of another company does not; and the whitelist page, on a
phone and a desktop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PHONE, TABLET, open_page
from tests.browser.scanpage import (
    open_scan_page,
    scan_with_handheld,
    sign_in,
    wait_for_verdict,
)
from tests.factories import (
    CheckpointFactory,
    UserFactory,
    at,
    make_trip,
    staff_user,
    whitelisted_company,
)
from tests.factories import dispatcher as make_dispatcher
from trucks.models import Pass
from trucks.services import pass_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1440, "height": 900}


def token_for(actor: Any, checkpoint: Any, plate: str) -> str:
    trip = make_trip(
        actor,
        checkpoint,
        vehicle_plate=plate,
        cargo_category="medical",
        planned_arrival=at(0.5),
        planned_departure=at(12),
    )
    return pass_token(Pass.objects.get(trip=trip))


def test_a_whitelisted_truck_shows_the_priority_lane(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站")
    staff_user(checkpoint, username="gate")
    company = whitelisted_company(plates=["豫HB6620"], priority_lane=True)
    lane = token_for(make_dispatcher(company), checkpoint, "豫HB6620")
    plain = token_for(make_dispatcher(), checkpoint, "豫H12345")
    page = open_page(chromium, live_server, TABLET)
    sign_in(page, live_server, "gate")
    open_scan_page(page, live_server, checkpoint.code)

    scan_with_handheld(page, lane)
    wait_for_verdict(page, "admit", "ok")
    banner = page.locator("#verdict [data-show=priority]")
    assert banner.is_visible()
    assert "优先通道" in banner.inner_text()
    box = banner.bounding_box()
    assert box is not None and box["height"] >= 40  # seen across the lane, not small print
    page.screenshot(path=str(screenshots / "scan-priority-lane.png"))

    page.click("#verdict [data-action=next]")
    scan_with_handheld(page, plain)
    wait_for_verdict(page, "admit", "ok")
    assert not banner.is_visible()


@pytest.mark.parametrize(("size", "name"), [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_the_whitelist_page_reads_on_a_phone_and_a_desktop(
    chromium: Any, live_server: Any, screenshots: Path, size: dict[str, int], name: str
) -> None:
    UserFactory(role="official", username="official", first_name="指挥部")
    whitelisted_company(plates=["豫HB6620", "豫H12345"], cargo_categories=["medical"], until=at(48))
    whitelisted_company(priority_lane=True, reason="民生物资保供")
    page = open_page(chromium, live_server, size)
    sign_in(page, live_server, "official")

    page.goto(f"{live_server.url}/dashboard/whitelist/")
    assert page.locator(".whitelist-expiring [data-entry]").count() == 1
    page.screenshot(path=str(screenshots / f"whitelist-{name}.png"), full_page=True)
    # Horizontal scrolling stays inside the tables' own boxes.
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]

    page.click(".whitelist-expiring [data-entry] a")
    page.wait_for_selector(".whitelist-form")
    page.screenshot(path=str(screenshots / f"whitelist-entry-{name}.png"), full_page=True)
