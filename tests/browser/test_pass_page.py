"""The pass page on a driver's phone: the no-account link switches language, the page shows what
was registered, and a pass that cannot be used reads so at a glance, with no countdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PHONE, open_page
from tests.factories import (
    CheckpointFactory,
    CompanyFactory,
    at,
    consignee_user,
    dispatcher,
    make_trip,
    valid_id_number,
    valid_phone,
)
from trucks import links, services
from trucks.models import Pass, Trip

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _trip(**overrides: Any) -> Trip:
    checkpoint = CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站")
    park = CompanyFactory(is_consignee=True, name="焦作市民生物流园")
    consignee_user(park)
    values: dict[str, Any] = {
        "consignee": park.pk,
        "planned_arrival": at(1),
        "planned_departure": at(20),
        "co_riders": (services.PersonData("王小明", valid_id_number(), valid_phone()),),
    }
    values.update(overrides)
    return make_trip(dispatcher(CompanyFactory()), checkpoint, **values)


def _link(trip: Trip) -> str:
    return links.pass_link_path(Pass.objects.get(trip=trip))


def test_a_driver_without_an_account_switches_language_on_the_link(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    trip = _trip()
    path = _link(trip)
    page = open_page(chromium, live_server, PHONE)
    posted: list[dict[str, str]] = []
    page.on(
        "request",
        lambda request: posted.append(request.headers) if request.method == "POST" else None,
    )

    page.goto(live_server.url + path)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.click("button[name=language][value=en]")
    page.wait_for_load_state()

    assert page.url == live_server.url + path
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".banner-name").inner_text() == "Green code"
    # The token in the address never travels in a Referer header.
    token = path.split("/")[2]
    assert posted and all(token not in headers.get("referer", "") for headers in posted)
    page.click("button[name=language][value=zh-hans]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.screenshot(path=str(screenshots / "pass-link-zh.png"), full_page=True)
    assert not page.errors and not page.outside_requests


def test_the_pass_page_shows_what_was_registered(
    chromium: Any, live_server: Any, regions: None
) -> None:
    trip = _trip()
    rider = trip.co_riders.get()
    page = open_page(chromium, live_server, PHONE)

    page.goto(live_server.url + _link(trip))

    details = page.locator(".trip-details")
    assert "焦作市某物流园" in details.locator("[data-detail=destination]").inner_text()
    assert "民主路1号" in details.locator("[data-detail=destination]").inner_text()
    assert details.locator("[data-detail=consignee]").inner_text() == "焦作市民生物流园"
    assert "蔬菜 20 吨" in details.locator("[data-detail=cargo]").inner_text()
    assert "生活必需品" in details.locator("[data-detail=cargo]").inner_text()
    assert details.locator("[data-detail=checkpoint]").inner_text() == "二广高速焦作北站"
    arrival = details.locator("[data-detail=arrival] time").inner_text()
    assert arrival == trip.planned_arrival.astimezone(_zone()).strftime("%Y-%m-%d %H:%M")
    riders = details.locator("[data-detail=co-riders]").inner_text()
    assert "王小明" in riders and rider.masked_id_number in riders
    assert rider.id_number not in page.content()
    assert not page.errors


def _zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def _shows_as_unusable(page: Any) -> None:
    assert page.locator("[data-unusable]").count() == 1
    assert page.locator("[data-countdown]").count() == 0
    assert page.locator(".qr svg").count() == 0
    assert page.locator("[data-no-code]").count() == 1
    status = page.locator("[data-pass-status]").inner_text()
    assert status and status not in ("有效", "Active")


def test_a_red_pass_reads_as_refused_with_no_countdown(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    trip = _trip(test_result="positive", test_sampled_at=at(-2))
    assert Pass.objects.get(trip=trip).colour == "red"
    page = open_page(chromium, live_server, PHONE)

    page.goto(live_server.url + _link(trip))
    page.wait_for_timeout(1200)  # a countdown would have ticked by now

    _shows_as_unusable(page)
    assert "禁止通行" in page.locator("[data-unusable]").inner_text()
    assert page.locator("[data-pass-status]").inner_text() == "禁止通行"
    # The reason, and what to do about it.
    assert "阳性" in page.locator(".reason-text").first.inner_text()
    assert page.locator(".reason-action").first.is_visible()
    page.screenshot(path=str(screenshots / "pass-red.png"), full_page=True)
    assert not page.errors


@pytest.mark.parametrize("how", ["cancelled", "expired"])
def test_a_cancelled_or_expired_pass_reads_as_void(
    how: str, chromium: Any, live_server: Any, regions: None
) -> None:
    trip = _trip()
    if how == "cancelled":
        services.trip_cancel(actor=trip.registered_by, trip=trip)  # type: ignore[arg-type]
    else:
        Pass.objects.filter(trip=trip).update(valid_from=at(-30), valid_until=at(-1))
    page = open_page(chromium, live_server, PHONE)

    # The link lives a day past the window's end, so it still opens the expired pass.
    page.goto(live_server.url + _link(trip))

    _shows_as_unusable(page)
    advice = page.locator("[data-unusable-advice]").inner_text()
    assert ("取消" if how == "cancelled" else "已于") in advice
    assert not page.errors
