"""The checkpoint with no network (docs/architecture.md, "Scanning offline"): the scan page opened
online, then cut off, service worker and all; verdicts decided on the tablet from its synced
bundle, the same as the server's; scans kept across a reload and sent once when the network is
back; two checkpoints admitting one pass offline give one conflict alert."""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from checkpoints import services as checkpoint_services
from checkpoints.models import Alert, ScanEvent
from tests.browser.conftest import PHONE, TABLET, open_page, qr_video
from tests.browser.scanpage import (
    BUNDLE_READY,
    CONTROLLED,
    KEPT,
    VERDICT,
    open_scan_page,
    open_trip,
    queued_on_the_tablet,
    scan_with_handheld,
    sign_in,
    wait_until,
)
from tests.factories import CheckpointFactory, at, dispatcher, make_trip, staff_user
from trucks import passcode, qr
from trucks.models import Pass, PassStatus, Trip, TripStatus
from trucks.services import pass_token, trip_cancel
from trucks.services.passes import revoke_active_passes

pytestmark = pytest.mark.browser

DONE = """() => {
  const v = document.querySelector('#verdict');
  return v && !v.hidden && v.dataset.state === 'done' ? {verdict: v.dataset.verdict,
    reason: v.dataset.reason, offline: v.dataset.offline} : null;
}"""


class Network:
    """The tablet's network, cut and restored: the browser told it is offline, and every
    request of the context aborted, the service worker's too (Playwright routes them in
    Chromium). Requests for another host are recorded as the page's own route does."""

    def __init__(self, page: Any, live_server: Any) -> None:
        self.page = page
        self.live_server = live_server

    def _abort(self, route: Any) -> None:
        if not route.request.url.startswith(self.live_server.url):
            self.page.outside_requests.append(route.request.url)
        route.abort("internetdisconnected")

    def cut(self) -> None:
        self.page.context.set_offline(True)
        self.page.context.route("**/*", self._abort)

    def restore(self) -> None:
        self.page.context.unroute("**/*", self._abort)
        self.page.context.set_offline(False)
        self.page.evaluate("window.dispatchEvent(new Event('online'))")


def tablet(chromium: Any, live_server: Any, code: str, user: str, viewport: dict[str, int]) -> Any:
    page = open_page(chromium, live_server, viewport)
    sign_in(page, live_server, user)
    open_scan_page(page, live_server, code)
    wait_until(page, CONTROLLED)
    wait_until(page, KEPT)
    wait_until(page, BUNDLE_READY)
    return page


def offline_verdict(page: Any, token: str) -> dict[str, str]:
    """Scan ``token`` with the handheld scanner and read the verdict, decided on the tablet."""
    if page.locator("#verdict").is_visible():
        page.click("#verdict [data-action=next]")
    scan_with_handheld(page, token)
    shown: dict[str, str] = wait_until(page, DONE)
    assert shown["offline"] == "true", shown
    return shown


def forged_token(pass_id: int) -> str:
    """A token of the right form under our key id, signed with another key."""
    other = "1:" + base64.b64encode(os.urandom(32)).decode()
    with override_settings(PASS_SIGNING_KEY=other):
        return passcode.encode(pass_id=pass_id, valid_until=timezone.now() + timedelta(hours=8))


def wait_sent(page: Any, timeout: float = 30) -> None:
    wait_until(
        page, "() => document.querySelector('#scan-app').dataset.unsent === '0'", timeout=timeout
    )


# ---------------------------------------------------------------------------------------------
# The same cases through the server and through the tablet


