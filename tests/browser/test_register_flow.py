"""A driver signs in, registers a trip through the form (cascading region pickers, a co-rider
row) and sees the pass page; a dispatcher on a tablet gets inline errors for a bad ID number."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.conftest import PHONE, TABLET, open_page, save_for_docs
from tests.factories import (
    PASSWORD,
    CheckpointFactory,
    CompanyFactory,
    dispatcher,
    driver_user,
    valid_id_number,
    valid_phone,
)
from trucks.forms.common import DATETIME_LOCAL
from trucks.models import Trip

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def local(hours: float) -> str:
    return timezone.localtime(timezone.now() + timedelta(hours=hours)).strftime(DATETIME_LOCAL)


def fits_the_screen(page: Any) -> bool:
    """Nothing sticks out sideways: a phone user never scrolls horizontally."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("#id_username")
    page.keyboard.type(username)
    page.click("#id_password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")


def pick_region(page: Any, field: str, *names: str) -> None:
    """Choose province, city and county in a cascading picker, as a user does with the mouse;
    each list is filled from the regions API once the level above is chosen."""
    for level, name in zip(("province", "city", "county"), names, strict=False):
        page.select_option(f"#id_{field}_{level}", label=name)


def fill_trip(page: Any, checkpoint_code: str) -> None:
    page.click("#id_plate_rest")
    page.keyboard.type("H66881")
    pick_region(page, "origin_region", "江苏省", "常州市", "武进区")
    # Travel history: Changzhou city as a whole, added as a chip.
    pick_region(page, "travel_history", "江苏省", "常州市")
    page.click("[data-add-chip]")
    page.select_option("#id_entry_checkpoint", checkpoint_code)
    page.fill("#id_destination_name", "焦作市某物流园")
    page.fill("#id_destination_address", "河南省焦作市解放区民主路1号")
    page.fill("#id_planned_arrival", local(6))
    page.fill("#id_planned_departure", local(30))
    page.select_option("#id_cargo_category", "daily_necessities")
    page.fill("#id_cargo_description", "蔬菜 20 吨")
    page.check("#id_test_result_0")
    page.fill("#id_test_sampled_at", local(-10))


def test_a_driver_registers_a_trip_and_sees_the_pass(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站")
    user = driver_user(CompanyFactory(), username="driver")
    page = open_page(chromium, live_server, PHONE)

    sign_in(page, live_server, "driver")
    assert fits_the_screen(page)
    page.click("a[href='/trips/new/']")
    page.wait_for_url(f"{live_server.url}/trips/new/")
    # The driver's own details are filled in and cannot be changed.
    assert page.input_value("#id_driver_name") == "张师傅"
    assert page.is_disabled("#id_driver_id_number")

    fill_trip(page, checkpoint.code)
    assert page.input_value("#id_origin_region") == "320412"
    assert page.locator("[data-chips] [data-code='320400']").is_visible()

    # One co-rider in the row that is there, then a second row added and removed again.
    page.click("#id_co_riders-0-name")
    page.keyboard.type("王五")
    page.fill("#id_co_riders-0-id_number", valid_id_number())
    page.fill("#id_co_riders-0-phone", valid_phone())
    page.click("[data-add-row]")
    assert page.locator("[data-row]").count() == 2
    page.locator("[data-row]").nth(1).locator("[data-remove-row]").click()
    assert page.locator("[data-row]").count() == 1
    assert page.input_value("#id_co_riders-TOTAL_FORMS") == "1"

    page.screenshot(path=str(screenshots / "register-form.png"), full_page=True)
    assert fits_the_screen(page)
    page.click("button[type=submit].btn-big")
    page.wait_for_url(re.compile(r"/trips/\d+/$"))

    trip = Trip.objects.get()
    assert trip.driver.user_id == user.pk
    assert trip.origin_region_id == "320412"
    assert list(trip.travel_history.values_list("code", flat=True)) == ["320400"]
    assert trip.co_riders.count() == 1
    assert page.locator(".qr svg").is_visible()
    assert page.locator(".reference-large").inner_text() == trip.reference
    assert page.locator(".plate-large").inner_text() == "豫H66881"
    assert page.locator(".banner.banner-green").is_visible()
    assert page.locator("[data-countdown]").inner_text()
    assert fits_the_screen(page)
    assert page.errors == []
    assert page.outside_requests == []
    page.screenshot(path=str(screenshots / "pass-page.png"), full_page=True)

    # The picture for the README: the pass as the driver shows it at the checkpoint, from the
    # header to the end of the pass card, without the one-off "registered" message.
    page.reload()
    box = page.locator("article.pass-card").bounding_box()
    shot = screenshots / "pass-card.png"
    page.screenshot(
        path=str(shot),
        full_page=True,
        clip={"x": 0, "y": 0, "width": PHONE["width"], "height": box["y"] + box["height"] + 16},
    )
    save_for_docs(shot, "pass-page.png")
    page.context.close()


def test_a_bad_id_number_is_shown_inline_on_a_tablet(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory()
    dispatcher(username="dispatcher")
    page = open_page(chromium, live_server, TABLET)

    sign_in(page, live_server, "dispatcher")
    page.goto(f"{live_server.url}/trips/new/")
    page.fill("#id_driver_name", "李师傅")
    page.fill("#id_driver_id_number", "410802198506120000")
    page.fill("#id_driver_phone", valid_phone())
    fill_trip(page, checkpoint.code)
    page.click("button[type=submit].btn-big")
    page.wait_for_load_state()

    errors = page.locator("#id_driver_id_number_error")
    assert errors.is_visible()
    assert errors.inner_text().strip()
    assert page.locator("#error-summary").is_visible()
    # Everything typed is still there, the region pickers included.
    assert page.input_value("#id_destination_name") == "焦作市某物流园"
    assert page.input_value("#id_plate_rest") == "H66881"
    page.wait_for_function("document.querySelector('#id_origin_region_county').value === '320412'")
    assert page.locator("[data-chips] [data-code='320400']").is_visible()
    assert not Trip.objects.exists()
    assert page.errors == []
    assert page.outside_requests == []
    page.screenshot(path=str(screenshots / "register-errors-tablet.png"), full_page=True)
    page.context.close()
