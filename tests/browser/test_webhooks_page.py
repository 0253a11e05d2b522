"""The officials' webhook pages in Chromium: an official subscribes a receiving system, sees its
signing secret once and copies it, then sends a failed delivery again, which reaches the
receiver (a real HTTP server on this machine) signed with that secret; the history names the
official. The outbox page shows a message sent again and who did it. No request leaves for any
host but the test server and the local receiver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handover import delivery as webhook_delivery
from handover.models import WebhookDelivery, WebhookSubscription
from notifications.models import Notification
from passcode_portal.outbox import OutboxStatus
from tests.browser.conftest import PHONE, open_page
from tests.browser.scanpage import sign_in, wait_until
from tests.factories import CheckpointFactory, UserFactory, dispatcher, make_trip
from tests.handover.test_webhook_delivery import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    """The receiving system listens on 127.0.0.1, which the portal refuses unless told."""
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True
    r = Receiver()
    yield r
    r.close()


def test_an_official_subscribes_copies_the_secret_and_delivers_a_failure_again(
    chromium: Any, live_server: Any, regions: None, receiver: Receiver, screenshots: Path
) -> None:
    UserFactory(role="official", username="official", first_name="值班员")
    trip = make_trip(dispatcher(), CheckpointFactory())
    page = open_page(chromium, live_server, DESKTOP)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, live_server, "official")

    page.goto(f"{live_server.url}/dashboard/webhooks/")
    assert page.locator("h1").inner_text().startswith("Webhook 订阅")
    page.fill("#id_name", "焦作物流园")
    page.fill("#id_url", receiver.url)
    page.check("input[name=event_types][value='trip.entered']")
    page.click("#new button[type=submit]")
    page.wait_for_selector("#secret")

    subscription = WebhookSubscription.objects.get()
    secret = page.input_value("#secret")
    assert secret == subscription.secret and secret.startswith("whsec_")
    page.click("[data-copy=secret]")
    wait_until(page, "() => document.querySelector('[data-copy=secret]').textContent === '已复制'")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.screenshot(path=str(screenshots / "webhook-created-desktop.png"), full_page=True)

    failed = WebhookDelivery.objects.create(
        subscription=subscription,
        event="trip.entered",
        payload={"id": 0, "event": "trip.entered", "trip": {"reference": trip.reference}},
        dedupe_key="entered:1",
        trip=trip,
        status=OutboxStatus.FAILED,
        attempts=8,
        response_status=503,
        last_error="answered 503: busy",
    )
    page.click("text=打开订阅")
    row = page.locator(f"[data-delivery='{failed.pk}']")
    assert row.get_attribute("data-status") == "failed"
    assert secret not in page.content()
    page.screenshot(path=str(screenshots / "webhook-failed-desktop.png"), full_page=True)
    row.locator("button[name=action][value=retry]").click()
    page.wait_for_selector(f"[data-delivery='{failed.pk}'][data-status=pending]")

    # The worker's run, here in the test: the delivery reaches the receiver, signed.
    assert webhook_delivery.deliveries_send_due() == 1
    [(headers, body)] = receiver.requests
    assert webhook_delivery.verify(
        secret,
        body=body,
        timestamp=headers["X-Passcode-Timestamp"],
        signature=headers["X-Passcode-Signature"],
    )
    page.reload()
    assert page.locator(f"[data-delivery='{failed.pk}']").get_attribute("data-status") == "sent"
    history = page.locator(".history").inner_text()
    assert "值班员" in history and "失败" in history and "待发送" in history
    page.screenshot(path=str(screenshots / "webhook-desktop.png"), full_page=True)
    page.click("text=← Webhook 订阅")
    sent = page.locator(f"[data-subscription='{subscription.pk}'] [data-count=sent]")
    assert sent.inner_text() == "已发送 1"
    page.screenshot(path=str(screenshots / "webhooks-desktop.png"), full_page=True)

    phone = open_page(chromium, live_server, PHONE)
    sign_in(phone, live_server, "official")
    phone.goto(f"{live_server.url}/dashboard/webhooks/{subscription.pk}/")
    phone.screenshot(path=str(screenshots / "webhook-phone.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.goto(f"{live_server.url}/dashboard/webhooks/")
    phone.screenshot(path=str(screenshots / "webhooks-phone.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    assert page.outside_requests == [] and phone.outside_requests == []
    assert page.errors == [] and phone.errors == []
    page.context.close()
    phone.context.close()


def test_the_outbox_shows_who_sent_a_message_again(
    chromium: Any, live_server: Any, regions: None, screenshots: Path
) -> None:
    UserFactory(role="official", username="official", first_name="值班员")
    trip = make_trip(dispatcher(), CheckpointFactory())
    row = Notification.objects.filter(trip=trip).first()
    assert row is not None
    Notification.objects.filter(pk=row.pk).update(
        status=OutboxStatus.FAILED, attempts=5, last_error="SMS: gateway answered 500"
    )

    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = open_page(chromium, live_server, viewport)
        sign_in(page, live_server, "official")
        page.goto(f"{live_server.url}/officials/notifications/?channel={row.channel}")
        assert page.locator(f"[data-notification='{row.pk}'] a.reference").get_attribute(
            "href"
        ) == (f"/dashboard/trips/{trip.pk}/")
        if name == "desktop":
            page.locator(f"[data-notification='{row.pk}'] button").click()
            page.wait_for_selector(".message-success")
            assert "值班员" in page.locator(".history").inner_text()
            Notification.objects.filter(pk=row.pk).update(status=OutboxStatus.FAILED)
            page.reload()
            assert page.locator(f"[data-resent='{row.pk}']").count() == 1
        page.screenshot(path=str(screenshots / f"outbox-{name}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.outside_requests == [] and page.errors == []
        page.context.close()
