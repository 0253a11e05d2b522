"""Django admin for webhooks: subscriptions with a write-only secret, and the delivery log,
read-only, with "deliver again"."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client, RequestFactory
from django.urls import reverse

from handover.models import WebhookDelivery, WebhookSubscription
from passcode_portal.outbox import OutboxStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client) -> Client:
    user = UserFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().post("/accounts/login/")  # django-axes throttles by address
    assert client.login(request=request, username=user.username, password="passcode-demo")
    return client


@pytest.fixture
def subscription() -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        name="焦作物流园",
        url="https://park.example.cn/in",
        secret="whsec_never_shown",
        event_types=["trip.entered"],
    )


def form(**values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "常州市货车畅行平台",
        "url": "https://hub.example.cn/hooks",
        "event_types": ["trip.entered", "trip.exited"],
        "region": "320400",
        "active": "on",
        "new_secret": "",
        "_save": "1",
    }
    data.update(values)
    return data


def test_adding_a_subscription_generates_a_secret_shown_once(admin_client: Client) -> None:
    r = admin_client.post(reverse("admin:handover_webhooksubscription_add"), form())

    assert r.status_code == 302
    row = WebhookSubscription.objects.get()
    assert row.secret.startswith("whsec_")
    assert row.event_types == ["trip.entered", "trip.exited"]
    assert row.created_by is not None
    messages = [str(m) for m in get_messages(r.wsgi_request)]
    assert any(row.secret in m for m in messages)


def test_the_secret_is_never_shown_and_kept_unless_replaced(
    admin_client: Client, subscription: WebhookSubscription
) -> None:
    url = reverse("admin:handover_webhooksubscription_change", args=[subscription.pk])

    page = admin_client.get(url).content.decode()
    assert "whsec_never_shown" not in page

    admin_client.post(url, form(name="改名"))
    subscription.refresh_from_db()
    assert (subscription.name, subscription.secret) == ("改名", "whsec_never_shown")

    admin_client.post(url, form(new_secret="whsec_rotated"))
    subscription.refresh_from_db()
    assert subscription.secret == "whsec_rotated"


def test_a_plain_http_url_is_refused_in_production(admin_client: Client, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_HTTP = False

    r = admin_client.post(
        reverse("admin:handover_webhooksubscription_add"), form(url="http://hub.example.cn/x")
    )

    assert r.status_code == 200
    assert "url" in r.context["adminform"].form.errors
    assert not WebhookSubscription.objects.exists()


def test_the_delivery_log_is_read_only_and_delivers_again(
    admin_client: Client, subscription: WebhookSubscription
) -> None:
    failed = WebhookDelivery.objects.create(
        subscription=subscription,
        event="trip.entered",
        payload={"event": "trip.entered"},
        dedupe_key="k",
        status=OutboxStatus.FAILED,
        attempts=8,
        last_error="HTTP 500",
    )
    changelist = reverse("admin:handover_webhookdelivery_changelist")

    assert admin_client.get(changelist).status_code == 200
    change = admin_client.get(reverse("admin:handover_webhookdelivery_change", args=[failed.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    add = admin_client.get(reverse("admin:handover_webhookdelivery_add"))
    assert add.status_code == 403

    r = admin_client.post(
        changelist, {"action": "deliver_again", "_selected_action": [str(failed.pk)]}
    )

    assert r.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    # Audited as the officials' pages are: who sent it again, and what it was.
    [retry] = failed.retries.all()
    assert retry.by is not None and retry.by.is_superuser
    assert (retry.status_before, retry.attempts_before) == ("failed", 8)
