"""The scan page's forms show the API's field messages beside their fields, each naming its field
so it reads on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from checkpoints.models import ScanEvent, WalkIn
from tests.browser.conftest import PHONE, TABLET, open_page
from tests.browser.scanpage import (
    fits_the_screen,
    open_scan_page,
    open_trip,
    scan_with_handheld,
    sign_in,
    staff_scan_page,
    wait_for_verdict,
    wait_until,
)
from tests.factories import CheckpointFactory, staff_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def errors_of(page: Any, form: str) -> dict[str, list[str]]:
    """The field messages a form shows, by field name."""
    return dict(
        page.evaluate(
            f"""() => Array.from(document.querySelectorAll('{form} [data-field-errors]'), list =>
                [list.dataset.fieldErrors, Array.from(list.children, li => li.textContent)])"""
        )
    )


def api_fields(page: Any, url: str, body: dict[str, Any]) -> dict[str, list[str]]:
    """What the API itself answers to the same input, in the page's language."""
    fields: dict[str, list[str]] = page.evaluate(
        """async ([url, body]) => {
          const csrf = document.querySelector('#scan-app').dataset.csrf;
          const r = await fetch(url, {method: 'POST', body: JSON.stringify(body),
            headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf}});
          return (await r.json()).fields;
        }""",
        [url, body],
    )
    return fields


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["tablet", "phone"])
def test_the_walk_in_form_shows_each_field_message_by_its_field(
    chromium: Any, live_server: Any, regions: None, screenshots: Path, viewport: dict[str, int]
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    staff_user(checkpoint, username="staff")
    page = open_page(chromium, live_server, viewport)
    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)
    url = f"/api/v1/checkpoints/{checkpoint.code}/walk-ins/"

    page.click("[data-open-walk-in]")
    page.fill("#walk-in-persons", "0")
    page.click("#walk-in-form button[type=submit]")
    wait_until(page, "() => document.querySelector('#walk-in-form [data-field-errors]')")

    shown = errors_of(page, "#walk-in-form")
    assert shown == api_fields(page, url, {"plate": "", "outcome": "turned_back", "persons": 0})
    assert set(shown) == {"plate", "persons"}
    # Not Django's or DRF's word for any field: the messages name theirs.
    messages = [m for field in shown.values() for m in field]
    assert all("该字段" not in m and "This field" not in m for m in messages)
    plate = page.locator("#walk-in-plate")
    assert plate.get_attribute("aria-invalid") == "true"
    described = plate.get_attribute("aria-describedby")
    assert page.locator(f"#{described}").inner_text() == shown["plate"][0]
    assert page.evaluate("document.activeElement.id") == "walk-in-plate"
    assert fits_the_screen(page)
    page.screenshot(path=str(screenshots / "scan-walk-in-errors.png"), full_page=True)

    # The plate and persons put right, the service finds the phone number wrong: its message
    # alone is shown now.
    page.fill("#walk-in-plate", "豫H55555")
    page.fill("#walk-in-persons", "2")
    page.fill("#walk-in-phone", "12345")
    page.click("#walk-in-form button[type=submit]")
    wait_until(page, "() => document.querySelector('#walk-in-form [data-field-errors=phone]')")
    assert errors_of(page, "#walk-in-form") == api_fields(
        page, url, {"plate": "豫H55555", "outcome": "turned_back", "phone": "12345"}
    )
    assert page.locator("#walk-in-plate").get_attribute("aria-invalid") is None

    # All put right, the walk-in is recorded.
    page.fill("#walk-in-phone", "")
    page.click("#walk-in-form button[type=submit]")
    wait_until(page, "() => document.querySelector('#walk-in').hidden")
    assert WalkIn.objects.get().plate == "豫H55555"
    page.click("[data-open-walk-in]")
    assert errors_of(page, "#walk-in-form") == {}
    assert page.errors == []
    page.context.close()


def test_the_confirm_form_shows_its_field_messages(
    chromium: Any, live_server: Any, regions: None
) -> None:
    page, checkpoint = staff_scan_page(chromium, live_server, TABLET)
    _, token = open_trip(checkpoint)
    scan_with_handheld(page, token)
    wait_for_verdict(page, "admit", "ok")

    page.click("#verdict [data-action=confirm]")
    page.fill("#confirm-plate", "")
    page.fill("#confirm-persons", "99")
    page.click("[data-form=confirm] button[type=submit]")
    wait_until(page, "() => document.querySelector('[data-form=confirm] [data-field-errors]')")

    pk = ScanEvent.objects.get().pk
    expected = api_fields(
        page,
        f"/api/v1/checkpoints/{checkpoint.code}/scans/{pk}/confirm/",
        {"plate": "", "persons": 99},
    )
    assert errors_of(page, "[data-form=confirm]") == expected
    assert set(expected) == {"plate", "persons"}
    assert ScanEvent.objects.get().confirmed_at is None
    assert page.errors == []
    page.context.close()
