"""The scan page as an installed app, in Debian's Chromium: the browser reads the checkpoint's
manifest and its icons; the service worker takes the page over on its first opening and keeps
it; with the network off (offline emulation, and every request aborted, the worker's own too)
the page opens from the tablet with its scripts running and its QR decoder working; the API is
never answered from the tablet; signing out leaves no page behind; the screen stays awake.

The page runs under a strict Content-Security-Policy, so the tests poll with ``page.evaluate``."""

from __future__ import annotations

import base64
import io
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from PIL import Image

from checkpoints import pwa
from tests.browser.conftest import PHONE, TABLET, open_page
from tests.browser.scanpage import (
    CONTROLLED,
    KEPT,
    open_scan_page,
    sign_in,
    staff_scan_page,
    wait_until,
)
from tests.factories import CheckpointFactory, staff_user
from trucks import qr

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every URL the worker keeps, by cache.
CACHED = """async () => {
  const kept = {};
  for (const name of await caches.keys()) {
    kept[name] = (await (await caches.open(name)).keys()).map(request => request.url);
  }
  return kept;
}"""


def kept_pages(cached: dict[str, list[str]]) -> list[str]:
    return [url for name, urls in cached.items() if name.startswith("scan-pages-") for url in urls]


READY = "() => document.querySelector('#scan-app').dataset.ready === 'true'"


def kept_scan_page(chromium: Any, live_server: Any, viewport: dict[str, int]) -> Any:
    """Staff's scan page, opened once online: the worker controls it and keeps it."""
    page, _checkpoint = staff_scan_page(chromium, live_server, viewport)
    wait_until(page, CONTROLLED)
    wait_until(page, KEPT)
    return page


def sign_out(page: Any, live_server: Any) -> None:
    page.click("form[data-sign-out] button")
    page.wait_for_url(f"{live_server.url}/accounts/login/")


def go_offline(page: Any) -> list[str]:
    """The network off: the browser's offline emulation, and every request aborted whoever
    makes it (Playwright routes the service worker's requests too). Returns the list of the
    requests that tried."""
    tried: list[str] = []

    def refuse(route: Any) -> None:
        tried.append(route.request.url)
        route.abort("internetdisconnected")

    page.context.set_offline(True)
    page.context.route("**/*", refuse)
    return tried


def test_the_browser_reads_the_checkpoints_manifest(
    chromium: Any, live_server: Any, regions: None
) -> None:
    page, checkpoint = staff_scan_page(chromium, live_server, TABLET)
    wait_until(page, CONTROLLED)
    cdp = page.context.new_cdp_session(page)

    manifest = cdp.send("Page.getAppManifest")

    here = f"{live_server.url}/checkpoints/{checkpoint.code}"
    assert manifest["url"] == f"{here}/manifest.webmanifest"
    assert manifest["errors"] == []
    parsed = manifest["manifest"]
    assert parsed["startUrl"] == f"{here}/scan/"
    assert parsed["scope"] == f"{live_server.url}/checkpoints/"
    assert parsed["display"] == "kStandalone"  # CDP's own spelling
    assert parsed["name"] == f"扫码核验 · {checkpoint.name}"
    # Nothing stands in the way of installing it but the test's own private profile.
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert {error["errorId"] for error in errors} <= {"in-incognito"}, errors

    # Every icon the browser found is a PNG of the size the manifest says.
    assert len(parsed["icons"]) == 3
    for icon in parsed["icons"]:
        answer = page.request.get(icon["url"])
        assert answer.status == 200
        assert answer.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(answer.body())) as image:
            assert image.format == "PNG"
            assert f"{image.width}x{image.height}" == icon["sizes"]
    served = json.loads(manifest["data"])  # the manifest as the browser received it
    assert [icon["purpose"] for icon in served["icons"]] == ["any", "any", "maskable"]
    assert page.outside_requests == []


def test_the_page_is_refused_its_manifest_on_another_checkpoint(
    chromium: Any, live_server: Any, regions: None
) -> None:
    page, _checkpoint = staff_scan_page(chromium, live_server, TABLET)
    other = CheckpointFactory(code="JZ-G55-S")

    answer = page.request.get(f"{live_server.url}/checkpoints/{other.code}/manifest.webmanifest")

    assert answer.status == 403


def test_the_worker_takes_the_page_over_on_its_first_opening(
    chromium: Any, live_server: Any, regions: None
) -> None:
    page, _checkpoint = staff_scan_page(chromium, live_server, TABLET)

    # skipWaiting and clients.claim: no second opening needed to be ready for the network's end.
    wait_until(page, CONTROLLED)
    script = page.evaluate("navigator.serviceWorker.controller.scriptURL")
    assert script == f"{live_server.url}/checkpoints/sw.js"
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)") == (
        f"{live_server.url}/checkpoints/"
    )
    wait_until(page, KEPT)

    response = page.reload()
    wait_until(page, READY)
    assert response.from_service_worker
    assert page.errors == []


