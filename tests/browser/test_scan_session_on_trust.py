"""The tablet page on the path its scans take in production: on PostgreSQL, with what a request
finds about its account kept between requests, the page's session is read with each scan's lock
(``passcode_portal.auth.session_on_trust``). Scans are admitted as ever; signed out elsewhere,
the next scan is kept on the tablet and not recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import override_settings

from checkpoints.models import ScanEvent
from tests.browser.conftest import TABLET
from tests.browser.scanpage import (
    VERDICT,
    open_trip,
    page_texts,
    scan_with_handheld,
    staff_scan_page,
    wait_for_verdict,
    wait_until,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            "the session is read with the lock only on PostgreSQL; elsewhere every scan reads it "
            "on its own (tests/checkpoints/test_session_read_each_scan.py); CI runs this on "
            "PostgreSQL"
        ),
    ),
]


@pytest.fixture(autouse=True)
def kept_between_requests() -> Iterator[None]:
    with override_settings(API_AUTH_CACHE_SECONDS=60, HOT_CACHE_SECONDS=60):
        yield


def test_the_tablet_scans_on_trust_and_a_sign_out_elsewhere_stops_it(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    page, checkpoint = staff_scan_page(chromium, live_server, TABLET)
    trips = [open_trip(checkpoint) for _ in range(3)]
    texts = page_texts(page)

    for trip, token in trips[:2]:
        scan_with_handheld(page, token)
        wait_for_verdict(page, "admit", "ok")
        assert ScanEvent.objects.filter(trip=trip, verdict="admit").count() == 1
        page.click("#verdict [data-action=next]")

    Session.objects.all().delete()  # signed out on another tablet, or by an administrator
    scan_with_handheld(page, trips[2][1])
    wait_until(page, f"() => ({VERDICT})() && ({VERDICT})().state === 'failed'")

    assert page.locator("#verdict [data-slot=message]").inner_text() == texts["session"]
    assert not ScanEvent.objects.filter(trip=trips[2][0]).exists()
    page.screenshot(path=str(screenshots / "scan-signed-out-elsewhere-tablet.png"))
    assert page.errors == []
    page.context.close()
