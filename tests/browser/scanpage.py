"""Driving the checkpoint's scan page in the browser tests: signing in, scanning as a handheld
scanner does, and reading the verdict on screen. The page runs under a strict
Content-Security-Policy, so these poll with ``page.evaluate`` (``wait_for_function`` evaluates a
string, which the policy forbids)."""

from __future__ import annotations

import json
import time
from typing import Any

from places.models import Checkpoint
from tests.browser.conftest import open_page
from tests.factories import PASSWORD, CheckpointFactory, at, dispatcher, make_trip, staff_user
from trucks.models import Pass, Trip
from trucks.services import pass_token

# The service worker controls the page, and keeps a copy of it under its URL in a "scan-pages-"
# cache: the page opens with the network off.
CONTROLLED = "() => navigator.serviceWorker.controller !== null"
# Whether the worker keeps this page: a copy under its URL in a "scan-pages-" cache.
KEPT = """async () => {
  for (const name of await caches.keys()) {
    if (name.startsWith('scan-pages-')
        && await (await caches.open(name)).match(location.origin + location.pathname)) {
      return true;
    }
  }
  return false;
}"""


# The page holds its checkpoint's bundle, synced or restored, and can decide offline.
BUNDLE_READY = "() => document.querySelector('#scan-app').dataset.bundle === 'ready'"

# The verdict on screen: {verdict, reason, state}, or null while none is shown.
VERDICT = """() => {
  const v = document.querySelector('#verdict');
  return v && !v.hidden ? {verdict: v.dataset.verdict, reason: v.dataset.reason,
                           state: v.dataset.state} : null;
}"""


def open_trip(checkpoint: Checkpoint) -> tuple[Trip, str]:
    """A trip registered through the real service, arriving within the hour: its pass window
    (opening hours before the planned arrival) is open now."""
    trip = make_trip(dispatcher(), checkpoint, planned_arrival=at(0.5), planned_departure=at(12))
    pass_ = Pass.objects.get(trip=trip)
    return trip, pass_token(pass_)


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{live_server.url}/")


def open_scan_page(page: Any, live_server: Any, code: str) -> None:
    page.goto(f"{live_server.url}/checkpoints/{code}/scan/")
    wait_until(page, "() => document.querySelector('#scan-app').dataset.ready === 'true'")


def wait_until(page: Any, script: str, timeout: float = 20) -> Any:
    """Poll a function in the page until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {script}")
        page.wait_for_timeout(100)


def wait_for_verdict(page: Any, verdict: str, reason: str | None = None) -> dict[str, str]:
    """Wait until the verdict panel shows ``verdict``; then check its reason."""
    deadline = time.monotonic() + 20
    while True:
        shown = page.evaluate(VERDICT)
        if shown and shown["verdict"] == verdict:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {verdict}; the page shows {shown}")
        page.wait_for_timeout(100)
    if reason is not None:
        assert shown["reason"] == reason, shown
    return dict(shown)


def scan_with_handheld(page: Any, text: str) -> None:
    """What a keyboard-wedge scanner does: type into the focused field and press Enter."""
    assert page.evaluate("document.activeElement.id") == "scanner-input"
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def page_texts(page: Any) -> dict[str, Any]:
    """The words the page was given to show (its config), as the server translated them."""
    texts: dict[str, Any] = json.loads(page.locator("#scan-config").text_content())["texts"]
    return texts


def staff_scan_page(chromium: Any, live_server: Any, viewport: dict[str, int]) -> tuple[Any, Any]:
    """Checkpoint JZ-G55-N with its staff member "staff" signed in and its scan page ready:
    (page, checkpoint)."""
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    staff_user(checkpoint, username="staff")
    page = open_page(chromium, live_server, viewport)
    sign_in(page, live_server, "staff")
    open_scan_page(page, live_server, checkpoint.code)
    return page, checkpoint


# The scans the tablet keeps to send, read from its IndexedDB as the page wrote them.
QUEUED = """async (code) => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open('passcode-scan-' + code);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const rows = await new Promise((resolve, reject) => {
    const request = db.transaction('queue').objectStore('queue').getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  db.close();
  return rows;
}"""


def queued_on_the_tablet(page: Any, code: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = page.evaluate(QUEUED, code)
    return rows
