"""What the scan page shows once the API has answered: a supervisor's override as the outcome, a
plate that differs checked again beside the registered one, a refusal recalled when the code
comes back, and the state of passes found by lookup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from checkpoints.models import Alert, ScanEvent, StaffAssignment
from tests.browser.conftest import TABLET, open_page
from tests.browser.scanpage import (
    open_scan_page,
    open_trip,
    page_texts,
    scan_with_handheld,
    sign_in,
    wait_for_verdict,
    wait_until,
)
from tests.factories import CheckpointFactory, at, dispatcher, make_trip, staff_user
from trucks.models import Pass, TripStatus
from trucks.services import pass_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOUCH = 44  # CSS pixels, the least a finger hits reliably


def assert_touchable(page: Any, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    assert box["width"] >= TOUCH and box["height"] >= TOUCH, (selector, box)


def background(page: Any, selector: str) -> str:
    return str(
        page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).backgroundColor")
    )


def test_an_override_is_shown_as_the_outcome(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站")
    user = staff_user(checkpoint, username="lead", first_name="建国", last_name="王")
    StaffAssignment.objects.filter(user=user).update(supervisor=True)
    trip = make_trip(
        dispatcher(),
        checkpoint,
        planned_arrival=at(0.5),
        planned_departure=at(12),
        test_result="positive",
        test_sampled_at=at(-3),
    )
    page = open_page(chromium, live_server, TABLET)
    sign_in(page, live_server, "lead")
    open_scan_page(page, live_server, checkpoint.code)
    texts = page_texts(page)

    scan_with_handheld(page, pass_token(Pass.objects.get(trip=trip)))
    wait_for_verdict(page, "refuse", "red_code")
    red = background(page, "#verdict")
    page.click("#verdict [data-action=override]")
    page.fill("#override-reason", "运送抗疫医疗物资，指挥部电话批准")
    page.click("[data-form=override] button[type=submit]")
    wait_until(page, "() => document.querySelector('#verdict').dataset.outcome === 'override'")

    verdict = page.locator("#verdict")
    # The record keeps the refusal; the screen shows the override as the outcome.
    assert verdict.get_attribute("data-verdict") == "refuse"
    title = page.locator("#verdict [data-slot=title]").inner_text()
    assert title == texts["override"]["title"]
    assert texts["verdicts"]["refuse"] not in title
    assert background(page, "#verdict") != red
    message = page.locator("#verdict [data-slot=message]").inner_text()
    assert "建国 王" in message
    scan = ScanEvent.objects.get()
    assert scan.overridden_at is not None
    assert (
        page.locator("[data-slot=override-reason]")
        .inner_text()
        .endswith("运送抗疫医疗物资，指挥部电话批准")
    )
    assert (
        texts["reasons"]["red_code"] in page.locator("[data-slot=override-original]").inner_text()
    )
    assert page.locator("#verdict [data-action=override]").is_hidden()
    assert page.locator("#verdict [data-show=reason]").is_hidden()
    # The tablet's list says the same.
    first = page.locator("#recent-list li").first
    assert first.get_attribute("data-verdict") == "override"
    assert first.locator("[data-slot=verdict]").inner_text() == texts["override"]["short"]
    page.screenshot(path=str(screenshots / "scan-override-tablet.png"))
    assert (scan.verdict, scan.reason, scan.overridden_by_id) == ("refuse", "red_code", user.pk)
    assert page.errors == []
    page.context.close()


def test_a_mistyped_plate_is_checked_again_and_corrected(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    staff_user(checkpoint, username="staff")
    trip, token = open_trip(checkpoint)
    plate = trip.vehicle.plate
    page = open_page(chromium, live_server, TABLET)
    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)

    scan_with_handheld(page, token)
    wait_for_verdict(page, "admit", "ok")
    page.click("#verdict [data-action=confirm]")
    mistyped = plate[:-1] + ("8" if plate[-1] != "8" else "9")
    page.fill("#confirm-plate", mistyped)
    page.click("[data-form=confirm] button[type=submit]")

    recheck = page.locator("[data-form=recheck]")
    recheck.wait_for()
    assert page.locator("[data-slot=recheck-registered]").inner_text() == plate
    assert page.locator("[data-slot=recheck-entered]").inner_text() == mistyped
    # Only the character that differs is marked.
    assert page.locator("[data-slot=recheck-entered] mark").all_inner_texts() == [mistyped[-1]]
    assert page.locator("[data-form=confirm]").is_hidden()
    for choice in ("again", "differs"):
        assert_touchable(page, f"[data-recheck={choice}]")
    page.screenshot(path=str(screenshots / "scan-recheck-tablet.png"))
    # Nothing changed yet: still an admitted entry, no alert.
    wait_for_verdict(page, "admit", "ok")
    scan = ScanEvent.objects.get()
    assert (scan.verdict, scan.reason, scan.observed_plate) == ("admit", "ok", "")
    assert not Alert.objects.exists()

    page.click("[data-recheck=again]")
    assert page.locator("[data-form=confirm]").is_visible()
    assert page.evaluate("document.activeElement.id") == "confirm-plate"
    page.fill("#confirm-plate", plate)
    page.click("[data-form=confirm] button[type=submit]")
    wait_until(page, "() => document.querySelector('#verdict [data-action=confirm]').hidden")

    wait_for_verdict(page, "admit", "ok")
    scan.refresh_from_db()
    assert (scan.verdict, scan.observed_plate) == ("admit", plate)
    assert scan.confirmed_at is not None
    trip.refresh_from_db()
    assert trip.status == TripStatus.INSIDE
    assert not Alert.objects.exists()
    assert page.errors == []
    page.context.close()


def test_a_refusal_is_recalled_when_the_code_comes_back(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    staff_user(checkpoint, username="staff")
    _, token = open_trip(checkpoint)
    page = open_page(chromium, live_server, TABLET)
    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)
    texts = page_texts(page)

    scan_with_handheld(page, token)
    wait_for_verdict(page, "admit", "ok")
    page.click("#verdict [data-action=confirm]")
    page.fill("#confirm-plate", "豫H99999")
    page.click("[data-form=confirm] button[type=submit]")
    page.click("[data-recheck=differs]")
    wait_for_verdict(page, "refuse", "plate_mismatch")
    assert Alert.objects.get().kind == "plate_mismatch"
    page.click("#verdict [data-action=next]")

    # The same code again: admitted, but the refusal a moment ago is on the screen.
    scan_with_handheld(page, token)
    wait_for_verdict(page, "admit", "ok")
    note = page.locator("#verdict [data-note=earlier-refusal]")
    text = note.inner_text()
    refused = ScanEvent.objects.get(reason="plate_mismatch")
    local = timezone.localtime(refused.scanned_at)
    assert texts["reasons"]["plate_mismatch"] in text
    assert local.strftime("%H:%M") in text
    page.screenshot(path=str(screenshots / "scan-recalled-tablet.png"))
    assert page.errors == []
    page.context.close()
