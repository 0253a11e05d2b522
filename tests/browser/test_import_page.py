"""The import pages in Chromium, in Chinese: a dispatcher uploads a file with some bad rows,
follows the check's progress without a reload, reads the errors by row and column, confirms,
follows the registration, and opens a trip registered. The worker's part is played by the
test calling the services the worker calls, between the page's polls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PHONE, open_page
from tests.browser.scanpage import sign_in, wait_until
from tests.factories import CheckpointFactory
from tests.factories import dispatcher as make_dispatcher
from tests.trucks.importing import csv_bytes, good_row
from trucks.models import Trip, TripImport
from trucks.services import imports

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1440, "height": 900}
BAR = "document.querySelector('#import-status [data-progress]')"


def _progress(trip_import: TripImport, page: Any, percent: int) -> None:
    TripImport.objects.filter(pk=trip_import.pk).update(progress=percent)
    wait_until(page, f"() => {BAR}.value === {percent} && !{BAR}.hidden")


def test_a_file_is_uploaded_checked_confirmed_and_its_trips_opened(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    make_dispatcher(username="dispatcher")
    rows = [good_row(checkpoint.code, 500 + n) for n in range(4)]
    rows[1]["driver_id_number"] = "410802198506120010"  # a wrong check digit
    rows[3]["cargo_category"] = "gold"
    page = open_page(chromium, live_server, DESKTOP)
    sign_in(page, live_server, "dispatcher")
    page.click("a[href='/company/imports/']")
    page.set_input_files(
        "#import-file",
        {"name": "trips.csv", "mimeType": "text/csv", "buffer": csv_bytes(rows)},
    )
    with page.expect_navigation():
        page.click(".import-form button[type=submit]")
    trip_import = TripImport.objects.get()
    assert page.url == f"{live_server.url}/company/imports/{trip_import.pk}/"
    _progress(trip_import, page, 40)  # the worker's progress, shown without a reload
    page.screenshot(path=str(screenshots / "import-progress-desktop.png"), full_page=True)

    imports.trip_import_validate(import_id=trip_import.pk)
    page.locator("[data-error-row]").first.wait_for()  # the page reloads once the check is done
    errors = page.locator(".import-errors tbody tr").all_inner_texts()
    assert [line.split("\t")[:2] for line in errors] == [
        ["3", "driver_id_number"],
        ["5", "cargo_category"],
    ]
    assert page.locator("[data-count=valid]").inner_text() == "2"
    page.screenshot(path=str(screenshots / "import-errors-desktop.png"), full_page=True)

    phone = open_page(chromium, live_server, PHONE)
    sign_in(phone, live_server, "dispatcher")
    phone.goto(f"{live_server.url}/company/imports/{trip_import.pk}/")
    phone.screenshot(path=str(screenshots / "import-errors-phone.png"), full_page=True)
    phone.goto(f"{live_server.url}/company/imports/")
    phone.screenshot(path=str(screenshots / "imports-phone.png"), full_page=True)

    with page.expect_navigation():
        page.click("[data-confirm]")
    _progress(trip_import, page, 50)
    imports.trip_import_register(import_id=trip_import.pk)
    page.locator("[data-trip]").nth(1).wait_for()
    page.screenshot(path=str(screenshots / "import-done-desktop.png"), full_page=True)
    first = Trip.objects.order_by("pk").first()
    assert first is not None
    with page.expect_navigation():
        page.click(f"[data-trip='{first.pk}']")
    assert page.url == f"{live_server.url}/trips/{first.pk}/"
    assert first.reference in page.content()
    assert page.errors == [] and phone.errors == []
    assert page.outside_requests == [] and phone.outside_requests == []
