"""Every interactive element on the phone and tablet pages is at least 44×44 CSS pixels, the size
a thumb or a gloved finger at a checkpoint hits without missing: measured in Chromium, page by
page, for every role, in Chinese and in English (words differ in length)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from checkpoints import services as checkpoint_services
from places.models import StaffAssignment
from tests.browser.conftest import PHONE, TABLET, open_page
from tests.browser.scanpage import open_scan_page, scan_with_handheld, wait_for_verdict
from tests.factories import (
    CheckpointFactory,
    CompanyFactory,
    UserFactory,
    at,
    consignee_user,
    dispatcher,
    driver_user,
    make_trip,
    staff_user,
)
from trucks import links
from trucks.models import Pass
from trucks.services import pass_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MIN = 44

# Radios and checkboxes are hit through their label, which is what is measured for them.
MEASURE = """
() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[role=button], [tabindex]:not([tabindex="-1"])';
  const small = [];
  for (const element of document.querySelectorAll(selector)) {
    if (element.closest('[hidden]') || element.classList.contains('skip-link')) continue;
    const style = getComputedStyle(element);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    let target = element;
    if ((element.type === 'radio' || element.type === 'checkbox') && element.closest('label')) {
      target = element.closest('label');
    }
    const box = target.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.width < MIN || box.height < MIN) {
      const text = (target.textContent || element.name || element.id || '').trim();
      small.push(`${element.tagName.toLowerCase()}.${element.className} "${text.slice(0, 30)}"`
        + ` ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return small;
}
""".replace("MIN", str(MIN))


def _session_cookie(user: User) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value}


def _small_targets(
    chromium: Any, live_server: Any, user: User | None, paths: list[str], viewport: Any
) -> list[str]:
    found: list[str] = []
    for language in ("zh-hans", "en"):
        page = open_page(chromium, live_server, viewport)
        cookies = [{"name": "django_language", "value": language}]
        if user is not None:
            cookies.append(_session_cookie(user))
        page.context.add_cookies([{**c, "url": live_server.url} for c in cookies])
        for path in paths:
            page.goto(live_server.url + path)
            assert page.locator("html").get_attribute("lang") == language
            found += [f"{path} [{language}]: {small}" for small in page.evaluate(MEASURE)]
            # Closed sections (<details>) hold controls too: open them and measure again.
            if page.locator("details:not([open])").count():
                page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                found += [f"{path} [{language}, open]: {s}" for s in page.evaluate(MEASURE)]
        page.context.close()
    return sorted(set(found))


@pytest.fixture
def world(regions: None) -> dict[str, Any]:
    checkpoint = CheckpointFactory(code="JZ-G55-N", name="二广高速焦作北站")
    carrier = CompanyFactory()
    park = CompanyFactory(is_consignee=True)
    office = dispatcher(carrier)
    trip = make_trip(office, checkpoint, consignee=park.pk, planned_arrival=at(1))
    driver = driver_user(carrier)
    own = make_trip(driver, checkpoint, driver=None)
    staff = staff_user(checkpoint)
    StaffAssignment.objects.filter(user=staff).update(supervisor=True)
    # A truck inside the city, so that the consignee's list has a row with its buttons.
    inside = make_trip(office, checkpoint, consignee=park.pk, planned_arrival=at(1))
    checkpoint_services.scan_perform(
        staff=staff,
        checkpoint=checkpoint,
        data=checkpoint_services.ScanInput(
            token=pass_token(Pass.objects.get(trip=inside)), direction="in"
        ),
    )
    return {
        "checkpoint": checkpoint,
        "dispatcher": office,
        "driver": driver,
        "consignee": consignee_user(park),
        "staff": staff,
        "official": UserFactory(role="official"),
        "trip": trip,
        "own": own,
        "link": links.pass_link_path(Pass.objects.get(trip=trip)),
    }


def test_phone_pages_have_large_enough_targets(
    chromium: Any, live_server: Any, world: dict[str, Any]
) -> None:
    trip, own = world["trip"], world["own"]
    pages: list[tuple[User | None, list[str]]] = [
        (None, ["/accounts/login/", world["link"]]),
        (world["driver"], ["/", "/trips/new/", f"/trips/{own.pk}/"]),
        (
            world["dispatcher"],
            [
                "/",
                "/trips/new/",
                f"/trips/{trip.pk}/",
                f"/trips/{trip.pk}/cancel/",
                "/company/vehicles/",
                "/company/drivers/",
            ],
        ),
        (world["consignee"], ["/checkpoints/arrivals/", f"/trips/{trip.pk}/", "/"]),
    ]
    small: list[str] = []
    for user, paths in pages:
        small += _small_targets(chromium, live_server, user, paths, PHONE)

    assert small == [], "\n".join(small)


def test_tablet_pages_have_large_enough_targets(
    chromium: Any, live_server: Any, world: dict[str, Any]
) -> None:
    code = world["checkpoint"].code
    small = _small_targets(
        chromium,
        live_server,
        world["staff"],
        ["/checkpoints/", f"/checkpoints/{code}/", f"/checkpoints/{code}/scan/"],
        TABLET,
    )
    small += _small_targets(
        chromium, live_server, world["official"], ["/", "/officials/notifications/"], TABLET
    )

    assert small == [], "\n".join(small)


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["tablet", "phone"])
def test_the_scan_page_keeps_its_targets_large_in_every_state(
    chromium: Any, live_server: Any, world: dict[str, Any], viewport: dict[str, int]
) -> None:
    """The verdict screen, its forms, the lookup's results and the walk-in sheet, as staff see
    them after a scan: each state's buttons are measured where they appear."""
    checkpoint, staff = world["checkpoint"], world["staff"]
    green = make_trip(world["dispatcher"], checkpoint, planned_arrival=at(0.5))
    red = make_trip(
        world["dispatcher"],
        checkpoint,
        planned_arrival=at(0.5),
        test_result="positive",
        test_sampled_at=at(-2),
    )
    page = open_page(chromium, live_server, viewport)
    page.context.add_cookies([{**_session_cookie(staff), "url": live_server.url}])
    open_scan_page(page, live_server, checkpoint.code)
    small: list[str] = []

    def measure(state: str) -> None:
        small.extend(f"{state}: {s}" for s in page.evaluate(MEASURE))

    measure("idle")
    scan_with_handheld(page, pass_token(Pass.objects.get(trip=green)))
    wait_for_verdict(page, "admit")
    measure("admitted")
    page.click("[data-action=confirm]")
    measure("confirm form")
    page.fill("#confirm-plate", "豫H99999")
    page.click("[data-form=confirm] button[type=submit]")
    page.locator("[data-form=recheck]").wait_for()
    measure("plate re-check")
    page.click("[data-action=next]")
    scan_with_handheld(page, pass_token(Pass.objects.get(trip=red)))
    wait_for_verdict(page, "refuse", "red_code")
    measure("refused")
    page.click("[data-action=override]")
    page.locator("[data-form=override]").wait_for()
    measure("override form")
    page.click("[data-action=next]")
    page.fill("#lookup-input", green.vehicle.plate[1:])
    page.click("#lookup-form button[type=submit]")
    page.wait_for_selector("#lookup-results li")
    measure("lookup results")
    page.click("[data-open-walk-in]")
    page.locator("#walk-in").wait_for()
    measure("walk-in sheet")

    assert small == [], "\n".join(sorted(set(small)))
    assert not page.errors