def test_the_page_opens_offline_with_its_scripts_and_decoder(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    page = kept_scan_page(chromium, live_server, TABLET)
    scan_url = page.url
    tried = go_offline(page)

    response = page.reload()

    assert response.from_service_worker
    wait_until(page, READY)
    assert page.url == scan_url
    assert page.evaluate("navigator.onLine") is False
    page.screenshot(path=str(screenshots / "scan-offline-tablet.png"))

    # The decoder's WebAssembly, from the tablet: whole.
    wasm = page.get_attribute("#scan-app", "data-wasm-url")
    size = page.evaluate("async url => (await (await fetch(url)).arrayBuffer()).byteLength", wasm)
    assert size == Path(finders.find("vendor/zxing-wasm/zxing_reader.wasm")).stat().st_size

    # And the decoder itself reads a QR code, offline, as scan-camera.js loads it.
    png = base64.b64encode(qr.qr_png("TP1-OFFLINE-CHECK")).decode()
    read = page.evaluate(
        """async ([detectorUrl, wasmUrl, png]) => {
          const module = await import(detectorUrl);
          const wasm = new URL(wasmUrl, location.href).href;
          module.setZXingModuleOverrides({
            locateFile: (path, prefix) => path.endsWith('.wasm') ? wasm : prefix + path,
          });
          const bytes = Uint8Array.from(atob(png), c => c.charCodeAt(0));
          const bitmap = await createImageBitmap(new Blob([bytes], {type: 'image/png'}));
          const found = await new module.BarcodeDetector({formats: ['qr_code']}).detect(bitmap);
          return found.map(code => code.rawValue);
        }""",
        [page.get_attribute("#scan-app", "data-detector-url"), wasm, png],
    )
    assert read == ["TP1-OFFLINE-CHECK"]

    # The page's own request went out (network first) and failed; nothing went anywhere else.
    assert scan_url in tried
    assert all(url.startswith(live_server.url) for url in tried), tried
    assert page.outside_requests == []
    assert page.errors == []


def test_a_new_deployment_replaces_the_kept_files_and_keeps_the_page(
    chromium: Any, live_server: Any, regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = kept_scan_page(chromium, live_server, TABLET)
    before = set(page.evaluate(CACHED))
    # A deployment that changes what the page loads: a new version of the worker.
    monkeypatch.setattr(pwa, "PRECACHE", (*pwa.PRECACHE, "js/arrivals.js"))

    # The new worker takes the page over, and is activated once it has kept the page and
    # dropped the old caches.
    page.evaluate("""() => {
      navigator.serviceWorker.addEventListener('controllerchange', () => { window.taken = true; });
      return navigator.serviceWorker.getRegistration().then(registration => registration.update());
    }""")
    wait_until(
        page, "() => window.taken && navigator.serviceWorker.controller.state === 'activated'"
    )

    kept = page.evaluate(CACHED)
    assert len(kept) == 2 and not set(kept) & before  # the old version's caches are gone
    [static_files] = [urls for name, urls in kept.items() if name.startswith("scan-static-")]
    assert f"{live_server.url}/static/js/arrivals.js" in static_files
    # The page open when the new worker came is kept under the new version, fetched anew.
    assert kept_pages(kept) == [page.url]
    go_offline(page)
    page.reload()
    wait_until(page, READY)
    assert page.errors == []


def test_the_api_is_never_answered_from_the_tablet(
    chromium: Any, live_server: Any, regions: None
) -> None:
    page = kept_scan_page(chromium, live_server, TABLET)
    checkpoints = f"{live_server.url}/api/v1/checkpoints/"
    fetch = """async url => {
      try {
        const r = await fetch(url, {headers: {Accept: 'application/json'}});
        return r.status;
      } catch (error) {
        return error.name;
      }
    }"""
    assert page.evaluate(fetch, checkpoints) == 200  # answered online, through the worker

    go_offline(page)

    assert page.evaluate(fetch, checkpoints) == "TypeError"
    kept = [url for urls in page.evaluate(CACHED).values() for url in urls]
    assert kept and not [url for url in kept if "/api/" in url]


def test_a_slow_network_opens_the_kept_page_after_three_seconds(
    chromium: Any, live_server: Any, regions: None
) -> None:
    page = kept_scan_page(chromium, live_server, TABLET)
    scan_url = page.url
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)  # answered at the end of the test, long after the page opened

    page.context.route(scan_url, hold)
    started = time.monotonic()
    page.reload()
    wait_until(page, READY)
    waited = time.monotonic() - started

    assert held, "the worker did not ask the network first"
    assert 2.5 < waited < 8, waited
    for route in held:
        route.abort()


def test_signing_out_leaves_no_page_on_the_tablet(
    chromium: Any, live_server: Any, regions: None
) -> None:
    page = kept_scan_page(chromium, live_server, TABLET)
    scan_url = page.url

    sign_out(page, live_server)

    assert kept_pages(page.evaluate(CACHED)) == []
    go_offline(page)
    with pytest.raises(Exception, match=r"ERR_INTERNET_DISCONNECTED|ERR_FAILED"):
        page.goto(scan_url)


def test_a_session_that_ended_drops_the_kept_pages(
    chromium: Any, live_server: Any, regions: None
) -> None:
    page = kept_scan_page(chromium, live_server, TABLET)
    scan_url = page.url
    page.context.clear_cookies()  # the session ended elsewhere (expired, signed out)

    page.goto(scan_url)
    page.wait_for_url(re.compile(re.escape(f"{live_server.url}/accounts/login/?next=")))

    kept = page.evaluate(CACHED)
    assert kept_pages(kept) == []
    # The static files stay: they are no one's.
    assert any(name.startswith("scan-static-") for name in kept)


def test_another_user_on_the_tablet_opens_their_own_checkpoint(
    chromium: Any, live_server: Any, regions: None
) -> None:
    page = kept_scan_page(chromium, live_server, TABLET)
    first = page.url
    sign_out(page, live_server)
    south = CheckpointFactory(code="JZ-G55-S")
    staff_user(south, username="south")

    sign_in(page, live_server, "south")
    open_scan_page(page, live_server, south.code)
    wait_until(page, KEPT)

    pages = kept_pages(page.evaluate(CACHED))
    assert pages == [f"{live_server.url}/checkpoints/{south.code}/scan/"]
    assert first not in pages


WAKE_LOCK_COUNTER = """
(() => {
  window.__wakeLockRequests = [];
  if (!('wakeLock' in navigator)) {
    return;  // counted below only where the browser has the API
  }
  const request = navigator.wakeLock.request.bind(navigator.wakeLock);
  navigator.wakeLock.request = function (type) {
    window.__wakeLockRequests.push({type: type, visibility: document.visibilityState});
    return request(type);
  };
})();
"""
SET_VISIBILITY = """state => {
  Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => state});
  Object.defineProperty(document, 'hidden', {configurable: true, get: () => state === 'hidden'});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_the_screen_stays_awake_on_opening_and_on_coming_back(
    chromium: Any, live_server: Any, regions: None
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N")
    staff_user(checkpoint, username="staff")
    page = open_page(chromium, live_server, TABLET)
    page.context.add_init_script(WAKE_LOCK_COUNTER)
    sign_in(page, live_server, "staff")
    assert page.evaluate("'wakeLock' in navigator")

    open_scan_page(page, live_server, checkpoint.code)
    page.wait_for_timeout(300)
    requests = page.evaluate("window.__wakeLockRequests")
    assert requests == [{"type": "screen", "visibility": "visible"}]

    # Hidden (another app in front): the browser lets the lock go, and the page asks nothing.
    page.evaluate(SET_VISIBILITY, "hidden")
    page.wait_for_timeout(300)
    assert len(page.evaluate("window.__wakeLockRequests")) == 1

    # Visible again: the page takes the lock again.
    page.evaluate(SET_VISIBILITY, "visible")
    wait_until(page, "() => window.__wakeLockRequests.length === 2")
    again = page.evaluate("window.__wakeLockRequests")[1]
    assert again == {"type": "screen", "visibility": "visible"}
    assert page.errors == []


STYLES = """() => [...document.styleSheets].map(sheet => [sheet.href, sheet.cssRules.length])"""


@pytest.mark.parametrize(("viewport", "name"), [(TABLET, "tablet"), (PHONE, "phone")])
def test_the_page_offline_is_laid_out_as_online(
    chromium: Any,
    live_server: Any,
    regions: None,
    screenshots: Path,
    viewport: dict[str, int],
    name: str,
) -> None:
    page = kept_scan_page(chromium, live_server, viewport)
    page.screenshot(path=str(screenshots / f"scan-online-{name}.png"))
    styles = page.evaluate(STYLES)
    header = page.evaluate("getComputedStyle(document.querySelector('.site-header')).height")
    go_offline(page)

    page.reload()
    wait_until(page, READY)
    page.screenshot(path=str(screenshots / f"scan-offline-{name}.png"))

    assert [href for href, _rules in styles] == [
        f"{live_server.url}/static/css/app.css",
        f"{live_server.url}/static/css/scan.css",
    ]
    assert page.evaluate(STYLES) == styles
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).height") == (
        header
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.errors == []
