"""The officials' dashboard in Chromium: an official opens it, a scan made meanwhile shows in
its figures without a reload, the wall screen is dark and large, and no request leaves for any
host but the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from checkpoints import services
from checkpoints.models import Alert
from tests.browser.conftest import PHONE, open_page
from tests.browser.scanpage import open_trip, sign_in, wait_until
from tests.factories import CheckpointFactory, UserFactory, staff_user
from trucks.services import pass_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1440, "height": 900}
WALL = {"width": 1920, "height": 1080}


# Whether a chart's canvas holds anything but blank pixels.
DRAWN = """((name) => {
  const canvas = document.querySelector(`[data-chart="${name}"] canvas`);
  if (!canvas || !canvas.width) return false;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
  return false;
})"""


def figure(page: Any, name: str) -> str:
    return str(page.locator(f'[data-figure="{name}"]').inner_text()).strip()


def test_the_figures_follow_a_scan_without_a_reload(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(
        code="JZ-G55-N", name="二广高速焦作北站", latitude="35.27710", longitude="113.24140"
    )
    staff = staff_user(checkpoint)
    UserFactory(role="official", username="official")
    trip, _token = open_trip(checkpoint)
    page = open_page(chromium, live_server, DESKTOP)
    sign_in(page, live_server, "official")

    page.goto(f"{live_server.url}/dashboard/")
    for name in ("hourly", "trend", "origins", "map"):
        wait_until(page, f"() => drawn('{name}')".replace("drawn", DRAWN))
    assert figure(page, "entries") == "0"
    assert figure(page, "registrations") == "1"

    services.scan_perform(
        staff=staff,
        checkpoint=checkpoint,
        data=services.ScanInput(token=pass_token(trip.passes.get()), direction="in"),
    )
    # The page reads the figures again when it becomes visible, as it does every 15 s.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    wait_until(page, "() => document.querySelector('[data-figure=entries]').textContent === '1'")

    assert figure(page, "inside") == "1"
    assert page.locator("tr[data-checkpoint='JZ-G55-N'] [data-column=entries]").inner_text() == "1"
    assert page.locator("h1").inner_text() == "统计看板"
    page.screenshot(path=str(screenshots / "dashboard-desktop.png"), full_page=True)

    # The trip's timeline, found by its plate without the province character.
    page.goto(f"{live_server.url}/dashboard/lists/?q={trip.vehicle.plate[1:]}")
    page.click(f"[data-row='{trip.pk}'] a.reference")
    page.wait_for_selector("[data-event=scan]")
    assert page.locator("[data-event=scan]").count() == 1
    page.screenshot(path=str(screenshots / "timeline-desktop.png"), full_page=True)
    assert page.outside_requests == []
    assert page.errors == []
    page.context.close()


def test_the_wall_screen_is_dark_and_readable_from_across_the_room(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站")
    UserFactory(role="official", username="official")
    page = open_page(chromium, live_server, WALL)
    sign_in(page, live_server, "official")

    page.goto(f"{live_server.url}/dashboard/?wall=1")

    style = page.evaluate(
        """() => {
          const value = getComputedStyle(document.querySelector('[data-figure=entries]'));
          return {
            size: parseFloat(value.fontSize),
            background: getComputedStyle(document.body).backgroundColor,
            header: getComputedStyle(document.querySelector('.site-header')).display,
          };
        }"""
    )
    assert style["size"] >= 64  # CSS pixels: about 2 cm on a wall screen
    assert style["background"] == "rgb(11, 18, 32)"
    assert style["header"] == "none"
    page.screenshot(path=str(screenshots / "dashboard-wall.png"))
    assert page.outside_requests == []
    assert page.errors == []
    page.context.close()


def test_an_official_resolves_an_alert_on_a_phone(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    checkpoint = CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站")
    alert = Alert.objects.create(kind="red_code", key="red_code:7", checkpoint=checkpoint)
    UserFactory(role="official", username="official")
    page = open_page(chromium, live_server, PHONE)
    sign_in(page, live_server, "official")

    page.goto(f"{live_server.url}/dashboard/alerts/")
    item = page.locator(f"[data-alert='{alert.pk}']")
    item.locator("button[value=acknowledge]").click()
    page.wait_for_selector(f"[data-alert='{alert.pk}'].is-taken")
    page.screenshot(path=str(screenshots / "alerts-phone.png"), full_page=True)
    page.fill(f"#note-{alert.pk}", "已联系司机，车辆已劝返")
    page.locator(f"[data-alert='{alert.pk}'] button[value=resolve]").click()
    page.wait_for_selector(".message-success")

    assert page.locator(f"[data-alert='{alert.pk}']").count() == 0  # no longer open
    alert.refresh_from_db()
    assert alert.note == "已联系司机，车辆已劝返" and alert.resolved_by is not None
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.outside_requests == []
    assert page.errors == []
    page.context.close()
