"""Changing a trip's driver on the trip page, in a browser, at phone and desktop widths: the
dispatcher picks one of the company's drivers or types a new one, a fault shows on the form, and
the change shows on the page afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PHONE, TABLET, open_page
from tests.browser.scanpage import sign_in
from tests.factories import (
    CheckpointFactory,
    CompanyFactory,
    dispatcher,
    make_trip,
    valid_id_number,
    valid_phone,
)
from trucks.models import Driver, PassStatus, Trip

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "viewport"), [("phone", PHONE), ("desktop", TABLET)])
def test_a_dispatcher_changes_the_driver_on_the_trip_page(
    chromium: Any,
    live_server: Any,
    regions: None,
    screenshots: Path,
    width: str,
    viewport: dict[str, int],
) -> None:
    company = CompanyFactory()
    user = dispatcher(company)
    trip = make_trip(user, CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站"))
    chosen = Driver.objects.create(
        company=company, name="赵师傅", id_number=valid_id_number(), phone=valid_phone()
    )
    page = open_page(chromium, live_server, viewport)
    sign_in(page, live_server, user.username)
    page.goto(f"{live_server.url}/trips/{trip.pk}/")

    page.click("#driver > summary")
    page.fill("#id_driver-name", "钱师傅")
    page.fill("#id_driver-id_number", "410802198506120001")  # a bad check character
    page.fill("#id_driver-phone", valid_phone())
    page.fill("#id_driver-test_sampled_at", "2026-01-01T08:00")
    page.click("[data-driver-form] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#id_driver-id_number_error").is_visible()
    page.locator("#driver").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"change-driver-error-{width}.png"), full_page=True)

    page.select_option("#id_driver-driver_id", str(chosen.pk))
    page.fill("#id_driver-name", "")
    page.fill("#id_driver-id_number", "")
    page.fill("#id_driver-phone", "")
    page.click("[data-driver-form] button[type=submit]")
    page.wait_for_load_state()

    assert "赵师傅" in page.locator(".messages, [role=status]").first.inner_text()
    assert page.locator('[data-change="driver"]').count() == 1
    page.screenshot(path=str(screenshots / f"change-driver-done-{width}.png"), full_page=True)
    trip = Trip.objects.get(pk=trip.pk)
    assert trip.driver == chosen
    assert trip.passes.filter(status=PassStatus.ACTIVE).count() == 1
    assert not page.errors and not page.outside_requests
