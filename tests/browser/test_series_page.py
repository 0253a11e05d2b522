"""Repeating a trip in the browser, in Chinese, on a phone and a desktop: the form on the trip
page, the series' page it leads to, and its refusal kept on the form."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.conftest import PHONE, TABLET, open_page, save_for_docs
from tests.browser.test_register_flow import fits_the_screen, sign_in
from tests.factories import CheckpointFactory, CompanyFactory, at, dispatcher, make_trip
from trucks.models import Trip, TripSeries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("viewport", "name"), [(PHONE, "phone"), (TABLET, "desktop")])
def test_a_dispatcher_repeats_a_trip_and_sees_the_series(
    chromium: Any,
    live_server: Any,
    regions: None,
    screenshots: Path,
    viewport: dict[str, int],
    name: str,
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站")
    user = dispatcher(CompanyFactory())
    trip = make_trip(user, checkpoint, planned_arrival=at(6), planned_departure=at(12))
    page = open_page(chromium, live_server, viewport)
    sign_in(page, live_server, user.username)

    page.goto(f"{live_server.url}/trips/{trip.pk}/")
    page.click("#repeat summary")
    page.fill("#id_repeat-days", "30")
    page.click("#repeat button[type=submit]")
    # Beyond the horizon: the form is open again, with the message under the field and the days
    # as typed.
    last = timezone.localdate(trip.planned_arrival + timedelta(days=6)).isoformat()
    assert last in page.locator("#id_repeat-days_error").inner_text()
    assert page.input_value("#id_repeat-days") == "30"
    assert fits_the_screen(page)
    page.locator("#repeat").screenshot(path=screenshots / f"repeat-form-error-{name}.png")

    page.fill("#id_repeat-days", "4")
    page.check("#repeat input[name=repeat-weekdays][value='1']")
    page.check("#repeat input[name=repeat-weekdays][value='3']")
    page.check("#repeat input[name=repeat-weekdays][value='5']")
    page.screenshot(path=screenshots / f"repeat-form-{name}.png", full_page=True)
    page.click("#repeat button[type=submit]")
    page.wait_for_url(f"{live_server.url}/trips/series/*/")

    series = TripSeries.objects.get()
    members = Trip.objects.filter(series=series)
    assert page.locator("[data-series-trips] li").count() == members.count()
    assert not page.errors and not page.outside_requests
    assert fits_the_screen(page)
    shot = screenshots / f"series-{name}.png"
    page.screenshot(path=shot, full_page=True)
    save_for_docs(shot, f"series-{name}.png")

    page.click("a.btn-danger")
    page.screenshot(path=screenshots / f"series-cancel-{name}.png", full_page=True)
    page.click("form button.btn-danger")
    page.wait_for_url(f"{live_server.url}/trips/series/{series.pk}/")
    assert page.locator("[data-series-cancelled]").count() == 1
    page.screenshot(path=screenshots / f"series-cancelled-{name}.png", full_page=True)
