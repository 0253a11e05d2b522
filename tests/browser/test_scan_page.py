"""The checkpoint's scan page in Debian's Chromium: a fake camera plays the QR of a real pass and
the page admits it through the scan API; a handheld scanner (typing and Enter) admits, refuses a
copied code and refuses garbage; a scan whose request fails is sent again with the same scan id.

The page runs under a strict Content-Security-Policy, so the tests poll with ``page.evaluate``
(``wait_for_function`` evaluates a string, which the policy forbids)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from checkpoints.models import ScanEvent, WalkIn
from places.models import StaffAssignment
from tests.browser.conftest import PHONE, TABLET, open_page, qr_video, save_for_docs
from tests.browser.scanpage import (
    BUNDLE_READY,
    fits_the_screen,
    open_scan_page,
    open_trip,
    queued_on_the_tablet,
    scan_with_handheld,
    sign_in,
    staff_scan_page,
    wait_for_verdict,
    wait_until,
)
from tests.factories import CheckpointFactory, at, dispatcher, make_trip, staff_user
from trucks import qr
from trucks.models import Pass, TripStatus
from trucks.services import pass_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_camera_reads_a_real_pass_and_admits_the_truck(
    camera_chromium: Any, live_server: Any, regions: None, screenshots: Path, tmp_path: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站")
    staff_user(checkpoint, username="staff")
    trip, token = open_trip(checkpoint)
    video = qr_video(qr.qr_png(token), tmp_path)
    browser = camera_chromium(video)
    page = open_page(browser, live_server, TABLET)
    page.context.grant_permissions(["camera"], origin=live_server.url)

    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)
    page.click("#camera-toggle")

    wait_for_verdict(page, "admit", "ok")
    assert page.locator("#verdict [data-slot=plate]").inner_text() == trip.vehicle.plate
    trip.refresh_from_db()
    assert trip.status == TripStatus.INSIDE
    scan = ScanEvent.objects.get()
    assert (scan.trip_id, scan.verdict, scan.direction) == (trip.pk, "admit", "in")
    # The code stays in front of the camera: it is checked once, not refused as a copy.
    page.wait_for_timeout(1500)
    assert ScanEvent.objects.count() == 1
    assert page.errors == []
    # The decoder and its .wasm came from our static files: nothing else was asked for.
    assert page.outside_requests == []
    page.screenshot(path=str(screenshots / "scan-camera-verdict.png"))
    page.click("#verdict [data-action=next]")
    page.screenshot(path=str(screenshots / "scan-camera.png"))
    page.click("#camera-toggle")
    assert page.locator("#camera-view").is_hidden()
    page.context.close()


def test_a_handheld_scanner_admits_then_refuses_the_same_code(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站")
    staff_user(checkpoint, username="staff")
    trip, token = open_trip(checkpoint)
    page = open_page(chromium, live_server, TABLET)

    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)
    page.screenshot(path=str(screenshots / "scan-idle-tablet.png"))
    scan_with_handheld(page, token)

    wait_for_verdict(page, "admit", "ok")
    assert page.input_value("#scanner-input") == ""
    assert page.locator("#verdict [data-slot=plate]").inner_text() == trip.vehicle.plate
    assert page.locator("#verdict [data-slot=id-number]").inner_text().count("*") >= 8
    assert page.locator("#verdict [data-slot=persons]").inner_text() == "1"
    shot = screenshots / "scan-admit-tablet.png"
    page.screenshot(path=str(shot))
    save_for_docs(shot, "scan-page.png")

    # The same code again while the truck is inside: a copied code.
    scan_with_handheld(page, token)
    wait_for_verdict(page, "refuse", "already_inside")
    page.screenshot(path=str(screenshots / "scan-refuse-tablet.png"))
    assert ScanEvent.objects.count() == 2
    # The device's list holds both, newest first.
    assert page.locator("#recent-list li").count() == 2
    assert page.locator("#recent-list li").first.get_attribute("data-verdict") == "refuse"
    assert page.errors == []
    assert page.outside_requests == []
    page.context.close()


def test_a_handheld_scanner_refuses_garbage(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    staff_user(checkpoint, username="staff")
    page = open_page(chromium, live_server, PHONE)

    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)
    assert fits_the_screen(page)
    page.screenshot(path=str(screenshots / "scan-idle-phone.png"))
    scan_with_handheld(page, "HELLO-THIS-IS-NOT-A-PASS")

    wait_for_verdict(page, "refuse", "invalid")
    assert fits_the_screen(page)
    assert ScanEvent.objects.get().reason == "invalid"
    page.screenshot(path=str(screenshots / "scan-refuse-phone.png"))
    # "Next vehicle" clears the screen and the scanner field is ready for the next code.
    page.click("#verdict [data-action=next]")
    assert page.locator("#verdict").is_hidden()
    assert page.evaluate("document.activeElement.id") == "scanner-input"
    assert page.errors == []
    page.context.close()


def test_a_failed_request_is_sent_again_with_the_same_scan_id(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    page, checkpoint = staff_scan_page(chromium, live_server, TABLET)
    # Registered after the tablet's bundle was made: the tablet cannot decide it offline, so
    # a scan of it waits for the server.
    wait_until(page, BUNDLE_READY)
    trip, token = open_trip(checkpoint)

    sent: list[str] = []

    def fail_twice(route: Any) -> None:
        sent.append(route.request.post_data_json["scan_id"])
        if len(sent) <= 2:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(f"**/api/v1/checkpoints/{checkpoint.code}/scans/", fail_twice)
    scan_with_handheld(page, token)

    wait_until(page, "() => document.querySelector('#verdict').dataset.state === 'failed'")
    assert page.locator("#queue-list li").count() == 1
    assert page.locator("#offline-banner").is_visible()
    page.screenshot(path=str(screenshots / "scan-failed-tablet.png"))
    assert not ScanEvent.objects.exists()

    # Scanning the same code again is the same scan, not a second one.
    scan_with_handheld(page, token)
    wait_until(page, "() => document.querySelector('#verdict').dataset.state === 'failed'")
    assert len(sent) == 2
    assert page.locator("#queue-list li").count() == 1

    page.click("#verdict [data-action=retry]")
    wait_for_verdict(page, "admit", "ok")
    assert len(sent) == 3 and len(set(sent)) == 1
    assert str(ScanEvent.objects.get().scan_id) == sent[0]
    assert page.locator("#queue-list li").count() == 0
    assert page.locator("#queue-panel").is_hidden()
    trip.refresh_from_db()
    assert trip.status == TripStatus.INSIDE
    assert page.errors == []
    page.context.close()


def test_a_driver_without_a_phone_is_found_by_plate_and_confirmed(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    user = staff_user(checkpoint, username="staff")
    StaffAssignment.objects.filter(user=user).update(supervisor=True)
    trip, _ = open_trip(checkpoint)
    page = open_page(chromium, live_server, PHONE)
    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)

    page.click("#lookup-input")
    page.keyboard.type(trip.vehicle.plate)
    page.keyboard.press("Enter")
    found = page.locator("#lookup-results li")
    found.wait_for()
    assert trip.reference in found.inner_text()
    page.screenshot(path=str(screenshots / "scan-lookup-phone.png"))
    found.locator("[data-action=scan-found]").click()
    wait_for_verdict(page, "admit", "ok")

    # Staff read another plate on the truck: checked again beside the registered one, then
    # confirmed as different, the admitted entry becomes a refusal.
    page.click("#verdict [data-action=confirm]")
    assert page.input_value("#confirm-plate") == trip.vehicle.plate
    page.fill("#confirm-plate", "豫H99999")
    page.click("[data-form=confirm] button[type=submit]")
    page.locator("[data-form=recheck]").wait_for()
    page.click("[data-recheck=differs]")
    wait_for_verdict(page, "refuse", "plate_mismatch")
    trip.refresh_from_db()
    assert trip.status == TripStatus.REGISTERED
    page.screenshot(path=str(screenshots / "scan-mismatch-phone.png"), full_page=True)

    # A supervisor admits it in writing; the scan keeps its refusal and records the override.
    page.click("#verdict [data-action=override]")
    page.fill("#override-reason", "车牌临时更换，已核对行驶证")
    page.click("[data-form=override] button[type=submit]")
    wait_until(page, "() => document.querySelector('#verdict').dataset.outcome === 'override'")
    scan = ScanEvent.objects.get()
    assert scan.overridden_by_id == user.pk
    assert page.errors == []
    page.context.close()


def test_a_yellow_code_is_sampled_then_leaves_and_a_walk_in_is_recorded(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站")
    staff_user(checkpoint, username="staff")
    # No test result: the pass is yellow (a landing test at the checkpoint).
    trip = make_trip(
        dispatcher(),
        checkpoint,
        planned_arrival=at(0.5),
        planned_departure=at(12),
        test_result="none",
        test_sampled_at=None,
    )
    token = pass_token(Pass.objects.get(trip=trip))
    page = open_page(chromium, live_server, TABLET)
    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)

    scan_with_handheld(page, token)
    wait_for_verdict(page, "admit_with_test", "test_required")
    page.click("#verdict [data-action=landing]")
    wait_until(page, "() => document.querySelector('#verdict [data-action=landing]').hidden")
    assert ScanEvent.objects.get().landing_test == "sampled"
    page.screenshot(path=str(screenshots / "scan-yellow-tablet.png"))

    # Leaving the city: the direction is kept on the tablet across a reload.
    page.click("#verdict [data-action=next]")
    page.click("[data-direction-choice=out]")
    page.reload()
    wait_until(page, "() => document.querySelector('#scan-app').dataset.ready === 'true'")
    assert page.get_attribute("[data-direction-choice=out]", "aria-pressed") == "true"
    scan_with_handheld(page, token)
    wait_for_verdict(page, "admit", "ok")
    trip.refresh_from_db()
    assert trip.status == TripStatus.EXITED

    # An unregistered truck: recorded as a walk-in.
    page.click("#verdict [data-action=next]")
    page.click("[data-direction-choice=in]")
    page.click("[data-open-walk-in]")
    assert page.evaluate("document.activeElement.id") == "walk-in-plate"
    page.keyboard.type("豫H55555")
    page.check("input[name=outcome][value=sent_to_register]")
    page.fill("#walk-in-driver", "赵师傅")
    page.screenshot(path=str(screenshots / "scan-walk-in-tablet.png"))
    page.click("#walk-in-form button[type=submit]")
    wait_until(page, "() => document.querySelector('#walk-in').hidden")
    walk_in = WalkIn.objects.get()
    assert (walk_in.plate, walk_in.outcome, walk_in.direction) == (
        "豫H55555",
        "sent_to_register",
        "in",
    )
    assert page.locator("#recent-list li").first.get_attribute("data-verdict") == "walk_in"
    assert page.locator("#recent-list li").count() == 3
    page.screenshot(path=str(screenshots / "scan-recent-tablet.png"))
    assert page.errors == []
    page.context.close()


def test_a_scan_made_offline_is_kept_and_sent_when_the_connection_returns(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    page, checkpoint = staff_scan_page(chromium, live_server, PHONE)
    wait_until(page, BUNDLE_READY)  # the pass is newer than the tablet's data, as above
    trip, token = open_trip(checkpoint)

    page.context.set_offline(True)
    scan_with_handheld(page, token)
    wait_until(page, "() => document.querySelector('#verdict').dataset.state === 'failed'")
    assert page.locator("#offline-banner").is_visible()
    assert page.get_attribute("#scan-app", "data-queued") == "1"
    page.screenshot(path=str(screenshots / "scan-offline-phone.png"))
    # Kept on the tablet: a reload while offline loses nothing.
    assert [job["token"] for job in queued_on_the_tablet(page, checkpoint.code)] == [token]
    assert not ScanEvent.objects.exists()

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_for_verdict(page, "admit", "ok")
    assert ScanEvent.objects.count() == 1
    assert page.get_attribute("#scan-app", "data-queued") == "0"
    trip.refresh_from_db()
    assert trip.status == TripStatus.INSIDE
    page.screenshot(path=str(screenshots / "scan-admit-phone.png"))
    assert page.errors == []
    page.context.close()


def without_wasm_eval(route: Any) -> None:
    """The scan page, its policy stripped of 'wasm-unsafe-eval'."""
    response = route.fetch()
    headers = dict(response.headers)
    policy = headers["content-security-policy"]
    headers["content-security-policy"] = policy.replace(" 'wasm-unsafe-eval'", "")
    route.fulfill(response=response, headers=headers)


@pytest.mark.parametrize("breakage", ["wasm_unreachable", "csp_without_wasm_eval"])
def test_a_decoder_that_cannot_start_is_shown(
    camera_chromium: Any, live_server: Any, regions: None, tmp_path: Path, breakage: str
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    staff_user(checkpoint, username="staff")
    _, token = open_trip(checkpoint)
    browser = camera_chromium(qr_video(qr.qr_png(token), tmp_path))
    page = open_page(browser, live_server, TABLET)
    page.context.grant_permissions(["camera"], origin=live_server.url)
    if breakage == "wasm_unreachable":
        # For the page's service worker too, which would otherwise keep it at install.
        page.context.route("**/zxing_reader.wasm", lambda route: route.abort())
    else:
        page.route("**/scan/", without_wasm_eval)
    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)

    page.click("#camera-toggle")
    wait_until(
        page,
        "() => document.querySelector('#camera-status').dataset.state === 'decoder_failed'",
        timeout=30,
    )
    assert page.locator("#camera-status").is_visible()
    assert page.locator("#camera-view").is_hidden()
    assert page.locator("#camera-toggle").is_enabled()
    # The handheld scanner still works.
    scan_with_handheld(page, token)
    wait_for_verdict(page, "admit", "ok")
    page.context.close()
