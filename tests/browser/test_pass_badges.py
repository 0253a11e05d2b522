"""The pass behind the driver's signed link, on a phone, for a whitelisted truck: the priority
lane and the multi-entry pass's end are shown above the code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PHONE, open_page
from tests.factories import CheckpointFactory, at, make_trip, whitelisted_company
from tests.factories import dispatcher as make_dispatcher
from trucks import links
from trucks.models import Pass

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_priority_lane_and_multi_entry_show_on_the_drivers_phone(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    company = whitelisted_company(priority_lane=True)
    trip = make_trip(
        make_dispatcher(company),
        CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站"),
        multi_entry=True,
        planned_arrival=at(1),
        planned_departure=at(1 + 72),
    )
    page = open_page(chromium, live_server, PHONE)

    page.goto(live_server.url + links.pass_link_path(Pass.objects.get(trip=trip)))

    assert page.locator("[data-priority-lane]").is_visible()
    assert page.locator("[data-multi-entry]").is_visible()
    # Above the code, where the driver looks first.
    lane = page.locator("[data-priority-lane]").bounding_box()
    code = page.locator(".qr-box").bounding_box()
    assert lane is not None and code is not None and lane["y"] < code["y"]
    page.screenshot(path=str(screenshots / "pass-priority-lane-phone.png"), full_page=True)
    assert not page.errors and not page.outside_requests
