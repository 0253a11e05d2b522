"""The officials' webhook pages (``dashboards.webhooks``): subscriptions listed with how their
deliveries stand; created (the secret shown once), changed and removed through the services, a
bad URL refused with its field's message and nothing saved; a subscription's delivery log
filtered and paged, one or every failed delivery sent again; each change in the page's history
with the official's name; every other role refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboards import webhooks
from handover import subscriptions
from handover import tasks as webhook_tasks
from handover.models import WebhookDelivery, WebhookRetry, WebhookSubscription
from passcode_portal.outbox import OutboxStatus
from tests.factories import (
    CheckpointFactory,
    UserFactory,
    consignee_user,
    dispatcher,
    driver_user,
    make_trip,
    staff_user,
)

pytestmark = pytest.mark.django_db

LIST = "/dashboard/webhooks/"
FORM = {
    "name": "常州市货车畅行平台",
    "url": "https://hub.example.cn/hooks/passcode",
    "event_types": ["trip.exited", "trip.overdue"],
    "region": "320400",
    "active": "on",
}


def client_for(user: Any, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


@pytest.fixture
def official() -> Any:
    return UserFactory(role="official", username="duty", first_name="值班员")


@pytest.fixture
def client(official: Any) -> Client:
    return client_for(official)


@pytest.fixture
def subscription(official: Any) -> WebhookSubscription:
    return subscriptions.subscription_create(
        actor=official,
        name="焦作物流园",
        url="https://park.example.cn/in",
        event_types=["trip.entered"],
    )


def delivery(subscription: WebhookSubscription, key: str, **values: Any) -> WebhookDelivery:
    fields: dict[str, Any] = {"event": "trip.entered", "payload": {"event": "trip.entered"}}
    fields.update(values)
    return WebhookDelivery.objects.create(subscription=subscription, dedupe_key=key, **fields)


def shown(answer: Any, attribute: str, model: Any) -> list[int]:
    text = answer.content.decode()
    return sorted(
        pk for pk in model.objects.values_list("pk", flat=True) if f'{attribute}="{pk}"' in text
    )


def test_the_urls_are_named() -> None:
    assert reverse("dashboards:webhooks") == LIST
    assert reverse("dashboards:webhook", args=[3]) == "/dashboard/webhooks/3/"
    assert reverse("dashboards:webhook-delete", args=[3]) == "/dashboard/webhooks/3/delete/"


# ---------------------------------------------------------------------------------------------
# The list


def test_the_list_shows_each_subscription_with_its_deliveries(
    client: Client, subscription: WebhookSubscription, official: Any
) -> None:
    other = subscriptions.subscription_create(
        actor=official, name="郑州枢纽", url="https://zz.example.cn/", event_types=["trip.exited"]
    )
    delivered = timezone.now().replace(microsecond=0)
    delivery(subscription, "a", status=OutboxStatus.SENT, delivered_at=delivered)
    delivery(subscription, "b", status=OutboxStatus.SENT, delivered_at=delivered)
    delivery(subscription, "c", status=OutboxStatus.FAILED, attempts=8)
    delivery(subscription, "d")

    answer = client.get(LIST)

    assert answer.status_code == 200
    assert shown(answer, "data-subscription", WebhookSubscription) == sorted(
        [subscription.pk, other.pk]
    )
    [row, other_row] = sorted(answer.context["subscriptions"], key=lambda s: s.pk)
    assert (row.sent, row.pending, row.failed, row.last_delivered_at) == (2, 1, 1, delivered)
    assert (other_row.sent, other_row.failed, other_row.last_delivered_at) == (0, 0, None)
    body = answer.content.decode()
    assert "https://park.example.cn/in" in body
    assert "trip.entered" in body
    assert "whsec_" not in body  # the secret is never listed


# ---------------------------------------------------------------------------------------------
# Creating, changing, removing


def test_an_official_creates_a_subscription_and_sees_the_secret_once(
    client: Client, official: Any
) -> None:
    answer = client.post(LIST, FORM)

    assert answer.status_code == 201
    created = WebhookSubscription.objects.get()
    assert (created.name, created.url, created.event_types, created.region_id) == (
        "常州市货车畅行平台",
        "https://hub.example.cn/hooks/passcode",
        ["trip.exited", "trip.overdue"],
        "320400",
    )
    assert created.created_by == official and created.active
    body = answer.content.decode()
    assert created.secret.startswith("whsec_") and created.secret in body
    assert 'data-copy="secret"' in body
    assert "no-store" in answer["Cache-Control"]
    # Never again: not on the list, not on the subscription's page.
    assert created.secret not in client.get(LIST).content.decode()
    assert created.secret not in client.get(f"{LIST}{created.pk}/").content.decode()
    [record] = created.history.all()
    assert (record.history_type, record.history_user) == ("+", official)
    history = client.get(LIST).context["changes"]
    assert [(c.who, c.kind, c.subject) for c in history] == [("值班员", "+", "常州市货车畅行平台")]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://10.0.0.5/hooks", "public address"),
        ("https://[::1]/hooks", "public address"),
        ("https://localhost/hooks", "public address"),
        ("ftp://hub.example.cn/", "Enter a full URL"),
        ("https://user:pw@hub.example.cn/", "user name and password"),
        ("", "Enter a full URL"),
    ],
)
def test_a_bad_url_is_refused_on_its_field_and_nothing_is_created(
    client: Client, url: str, words: str
) -> None:
    answer = client.post(LIST, {**FORM, "url": url})

    assert answer.status_code == 400
    assert words in " ".join(answer.context["form"].errors["url"])
    assert words in answer.content.decode()
    assert not WebhookSubscription.objects.exists()
    assert not WebhookSubscription.history.exists()


def test_plain_http_is_refused_where_production_refuses_it(client: Client, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_HTTP = False

    answer = client.post(LIST, {**FORM, "url": "http://hub.example.cn/hooks"})

    assert answer.status_code == 400
    assert "Use an https:// URL" in answer.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_every_bad_field_is_told_in_the_users_language(official: Any) -> None:
    answer = client_for(official, "zh-hans").post(
        LIST, {"name": " ", "url": "https://10.0.0.5/", "event_types": ["nope"], "region": "99"}
    )

    assert answer.status_code == 400
    errors = answer.context["form"].errors
    assert set(errors) >= {"name", "url", "event_types"}
    assert "请填写接收系统的公网地址" in answer.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_an_official_changes_a_subscription_and_the_history_shows_before_and_after(
    subscription: WebhookSubscription,
) -> None:
    other = UserFactory(role="official", username="night", first_name="夜班员")
    page = f"{LIST}{subscription.pk}/"

    answer = client_for(other).post(
        page,
        {
            "action": "update",
            "name": "焦作物流园",
            "url": "https://park.example.cn/v2",
            "event_types": ["trip.entered", "trip.exited"],
        },
    )

    assert answer.status_code == 302 and answer["Location"] == page
    subscription.refresh_from_db()
    assert subscription.url == "https://park.example.cn/v2"
    assert subscription.event_types == ["trip.entered", "trip.exited"]
    assert not subscription.active  # the box left unticked
    newest = client_for(other).get(page).context["changes"][0]
    assert (newest.who, newest.kind) == ("夜班员", "~")
    assert {(f.label, f.before, f.after) for f in newest.fields} == {
        ("URL", "https://park.example.cn/in", "https://park.example.cn/v2"),
        ("event types", "trip.entered", "trip.entered, trip.exited"),
        ("active", "yes", "no"),
    }


def test_a_bad_change_is_refused_and_changes_nothing(
    client: Client, subscription: WebhookSubscription
) -> None:
    answer = client.post(
        f"{LIST}{subscription.pk}/",
        {"action": "update", "name": "新名字", "url": "https://192.168.1.9/", "event_types": []},
    )

    assert answer.status_code == 400
    errors = answer.context["form"].errors
    assert "public address" in " ".join(errors["url"])
    assert "Choose at least one event." in errors["event_types"]
    subscription.refresh_from_db()
    assert (subscription.name, subscription.url) == ("焦作物流园", "https://park.example.cn/in")
    assert subscription.history.count() == 1


def test_an_official_removes_a_subscription_after_confirming(
    client: Client, subscription: WebhookSubscription
) -> None:
    delivery(subscription, "a", status=OutboxStatus.FAILED)
    delete = f"{LIST}{subscription.pk}/delete/"

    confirm = client.get(delete)
    assert confirm.status_code == 200
    assert "Remove 焦作物流园?" in confirm.content.decode()
    assert WebhookSubscription.objects.exists()

    answer = client.post(delete, follow=True)

    assert answer.redirect_chain == [(LIST, 302)]
    assert not WebhookSubscription.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert "The subscription 焦作物流园 is removed." in answer.content.decode()
    removed = answer.context["changes"][0]
    assert (removed.who, removed.kind, removed.subject) == ("值班员", "-", "焦作物流园")
    assert client.get(delete).status_code == 404


# ---------------------------------------------------------------------------------------------
# The delivery log


def test_the_log_is_filtered_and_paged_and_links_to_the_trips(
    client: Client, subscription: WebhookSubscription, monkeypatch: Any
) -> None:
    trip = make_trip(dispatcher(), CheckpointFactory())
    failed = delivery(
        subscription,
        "a",
        trip=trip,
        status=OutboxStatus.FAILED,
        attempts=8,
        response_status=503,
        last_error="answered 503: busy",
    )
    exited = delivery(subscription, "b", event="trip.exited", status=OutboxStatus.SENT)
    pending = delivery(subscription, "c")
    elsewhere = delivery(
        subscriptions.subscription_create(
            actor=subscription.created_by,
            name="别处",
            url="https://b.example.cn/",
            event_types=["trip.entered"],
        ),
        "d",
    )
    page = f"{LIST}{subscription.pk}/"

    everything = client.get(page)
    assert shown(everything, "data-delivery", WebhookDelivery) == sorted(
        [failed.pk, exited.pk, pending.pk]
    )
    assert elsewhere.pk not in shown(everything, "data-delivery", WebhookDelivery)
    body = everything.content.decode()
    assert reverse("dashboards:trip", args=[trip.pk]) in body and trip.reference in body
    assert "answered 503: busy" in body and ">503<" in body
    assert shown(client.get(page, {"status": "failed"}), "data-delivery", WebhookDelivery) == [
        failed.pk
    ]
    assert shown(client.get(page, {"event": "trip.exited"}), "data-delivery", WebhookDelivery) == [
        exited.pk
    ]
    assert client.get(page, {"status": "nonsense", "event": "x"}).status_code == 200

    monkeypatch.setattr(webhooks, "ROWS_PER_PAGE", 2)
    first = client.get(page, {"status": ""})
    second = client.get(page, {"status": "", "page": "2"})
    assert shown(first, "data-delivery", WebhookDelivery) == sorted([pending.pk, exited.pk])
    assert shown(second, "data-delivery", WebhookDelivery) == [failed.pk]
    assert "?status=&amp;page=2" in first.content.decode()


def test_a_failed_delivery_is_sent_again_audited_and_the_sender_asked(
    client: Client,
    subscription: WebhookSubscription,
    django_capture_on_commit_callbacks: Any,
) -> None:
    failed = delivery(subscription, "a", status=OutboxStatus.FAILED, attempts=8)
    page = f"{LIST}{subscription.pk}/?status=failed"

    with django_capture_on_commit_callbacks() as callbacks:
        answer = client.post(page, {"action": "retry", "delivery": failed.pk})

    assert answer.status_code == 302 and answer["Location"] == page
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (OutboxStatus.PENDING, 0)
    assert [getattr(c, "task", None) for c in callbacks] == [webhook_tasks.deliver_webhooks]
    [retry] = WebhookRetry.objects.all()
    assert (retry.delivery, retry.by.username) == (failed, "duty")
    assert (retry.status_before, retry.attempts_before) == (OutboxStatus.FAILED, 8)
    newest = client.get(page).context["changes"][0]
    assert newest.who == "值班员"
    assert f"no. {failed.pk}" in newest.subject
    assert [(f.label, f.before, f.after) for f in newest.fields] == [
        ("Status", "Failed", "Pending"),
        ("Attempts", "8", "0"),
    ]


def test_every_failed_delivery_is_sent_again_at_once(
    client: Client, subscription: WebhookSubscription
) -> None:
    failed = [delivery(subscription, k, status=OutboxStatus.FAILED, attempts=8) for k in "ab"]
    sent = delivery(subscription, "c", status=OutboxStatus.SENT, attempts=1)

    answer = client.post(f"{LIST}{subscription.pk}/", {"action": "retry_failed"}, follow=True)

    assert "2 deliveries queued again." in answer.content.decode()
    assert {d.status for d in WebhookDelivery.objects.filter(pk__in=[f.pk for f in failed])} == {
        OutboxStatus.PENDING
    }
    assert WebhookDelivery.objects.get(pk=sent.pk).status == OutboxStatus.SENT
    assert WebhookRetry.objects.count() == 2


def test_a_delivery_being_sent_or_of_another_subscription_is_not_sent_again(
    client: Client, subscription: WebhookSubscription, official: Any
) -> None:
    sending = delivery(subscription, "a", status=OutboxStatus.SENDING, attempts=1)
    other = subscriptions.subscription_create(
        actor=official, name="别处", url="https://b.example.cn/", event_types=["trip.entered"]
    )
    foreign = delivery(other, "b", status=OutboxStatus.FAILED)
    page = f"{LIST}{subscription.pk}/"

    busy = client.post(page, {"action": "retry", "delivery": sending.pk})
    assert busy.status_code == 409
    assert "being sent right now" in busy.content.decode()
    assert client.post(page, {"action": "retry", "delivery": foreign.pk}).status_code == 404
    assert client.post(page, {"action": "retry", "delivery": "x"}).status_code == 404
    assert client.post(page, {"action": "whatever"}).status_code == 400
    assert WebhookDelivery.objects.get(pk=sending.pk).status == OutboxStatus.SENDING
    assert WebhookDelivery.objects.get(pk=foreign.pk).status == OutboxStatus.FAILED
    assert not WebhookRetry.objects.exists()
    assert client.get(f"{LIST}999999/").status_code == 404


def test_the_apis_deliver_again_is_audited_too(
    api_client: Any, official: Any, subscription: WebhookSubscription
) -> None:
    failed = delivery(subscription, "a", status=OutboxStatus.FAILED, attempts=3)
    api_client.force_authenticate(official)

    answer = api_client.post(f"/api/v1/webhooks/{subscription.pk}/deliveries/{failed.pk}/retry/")

    assert answer.status_code == 200
    [retry] = WebhookRetry.objects.all()
    assert (retry.by, retry.attempts_before) == (official, 3)


# ---------------------------------------------------------------------------------------------
# Who may


def pages(subscription: WebhookSubscription, failed: WebhookDelivery) -> list[tuple[str, str, Any]]:
    base = f"{LIST}{subscription.pk}/"
    return [
        ("get", LIST, {}),
        ("post", LIST, FORM),
        ("get", base, {}),
        ("post", base, {"action": "update", **FORM}),
        ("post", base, {"action": "retry", "delivery": failed.pk}),
        ("post", base, {"action": "retry_failed"}),
        ("get", base + "delete/", {}),
        ("post", base + "delete/", {}),
    ]


@pytest.mark.parametrize("role", ["driver", "dispatcher", "consignee", "staff", "no role"])
def test_every_other_role_is_refused(subscription: WebhookSubscription, role: str) -> None:
    user = {
        "driver": driver_user,
        "dispatcher": dispatcher,
        "consignee": consignee_user,
        "staff": lambda: staff_user(CheckpointFactory()),
        "no role": UserFactory,
    }[role]()
    failed = delivery(subscription, "a", status=OutboxStatus.FAILED)
    client = client_for(user)

    answers = [
        getattr(client, method)(url, data) for method, url, data in pages(subscription, failed)
    ]

    assert [a.status_code for a in answers] == [403] * len(answers)
    assert WebhookSubscription.objects.get().url == "https://park.example.cn/in"
    assert WebhookDelivery.objects.get().status == OutboxStatus.FAILED
    assert not WebhookRetry.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(subscription: WebhookSubscription) -> None:
    failed = delivery(subscription, "a", status=OutboxStatus.FAILED)

    for method, url, data in pages(subscription, failed):
        answer = getattr(Client(), method)(url, data)
        assert answer.status_code == 302, url
        assert answer["Location"].startswith("/accounts/login/")
    assert WebhookSubscription.objects.count() == 1
    assert WebhookDelivery.objects.get().status == OutboxStatus.FAILED


def test_administrators_may(subscription: WebhookSubscription) -> None:
    client = client_for(UserFactory(role="admin"))
    assert client.get(LIST).status_code == 200
    assert client.get(f"{LIST}{subscription.pk}/").status_code == 200
