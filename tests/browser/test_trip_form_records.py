"""A dispatcher registers a trip from the company's own records: the plate and the driver's
name search them as one types (a combobox over the vehicles and drivers APIs), choosing fills
the fields, and the trip page shows the chosen vehicle and driver. A plate no record matches
says it will be added. On a phone and on a tablet, with a tap and with the keyboard."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PHONE, TABLET, open_page
from tests.browser.test_register_flow import fill_trip, fits_the_screen, sign_in
from tests.factories import (
    CheckpointFactory,
    CompanyFactory,
    dispatcher,
    valid_id_number,
    valid_phone,
)
from trucks import services
from trucks.models import Driver, Trip, Vehicle
from trucks.services import PersonData
from trucks.validators import mask_id_number, mask_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fleet(user: Any) -> dict[str, Any]:
    plates = ["豫H35201", "豫H35202", "豫H35777", "苏D12345"]
    vehicles = {plate: services.vehicle_add(actor=user, plate=plate) for plate in plates}
    people = [
        PersonData("孙建国", valid_id_number(), valid_phone(1)),
        PersonData("孙志强", valid_id_number(), valid_phone(2)),
        PersonData("刘德明", valid_id_number(), valid_phone(3)),
    ]
    drivers = {p.name: services.driver_add(actor=user, person=p) for p in people}
    return {"vehicles": vehicles, "drivers": drivers}


def _open(chromium: Any, live_server: Any, viewport: dict[str, int]) -> Any:
    """A touch screen (dispatchers use tablets) that also has a keyboard, keeping the fleet
    searches it sends and the console's errors."""
    page = open_page(chromium, live_server, viewport, has_touch=True)
    page.searches = []
    page.console_errors = []

    def request(request: Any) -> None:
        if re.search(r"/api/v1/(vehicles|drivers)/", request.url):
            page.searches.append(request.url)

    def console(message: Any) -> None:
        if message.type == "error":
            page.console_errors.append(message.text)

    page.on("request", request)
    page.on("console", console)
    return page


def _type(page: Any, selector: str, text: str) -> None:
    """Typed key by key at a person's pace (some 60 ms a key, well inside the pause the search
    waits for), so the page sees every keystroke."""
    page.click(selector)
    page.keyboard.type(text, delay=60)


