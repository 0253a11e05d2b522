"""What the scan page shows once the API has answered: a supervisor's override as the outcome, a
plate that differs checked again beside the registered one, a refusal recalled when the code
comes back, the state of passes found by lookup, what each row of the last scans is, when a pass
opens, and every time in the city's zone whatever the tablet's clock zone."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from checkpoints import services
from checkpoints.models import Alert, ScanEvent
from places.models import StaffAssignment
from tests.browser.conftest import TABLET, open_page
from tests.browser.scanpage import (
    open_scan_page,
    open_trip,
    page_texts,
    scan_with_handheld,
    sign_in,
    staff_scan_page,
    wait_for_verdict,
    wait_until,
)
from tests.checkpoints.scanning import altered
from tests.factories import CheckpointFactory, at, dispatcher, make_trip, staff_user
from trucks import passcode
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
    page, checkpoint = staff_scan_page(chromium, live_server, TABLET)
    _, token = open_trip(checkpoint)
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


def test_lookup_offers_to_check_only_passes_that_can_still_be_verified(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    staff = staff_user(checkpoint, username="staff")
    done = make_trip(
        dispatcher(),
        checkpoint,
        vehicle_plate="豫H88A66",
        planned_arrival=at(0.5),
        planned_departure=at(12),
    )
    for direction in ("in", "out"):
        services.scan_perform(
            staff=staff,
            checkpoint=checkpoint,
            data=services.ScanInput(
                token=pass_token(Pass.objects.get(trip=done)), direction=direction
            ),
        )
    live = make_trip(
        dispatcher(),
        checkpoint,
        vehicle_plate="京H88A66",
        planned_arrival=at(0.5),
        planned_departure=at(12),
    )
    page = open_page(chromium, live_server, TABLET)
    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)
    texts = page_texts(page)

    page.fill("#lookup-input", "Ｈ８８Ａ６６")  # typed without the province, full-width
    page.press("#lookup-input", "Enter")
    page.locator("#lookup-results li").nth(1).wait_for()

    items = {
        item.locator("[data-slot=plate]").inner_text(): item
        for item in page.locator("#lookup-results li").all()
    }
    completed = items[done.vehicle.plate]
    assert completed.get_attribute("data-checkable") == "false"
    assert completed.locator("[data-action=scan-found]").count() == 0
    assert (
        completed.locator("[data-slot=state]").inner_text() == texts["pass_statuses"]["completed"]
    )
    assert texts["reasons"]["used"] in completed.locator("[data-slot=closed]").inner_text()
    active = items[live.vehicle.plate]
    assert active.get_attribute("data-checkable") == "true"
    assert active.locator("[data-slot=state]").is_hidden()
    assert_touchable(page, "#lookup-results li[data-checkable=true] [data-action=scan-found]")
    page.screenshot(path=str(screenshots / "scan-lookup-states-tablet.png"))

    active.locator("[data-action=scan-found]").click()
    wait_for_verdict(page, "admit", "ok")
    assert page.errors == []
    page.context.close()


def test_the_recent_list_tells_forged_unknown_and_walk_ins_apart(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    page, checkpoint = staff_scan_page(chromium, live_server, TABLET)
    _, token = open_trip(checkpoint)
    texts = page_texts(page)

    for code, reason in [
        (altered(token), "invalid"),
        ("HELLO-NOT-A-PASS", "invalid"),
        (passcode.encode(pass_id=999_999, valid_until=at(24)), "unknown"),
    ]:
        scan_with_handheld(page, code)
        wait_for_verdict(page, "refuse", reason)
        page.click("#verdict [data-action=next]")
    page.click("[data-open-walk-in]")
    page.fill("#walk-in-plate", "豫H55555")
    page.click("#walk-in-form button[type=submit]")
    wait_until(page, "() => document.querySelector('#walk-in').hidden")

    rows = page.locator("#recent-list li")
    assert [rows.nth(i).get_attribute("data-kind") for i in range(4)] == [
        "walk_in",
        "unknown",
        "invalid",
        "invalid",
    ]
    reasons = [rows.nth(i).locator("[data-slot=reason]").inner_text() for i in range(4)]
    assert reasons == [
        texts["not_registered"],
        texts["reasons"]["unknown"],
        texts["reasons"]["invalid"],
        texts["reasons"]["invalid"],
    ]
    # Only the unregistered vehicle reads as unregistered.
    for i in (1, 2, 3):
        assert texts["not_registered"] not in rows.nth(i).inner_text()
    assert rows.nth(0).locator("[data-slot=plate]").inner_text() == "豫H55555"
    page.screenshot(path=str(screenshots / "scan-recent-kinds-tablet.png"))
    assert page.errors == []
    page.context.close()


def test_a_pass_not_open_yet_says_when_it_opens(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    staff_user(checkpoint, username="staff")
    # The window opens two hours before the planned arrival: in about three hours.
    trip = make_trip(dispatcher(), checkpoint, planned_arrival=at(5), planned_departure=at(12))
    pass_ = Pass.objects.get(trip=trip)
    page = open_page(chromium, live_server, TABLET)
    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)

    scan_with_handheld(page, pass_token(pass_))
    wait_for_verdict(page, "refuse", "not_yet_valid")

    opens = page.locator("#verdict [data-note=opens-at]")
    opening = timezone.localtime(pass_.valid_from)
    time = opens.locator("time")
    assert parse_datetime(time.get_attribute("datetime") or "") == pass_.valid_from
    assert opening.strftime("%H:%M") in time.inner_text()
    # The pass line gives the whole window, its start first.
    line = page.locator("#verdict [data-slot=pass]").inner_text()
    until = timezone.localtime(pass_.valid_until).strftime("%H:%M")
    assert opening.strftime("%H:%M") in line and until in line
    assert line.index(opening.strftime("%H:%M")) < line.index(until)
    page.screenshot(path=str(screenshots / "scan-not-yet-valid-tablet.png"))
    assert page.errors == []
    page.context.close()


def test_times_are_the_citys_on_a_tablet_set_to_utc(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    staff_user(checkpoint, username="staff")
    trip, token = open_trip(checkpoint)
    page = open_page(chromium, live_server, TABLET, timezone_id="UTC")
    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "UTC"

    scan_with_handheld(page, token)
    wait_for_verdict(page, "admit", "ok")

    scan = ScanEvent.objects.get()
    city, utc = timezone.localtime(scan.scanned_at), scan.scanned_at.astimezone(UTC)
    assert city.hour != utc.hour
    shown = page.locator("#recent-list li").first.locator("time").inner_text()
    assert shown == city.strftime("%H:%M:%S")
    until = timezone.localtime(Pass.objects.get(trip=trip).valid_until)
    assert until.strftime("%H:%M") in page.locator("#verdict [data-slot=pass]").inner_text()
    page.screenshot(path=str(screenshots / "scan-utc-tablet.png"))
    assert page.errors == []
    page.context.close()