def _cases(checkpoint: Any) -> dict[str, str]:
    """One pass (or code) per reason a bundle can decide, in the state that gives it, by their
    expected reason: {reason: token}."""
    company_user = dispatcher()
    staff = staff_user(checkpoint, username="other-lane")

    def trip(**overrides: Any) -> Trip:
        values = {"planned_arrival": at(0.5), "planned_departure": at(12)} | overrides
        return make_trip(company_user, checkpoint, **values)

    def token_of(t: Trip) -> str:
        return pass_token(Pass.objects.filter(trip=t).latest("issued_at"))

    cases: dict[str, str] = {}
    cases["ok"] = token_of(trip())
    cases["test_required"] = token_of(trip(test_sampled_at=at(-60)))
    cases["red_code"] = token_of(trip(test_result="positive", test_sampled_at=at(-3)))
    revoked = trip()
    revoked_token = token_of(revoked)
    with transaction.atomic():
        revoke_active_passes(trip=revoked, reason="检测阳性复核", now=timezone.now())
    cases["revoked"] = revoked_token
    cancelled = trip()
    cases["cancelled"] = token_of(cancelled)
    trip_cancel(actor=company_user, trip=cancelled)
    expired = trip()
    # A window kept to the whole minute, as issued ones are (the token carries the minute).
    ended = passcode.window_minute(at(-1))
    Pass.objects.filter(trip=expired).update(valid_from=at(-10), valid_until=ended)
    cases["expired"] = token_of(expired)
    cases["not_yet_valid"] = token_of(trip(planned_arrival=at(40), planned_departure=at(50)))
    inside = trip()
    cases["already_inside"] = token_of(inside)
    checkpoint_services.scan_perform(
        staff=staff,
        checkpoint=checkpoint,
        data=checkpoint_services.ScanInput(token=cases["already_inside"], direction="in"),
    )
    gone = trip()
    cases["unknown"] = token_of(gone)
    Trip.objects.filter(pk=gone.pk).delete()
    trip()  # a pass issued after it: the missing id is below the highest
    cases["invalid"] = forged_token(Pass.objects.order_by("pk").first().pk)  # type: ignore[union-attr]
    return cases


