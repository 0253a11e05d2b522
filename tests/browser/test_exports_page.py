"""The exports page in Chromium: an official queues an export, sees its progress move and its
download link appear without a reload (the page polls the API), and downloads the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dashboards.exports import services
from dashboards.models import Export
from tests.browser.conftest import PHONE, open_page
from tests.browser.scanpage import sign_in, wait_until
from tests.dashboards.exporting import DAY, SCAN_HEADERS, make_rows, read_csv, scan_rows
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1440, "height": 900}


def test_an_export_is_queued_followed_and_downloaded(
    chromium: Any, live_server: Any, regions: None, screenshots: Path, settings: Any, tmp_path: Path
) -> None:
    settings.EXPORTS_DIR = str(tmp_path / "exports")
    rows = make_rows()
    UserFactory(role="official", username="official")
    page = open_page(chromium, live_server, DESKTOP, locale="en-GB")
    sign_in(page, live_server, "official")
    page.goto(f"{live_server.url}/dashboard/exports/")
    page.fill("#export-from", DAY)
    page.fill("#export-to", DAY)
    page.check("#export-background")
    with page.expect_navigation():
        page.click(".export-fields button[type=submit]")
    export = Export.objects.get()
    row = f'tr[data-export="{export.pk}"]'
    assert page.locator(f"{row} [data-status-text]").inner_text() == "Queued"

    # The worker's progress, half-way, shows without a reload; then the file is built.
    Export.objects.filter(pk=export.pk).update(status="running", rows_done=1, rows_total=2)
    wait_until(page, f"() => document.querySelector('{row} progress').value === 0.5")
    Export.objects.filter(pk=export.pk).update(status="queued")
    services.export_build(export_id=export.pk)
    wait_until(page, f"() => document.querySelector('{row} [data-download]')")
    assert page.locator(f"{row} [data-status-text]").inner_text() == "Ready"
    page.screenshot(path=str(screenshots / "exports-desktop.png"), full_page=True)

    with page.expect_download() as info:
        page.click(f"{row} [data-download]")
    body = Path(info.value.path()).read_bytes()
    assert read_csv(body) == [SCAN_HEADERS, *scan_rows(rows)]
    assert info.value.suggested_filename == f"scans-{DAY}-{DAY}.csv"

    phone = open_page(chromium, live_server, PHONE)
    sign_in(phone, live_server, "official")
    phone.goto(f"{live_server.url}/dashboard/exports/")
    phone.screenshot(path=str(screenshots / "exports-phone.png"), full_page=True)
    assert page.errors == [] and phone.errors == []
    assert page.outside_requests == [] and phone.outside_requests == []
