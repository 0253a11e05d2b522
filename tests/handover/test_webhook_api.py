"""/api/v1/webhooks/: officials register receiving systems and read their delivery log; the
secret is shown once; everyone else is refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from handover.models import WebhookDelivery, WebhookSubscription
from passcode_portal.outbox import OutboxStatus
from tests.factories import (
    CheckpointFactory,
    UserFactory,
    consignee_user,
    driver_user,
    make_trip,
    staff_user,
)
from tests.factories import dispatcher as make_dispatcher

pytestmark = pytest.mark.django_db

BODY = {
    "name": "常州市货车畅行平台",
    "url": "https://hub.example.cn/hooks/passcode",
    "event_types": ["trip.exited", "trip.overdue"],
    "region": "320400",
}


@pytest.fixture
def official() -> Any:
    return UserFactory(role="official")


@pytest.fixture
def client(api_client: Any, official: Any) -> Any:
    api_client.force_authenticate(official)
    return api_client


@pytest.fixture
def subscription(official: Any) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        name="焦作物流园",
        url="https://park.example.cn/in",
        secret="whsec_kept",
        event_types=["trip.entered"],
        created_by=official,
    )


def delivery(subscription: WebhookSubscription, key: str, **values: Any) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        subscription=subscription,
        event="trip.entered",
        payload={"event": "trip.entered"},
        dedupe_key=key,
        **values,
    )


# ---------------------------------------------------------------------------------------------
# Who may


@pytest.mark.parametrize("role", ["driver", "dispatcher", "consignee", "staff"])
def test_it_refuses_everyone_but_officials(
    api_client: Any, role: str, subscription: WebhookSubscription
) -> None:
    user = {
        "driver": driver_user,
        "dispatcher": make_dispatcher,
        "consignee": consignee_user,
        "staff": lambda: staff_user(CheckpointFactory()),
    }[role]()
    api_client.force_authenticate(user)
    row = delivery(subscription, "k")
    base = f"/api/v1/webhooks/{subscription.pk}/"

    answers = [
        api_client.get("/api/v1/webhooks/"),
        api_client.post("/api/v1/webhooks/", BODY, format="json"),
        api_client.get(base),
        api_client.patch(base, {"active": False}, format="json"),
        api_client.delete(base),
        api_client.get(base + "deliveries/"),
        api_client.post(base + f"deliveries/{row.pk}/retry/"),
        # Ids that do not exist: still 403, so ids reveal nothing.
        api_client.get("/api/v1/webhooks/999999/"),
    ]

    assert [r.status_code for r in answers] == [403] * len(answers)
    assert answers[0].json()["code"] == "not_allowed"
    assert WebhookSubscription.objects.count() == 1
    assert WebhookSubscription.objects.get().active


def test_it_refuses_anonymous_callers(api_client: Any) -> None:
    assert api_client.get("/api/v1/webhooks/").status_code in (401, 403)


def test_administrators_may(api_client: Any) -> None:
    api_client.force_authenticate(UserFactory(role="admin"))

    assert api_client.get("/api/v1/webhooks/").status_code == 200


# ---------------------------------------------------------------------------------------------
# Subscriptions


def test_it_creates_a_subscription_and_shows_the_secret_once(client: Any, official: Any) -> None:
    r = client.post("/api/v1/webhooks/", BODY, format="json")

    assert r.status_code == 201, r.json()
    data = r.json()
    secret = data["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    row = WebhookSubscription.objects.get(pk=data["id"])
    assert row.secret == secret
    assert (row.created_by, row.region_id, row.active) == (official, "320400", True)
    assert {k: data[k] for k in BODY} == BODY
    # Never again.
    listed = client.get("/api/v1/webhooks/").json()["results"]
    shown = client.get(f"/api/v1/webhooks/{row.pk}/").json()
    changed = client.patch(f"/api/v1/webhooks/{row.pk}/", {"name": "x"}, format="json").json()
    for body in [*listed, shown, changed]:
        assert "secret" not in body
        assert secret not in str(body)
    # Who created it is in its history; the secret is not.
    created = row.history.get(history_type="+")
    assert created.history_user == official
    assert not hasattr(created, "secret")


def test_a_secret_is_new_for_each_subscription(client: Any) -> None:
    first = client.post("/api/v1/webhooks/", BODY, format="json").json()["secret"]
    second = client.post("/api/v1/webhooks/", BODY, format="json").json()["secret"]

    assert first != second


def test_region_is_optional(client: Any) -> None:
    r = client.post("/api/v1/webhooks/", {**BODY, "region": None}, format="json")

    assert r.status_code == 201, r.json()
    assert r.json()["region"] is None


def test_it_validates_every_field(client: Any, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_HTTP = False

    r = client.post(
        "/api/v1/webhooks/",
        {
            "name": " ",
            "url": "http://hub.example.cn/hooks",
            "event_types": ["trip.entered", "trip.vanished"],
            "region": "999999",
        },
        format="json",
    )

    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert set(r.json()["fields"]) == {"name", "url", "event_types", "region"}
    assert WebhookSubscription.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hub.example.cn/hooks", True),
        ("http://127.0.0.1:8080/hooks", True),
        ("http://localhost/hooks", True),
        ("http://hub.example.cn/hooks", False),
        ("ftp://hub.example.cn/hooks", False),
        ("file:///etc/passwd", False),
        ("https://user:pw@hub.example.cn/hooks", False),
        ("hub.example.cn/hooks", False),
        ("https://", False),
    ],
)
def test_urls_are_https_except_on_this_machine(
    client: Any, settings: Any, url: str, ok: bool
) -> None:
    settings.WEBHOOK_ALLOW_HTTP = False  # as in production
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True  # a receiver on this machine is wanted

    r = client.post("/api/v1/webhooks/", {**BODY, "url": url}, format="json")

    assert r.status_code == (201 if ok else 400), r.json()
    if not ok:
        assert list(r.json()["fields"]) == ["url"]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "http://localhost:8080/hooks",
        "https://hub.localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://172.16.0.9/hooks",
        "https://192.168.1.20/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/hooks",
        "https://0.0.0.0/hooks",
        "https://[::1]/hooks",
        "https://[::ffff:10.0.0.1]/hooks",
        "https://[fd00::1]/hooks",
        "https://[fe80::1]/hooks",
    ],
)
def test_private_and_loopback_addresses_are_refused_by_default(
    client: Any, settings: Any, url: str
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False  # the default

    r = client.post(
        "/api/v1/webhooks/", {**BODY, "url": url}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert r.status_code == 400, r.json()
    [message] = r.json()["fields"]["url"]
    assert "public address" in message
    assert not WebhookSubscription.objects.exists()


def test_private_addresses_are_allowed_with_the_setting(client: Any, settings: Any) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True

    r = client.post("/api/v1/webhooks/", {**BODY, "url": "https://10.1.2.3/hooks"}, format="json")

    assert r.status_code == 201, r.json()


def test_a_public_address_written_out_is_accepted(client: Any) -> None:
    r = client.post("/api/v1/webhooks/", {**BODY, "url": "https://8.8.8.8/hooks"}, format="json")

    assert r.status_code == 201, r.json()


def test_plain_http_is_allowed_outside_production(client: Any, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_HTTP = True

    r = client.post("/api/v1/webhooks/", {**BODY, "url": "http://hub.test/hooks"}, format="json")

    assert r.status_code == 201


def test_at_least_one_event(client: Any) -> None:
    r = client.post("/api/v1/webhooks/", {**BODY, "event_types": []}, format="json")

    assert r.status_code == 400
    assert list(r.json()["fields"]) == ["event_types"]


def test_it_changes_only_what_is_sent(client: Any, subscription: WebhookSubscription) -> None:
    r = client.patch(
        f"/api/v1/webhooks/{subscription.pk}/",
        {"active": False, "region": "140000"},
        format="json",
    )

    assert r.status_code == 200, r.json()
    subscription.refresh_from_db()
    assert (subscription.active, subscription.region_id) == (False, "140000")
    assert (subscription.name, subscription.secret) == ("焦作物流园", "whsec_kept")
    assert subscription.event_types == ["trip.entered"]


def test_a_bad_change_changes_nothing(client: Any, subscription: WebhookSubscription) -> None:
    r = client.patch(
        f"/api/v1/webhooks/{subscription.pk}/",
        {"active": False, "url": "mailto:x@example.cn"},
        format="json",
    )

    assert r.status_code == 400
    subscription.refresh_from_db()
    assert subscription.active


def test_it_deletes_a_subscription_and_its_log(
    client: Any, subscription: WebhookSubscription
) -> None:
    delivery(subscription, "k")

    r = client.delete(f"/api/v1/webhooks/{subscription.pk}/")

    assert r.status_code == 204
    assert not WebhookSubscription.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_unknown_ids_are_404(client: Any, subscription: WebhookSubscription) -> None:
    other = WebhookSubscription.objects.create(name="o", url="https://o.cn/", secret="s")
    row = delivery(other, "k")

    assert client.get("/api/v1/webhooks/999999/").status_code == 404
    assert client.patch("/api/v1/webhooks/999999/", {}, format="json").status_code == 404
    assert client.delete("/api/v1/webhooks/999999/").status_code == 404
    # A delivery of another subscription is not this one's.
    r = client.post(f"/api/v1/webhooks/{subscription.pk}/deliveries/{row.pk}/retry/")
    assert r.status_code == 404


# ---------------------------------------------------------------------------------------------
# The delivery log


def test_it_lists_deliveries_newest_first_and_filters_failures(
    client: Any, subscription: WebhookSubscription
) -> None:
    trip = make_trip(make_dispatcher(), CheckpointFactory())
    sent = delivery(
        subscription,
        "a",
        trip=trip,
        status=OutboxStatus.SENT,
        attempts=1,
        response_status=204,
        delivered_at=timezone.now(),
    )
    failed = delivery(
        subscription,
        "b",
        status=OutboxStatus.FAILED,
        attempts=8,
        response_status=500,
        last_error="HTTP 500: oops",
    )

    everything = client.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/")
    failures = client.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/?status=failed")

    assert everything.status_code == 200
    assert [d["id"] for d in everything.json()["results"]] == [failed.pk, sent.pk]
    first = everything.json()["results"][1]
    assert first["trip_reference"] == trip.reference
    assert (first["event"], first["status"], first["attempts"]) == ("trip.entered", "sent", 1)
    assert first["response_status"] == 204
    assert first["delivered_at"] is not None
    assert "payload" not in first
    [row] = failures.json()["results"]
    assert (row["id"], row["last_error"], row["attempts"]) == (failed.pk, "HTTP 500: oops", 8)
    bad = client.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/?status=lost")
    assert bad.status_code == 400


def test_it_retries_a_failed_delivery(client: Any, subscription: WebhookSubscription) -> None:
    failed = delivery(subscription, "b", status=OutboxStatus.FAILED, attempts=8, last_error="x")

    r = client.post(f"/api/v1/webhooks/{subscription.pk}/deliveries/{failed.pk}/retry/")

    assert r.status_code == 200, r.json()
    assert (r.json()["status"], r.json()["attempts"]) == ("pending", 0)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    assert failed.next_attempt_at <= timezone.now()


def test_a_delivery_being_sent_is_not_retried(
    client: Any, subscription: WebhookSubscription
) -> None:
    busy = delivery(subscription, "b", status=OutboxStatus.SENDING, attempts=1)

    r = client.post(f"/api/v1/webhooks/{subscription.pk}/deliveries/{busy.pk}/retry/")

    assert r.status_code == 409
    assert r.json()["code"] == "in_flight"
    busy.refresh_from_db()
    assert (busy.status, busy.attempts) == ("sending", 1)


def test_the_schema_documents_the_webhook_api(api_client: Any) -> None:
    import yaml

    schema = yaml.safe_load(api_client.get("/api/schema/").content)

    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/webhooks/"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/webhooks/{id}/"])
    assert "get" in paths["/api/v1/webhooks/{id}/deliveries/"]
    assert "post" in paths["/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry/"]
    created = schema["components"]["schemas"]["WebhookSubscriptionCreated"]["properties"]
    assert "secret" in created
    assert (
        "secret" not in schema["components"]["schemas"]["WebhookSubscriptionOutput"]["properties"]
    )