def test_the_tablet_decides_offline_as_the_server_decides_online(
    chromium: Any, live_server: Any, regions: None
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    staff_user(checkpoint, username="staff")
    cases = _cases(checkpoint)
    page = tablet(chromium, live_server, checkpoint.code, "staff", TABLET)
    network = Network(page, live_server)
    network.cut()

    offline = {
        reason: (shown["verdict"], shown["reason"])
        for reason, shown in ((r, offline_verdict(page, t)) for r, t in cases.items())
    }
    # Nothing reached the server; the tablet keeps every scan to send.
    assert ScanEvent.objects.filter(staff__username="staff").count() == 0
    assert len(queued_on_the_tablet(page, checkpoint.code)) == len(cases)
    assert page.errors == [] and page.outside_requests == []
    page.context.close()

    # The same codes, online, through the API: the server's verdicts.
    client = APIClient()
    client.force_authenticate(staff_user(checkpoint, username="online"))
    online = {}
    for reason, token in cases.items():
        answer = client.post(
            f"/api/v1/checkpoints/{checkpoint.code}/scans/",
            {"token": token, "direction": "in"},
            format="json",
        )
        assert answer.status_code == 201, answer.content
        online[reason] = (answer.json()["verdict"], answer.json()["reason"])
    assert offline == online, {r: (offline[r], online[r]) for r in cases if offline[r] != online[r]}
    assert {reason: shown for reason, (_, shown) in offline.items()} == {r: r for r in cases}


# ---------------------------------------------------------------------------------------------
# The whole story at one checkpoint


def test_offline_verdicts_kept_across_a_reload_and_sent_once(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站")
    staff_user(checkpoint, username="staff")
    green_trip, green = open_trip(checkpoint)
    red_trip = make_trip(
        dispatcher(),
        checkpoint,
        planned_arrival=at(0.5),
        planned_departure=at(12),
        test_result="positive",
        test_sampled_at=at(-3),
    )
    red = pass_token(Pass.objects.get(trip=red_trip))
    revoked_trip, revoked = open_trip(checkpoint)
    with transaction.atomic():
        revoke_active_passes(trip=revoked_trip, reason="复核", now=timezone.now())
    later_trip, later = open_trip(checkpoint)
    forged = forged_token(green_trip.passes.get().pk)

    page = tablet(chromium, live_server, checkpoint.code, "staff", TABLET)
    network = Network(page, live_server)
    network.cut()

    assert offline_verdict(page, green) == {"verdict": "admit", "reason": "ok", "offline": "true"}
    page.screenshot(path=str(screenshots / "offline-admit-tablet.png"))
    banner = page.locator("#offline-banner")
    assert banner.is_visible() and banner.get_attribute("data-mode") == "offline"
    assert page.locator("#verdict [data-note=offline]").is_visible()
    assert offline_verdict(page, red)["reason"] == "red_code"
    # Its words say officials are alerted: the page says when that comes true.
    assert page.locator("#verdict [data-note=alert-later]").is_visible()
    assert offline_verdict(page, revoked)["reason"] == "revoked"
    assert offline_verdict(page, forged)["reason"] == "invalid"
    page.screenshot(path=str(screenshots / "offline-refuse-tablet.png"))
    assert banner.get_attribute("data-queued") == "4"
    # The list of scans not sent yet names each truck and the verdict it was given here.
    queued = page.locator("#queue-list li")
    assert [queued.nth(i).get_attribute("data-verdict") for i in range(4)] == [
        "admit",
        "refuse",
        "refuse",
        "refuse",
    ]
    assert green_trip.vehicle.plate in page.locator("#queue-list").inner_text()

    # Reloaded with no network: the service worker opens the page, the queue is still there.
    page.reload()
    wait_until(page, "() => document.querySelector('#scan-app').dataset.ready === 'true'")
    wait_until(page, BUNDLE_READY)
    assert len(queued_on_the_tablet(page, checkpoint.code)) == 4
    assert offline_verdict(page, later)["reason"] == "ok"
    # The green pass again: admitted offline here a moment ago, so it is inside.
    assert offline_verdict(page, green)["reason"] == "already_inside"
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(screenshots / "offline-phone.png"))
    # A pass registered after the last sync: its colour is not known here. No verdict; it
    # waits for the network, and the page says why.
    newer_trip, newer = open_trip(checkpoint)
    page.click("#verdict [data-action=next]")
    scan_with_handheld(page, newer)
    wait_until(page, "() => document.querySelector('#verdict').dataset.state === 'failed'")
    assert page.evaluate("document.querySelector('#verdict').dataset.verdict") == ""
    message = page.locator("#verdict [data-slot=message]").inner_text()
    assert "离线数据" in message
    page.screenshot(path=str(screenshots / "offline-newer-phone.png"))
    assert not ScanEvent.objects.exists()

    network.restore()
    wait_sent(page)
    newer_scan = ScanEvent.objects.get(trip=newer_trip)
    assert (newer_scan.verdict, newer_scan.reason, newer_scan.offline) == ("admit", "ok", False)
    scans = ScanEvent.objects.exclude(pk=newer_scan.pk).order_by("scanned_at")
    assert scans.count() == 6
    assert all(scan.offline for scan in scans)
    assert len({scan.scan_id for scan in scans}) == 6
    assert [s.reason for s in scans] == [
        "ok",
        "red_code",
        "revoked",
        "invalid",
        "ok",
        "already_inside",
    ]
    green_trip.refresh_from_db()
    later_trip.refresh_from_db()
    assert green_trip.status == later_trip.status == TripStatus.INSIDE
    # Sent once: a second round of the page's retries records nothing more.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_timeout(1500)
    assert ScanEvent.objects.count() == 7
    assert page.errors == [] and page.outside_requests == []
    page.context.close()


def test_the_camera_scans_offline(
    camera_chromium: Any, live_server: Any, regions: None, tmp_path: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    staff_user(checkpoint, username="staff")
    trip, token = open_trip(checkpoint)
    browser = camera_chromium(qr_video(qr.qr_png(token), tmp_path))
    page = open_page(browser, live_server, TABLET)
    page.context.grant_permissions(["camera"], origin=live_server.url)
    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)
    wait_until(page, CONTROLLED)
    wait_until(page, BUNDLE_READY)
    network = Network(page, live_server)
    network.cut()

    page.click("#camera-toggle")
    shown = wait_until(page, DONE)
    assert shown == {"verdict": "admit", "reason": "ok", "offline": "true"}
    assert page.evaluate(VERDICT)["state"] == "done"
    network.restore()
    wait_sent(page)
    scan = ScanEvent.objects.get()
    assert (scan.trip_id, scan.verdict, scan.offline) == (trip.pk, "admit", True)
    assert page.errors == [] and page.outside_requests == []
    page.context.close()


def test_one_pass_admitted_offline_at_two_checkpoints_is_one_conflict(
    chromium: Any, live_server: Any, regions: None
) -> None:
    north = CheckpointFactory(code="JZ-G55-N")
    south = CheckpointFactory(code="JZ-G207-S")
    staff_user(north, username="north")
    staff_user(south, username="south")
    trip, token = open_trip(north)
    pages = [
        tablet(chromium, live_server, north.code, "north", TABLET),
        tablet(chromium, live_server, south.code, "south", TABLET),
    ]
    networks = [Network(page, live_server) for page in pages]
    for page, network in zip(pages, networks, strict=True):
        network.cut()
        assert offline_verdict(page, token)["verdict"] == "admit"
    for page, network in zip(pages, networks, strict=True):
        network.restore()
        wait_sent(page)

    assert ScanEvent.objects.filter(verdict="admit", offline=True).count() == 2
    conflicts = Alert.objects.filter(kind="offline_conflict")
    assert conflicts.count() == 1
    assert conflicts.get().trip_id == trip.pk
    trip.refresh_from_db()
    assert trip.status == TripStatus.INSIDE
    assert Pass.objects.get(trip=trip).status == PassStatus.ACTIVE
    for page in pages:
        assert page.errors == [] and page.outside_requests == []
        page.context.close()


# ---------------------------------------------------------------------------------------------
# The switch, both ways, with no button


def test_the_page_switches_offline_and_back_by_itself(
    chromium: Any, live_server: Any, regions: None
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    staff_user(checkpoint, username="staff")
    tokens = [open_trip(checkpoint)[1] for _ in range(4)]
    page = tablet(chromium, live_server, checkpoint.code, "staff", TABLET)
    banner = page.locator("#offline-banner")
    assert banner.get_attribute("data-mode") == "online"
    scans_url = f"**/api/v1/checkpoints/{checkpoint.code}/scans/"
    held: list[str] = []

    def no_answer(route: Any) -> None:
        held.append(route.request.post_data_json["scan_id"])  # and never answered

    page.route(scans_url, no_answer)
    # A server that does not answer: each scan is decided on the tablet once 3 s have passed.
    for token in tokens[:2]:
        assert offline_verdict(page, token)["reason"] == "ok"
    assert len(held) == 2
    # Two of the last requests failed: the page works offline, and decides at once, asking
    # nothing of the server for the new scan.
    wait_until(page, "() => document.querySelector('#offline-banner').dataset.mode === 'offline'")
    assert offline_verdict(page, tokens[2])["reason"] == "ok"
    third = {job["scan_id"] for job in queued_on_the_tablet(page, checkpoint.code)} - set(held)
    assert len(third) == 1 and not third & set(held)

    # The server answers again: requests succeed, the page is online again by itself, and the
    # scans it kept are sent.
    page.unroute(scans_url, no_answer)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_until(
        page,
        "() => document.querySelector('#offline-banner').dataset.mode === 'online'",
        timeout=40,
    )
    wait_sent(page, timeout=40)
    assert ScanEvent.objects.filter(offline=True).count() == 3
    page.click("#verdict [data-action=next]")
    scan_with_handheld(page, tokens[3])
    shown = wait_until(page, DONE)
    assert shown == {"verdict": "admit", "reason": "ok", "offline": "false"}
    assert ScanEvent.objects.filter(offline=False).count() == 1
    assert page.errors == [] and page.outside_requests == []
    page.context.close()