def _options(page: Any, input_id: str) -> Any:
    """The suggestions open under the input, once they have come."""
    listbox = page.get_attribute(f"#{input_id}", "aria-controls")
    options = page.locator(f"#{listbox} [role=option]")
    options.first.wait_for()
    return options


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
def test_a_dispatcher_chooses_the_vehicle_and_driver_from_the_records(
    chromium: Any, live_server: Any, regions: None, screenshots: Path, viewport: dict[str, int]
) -> None:
    checkpoint = CheckpointFactory()
    user = dispatcher(username="dispatcher")
    fleet = _fleet(user)
    services.vehicle_add(actor=dispatcher(CompanyFactory()), plate="豫H35999")
    page = _open(chromium, live_server, viewport)
    sign_in(page, live_server, "dispatcher")
    page.goto(f"{live_server.url}/trips/new/")
    name = "phone" if viewport is PHONE else "tablet"

    # The rest of the trip first; its plate (a new one) is no record of ours, and says so.
    fill_trip(page, checkpoint.code)
    no_match = page.get_attribute("[data-record-picker=vehicle]", "data-no-match")
    page.locator("[data-record-picker=vehicle] .combobox-status", has_text=no_match).wait_for()
    assert page.locator("[data-record-picker=vehicle] [role=listbox]").is_hidden()
    page.fill("#id_plate_rest", "")

    plate = page.locator("#id_plate_rest")
    assert plate.get_attribute("role") == "combobox"
    listbox = plate.get_attribute("aria-controls")
    assert page.locator(f"#{listbox}").get_attribute("role") == "listbox"
    assert plate.get_attribute("aria-expanded") == "false"

    # Part of a plate: the company's matches only, and one request for the pause in typing. The
    # page's clock is held, so however slowly a busy machine delivers the keys, they all fall
    # inside one pause; then the pause is let run.
    before = len(page.searches)
    held = datetime.now(UTC) + timedelta(seconds=1)
    page.clock.install(time=held - timedelta(seconds=1))
    page.clock.pause_at(held)
    _type(page, "#id_plate_rest", "H352")
    assert len(page.searches) == before
    page.clock.run_for(200)
    options = _options(page, "id_plate_rest")
    page.clock.resume()
    assert plate.get_attribute("aria-expanded") == "true"
    assert [t.split("\n")[0] for t in options.all_inner_texts()] == ["豫H35201", "豫H35202"]
    assert len(page.searches) == before + 1 and page.searches[-1].endswith("q=H352")
    for i in range(options.count()):
        assert options.nth(i).bounding_box()["height"] >= 44
    assert fits_the_screen(page)
    page.screenshot(path=str(screenshots / f"vehicle-suggestions-{name}.png"))

    # The keyboard: down twice, then Enter chooses (and does not submit the form).
    page.keyboard.press("ArrowDown")
    assert plate.get_attribute("aria-activedescendant") == f"{listbox}-0"
    page.keyboard.press("ArrowDown")
    assert plate.get_attribute("aria-activedescendant") == f"{listbox}-1"
    assert options.nth(1).get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")
    assert plate.get_attribute("aria-expanded") == "false"
    assert page.input_value("#id_plate_rest") == "H35202"
    assert page.input_value("#id_vehicle_id") == str(fleet["vehicles"]["豫H35202"].pk)
    assert page.url.endswith("/trips/new/")

    # Escape closes the list without choosing.
    page.fill("#id_plate_rest", "")
    _type(page, "#id_plate_rest", "H35")
    _options(page, "id_plate_rest")
    page.keyboard.press("Escape")
    assert plate.get_attribute("aria-expanded") == "false"
    assert page.input_value("#id_vehicle_id") == ""

    # Typed by hand after the choice, the id goes; a tap on another suggestion chooses it.
    page.keyboard.type("777", delay=60)
    options = _options(page, "id_plate_rest")
    assert options.all_inner_texts()[0].startswith("豫H35777")
    options.first.tap()
    assert page.input_value("#id_vehicle_id") == str(fleet["vehicles"]["豫H35777"].pk)
    assert page.input_value("#id_plate_rest") == "H35777"

    # The driver by part of the name, then by the last digits of the phone.
    _type(page, "#id_driver_name", "孙")
    options = _options(page, "id_driver_name")
    assert options.count() == 2
    page.screenshot(path=str(screenshots / f"driver-suggestions-{name}.png"))
    page.fill("#id_driver_name", "")
    chosen = fleet["drivers"]["孙志强"]
    _type(page, "#id_driver_name", chosen.phone[-4:])
    options = _options(page, "id_driver_name")
    assert options.count() == 1
    options.first.tap()
    assert page.input_value("#id_driver_name") == "孙志强"
    assert page.input_value("#id_driver_id_number") == mask_id_number(chosen.id_number)
    assert page.input_value("#id_driver_phone") == mask_phone(chosen.phone)
    assert page.locator("#id_driver_id_number").get_attribute("readonly") is not None
    assert page.input_value("#id_driver_id") == str(chosen.pk)

    # Co-riders too: the row that is there, and one added (its picker comes with it).
    _type(page, "#id_co_riders-0-name", "刘")
    _options(page, "id_co_riders-0-name").first.tap()
    page.click("[data-add-row]")
    _type(page, "#id_co_riders-1-name", "孙建")
    options = _options(page, "id_co_riders-1-name")
    assert options.count() == 1
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.input_value("#id_co_riders-1-name") == "孙建国"
    assert page.input_value("#id_co_riders-1-id_number").startswith("4108*")
    page.screenshot(path=str(screenshots / f"records-chosen-{name}.png"), full_page=True)

    page.click("button[type=submit].btn-big")
    page.wait_for_url(re.compile(r"/trips/\d+/$"))
    trip = Trip.objects.get()
    assert trip.vehicle.plate == "豫H35777" and trip.driver == chosen
    riders = [fleet["drivers"]["刘德明"], fleet["drivers"]["孙建国"]]
    assert [(r.name, r.id_number) for r in trip.co_riders.order_by("position")] == [
        (r.name, r.id_number) for r in riders
    ]
    assert page.locator(".plate-large").inner_text() == "豫H35777"
    assert page.get_by_text("孙志强").first.is_visible()
    assert Vehicle.objects.count() == 5 and Driver.objects.count() == 3
    assert page.errors == [] and page.console_errors == []
    assert page.outside_requests == []
    page.context.close()


def test_the_change_button_undoes_the_choice(
    chromium: Any, live_server: Any, screenshots: Path
) -> None:
    user = dispatcher(username="dispatcher")
    _fleet(user)
    page = _open(chromium, live_server, TABLET)
    sign_in(page, live_server, "dispatcher")
    page.goto(f"{live_server.url}/trips/new/")

    _type(page, "#id_driver_name", "刘")
    _options(page, "id_driver_name").first.click()
    assert page.input_value("#id_driver_id") != ""
    page.locator("[data-record-picker]:has(#id_driver_name) .record-chosen button").click()
    assert page.input_value("#id_driver_id") == ""
    assert page.input_value("#id_driver_id_number") == ""
    assert page.input_value("#id_driver_phone") == ""
    assert page.locator("#id_driver_id_number").get_attribute("readonly") is None
    assert page.evaluate("document.activeElement.id") == "id_driver_name"

    # A name typed over a choice keeps the typed name and drops the masked details.
    _type(page, "#id_driver_name", "刘")
    _options(page, "id_driver_name").first.click()
    page.keyboard.type("华", delay=60)
    assert page.input_value("#id_driver_name") == "刘德明华"
    assert page.input_value("#id_driver_id") == ""
    assert page.input_value("#id_driver_id_number") == ""
    assert page.errors == [] and page.console_errors == []
    page.context.close()
