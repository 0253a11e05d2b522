"""The officials' outbox page (/officials/notifications/) and the admin's "send again": failed and
late notifications with their last error, and sending them again. Only officials and
administrators get in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications import sending as notify
from notifications import sms
from notifications.models import Notification
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
from tests.lifecycle import setup_committed
from tests.notifications.notifying import (  # noqa: F401 -- fixtures
    Gateway,
    gateway_fixture,
    overdue_exit_rows,
    sms_outbox_fixture,
)

pytestmark = pytest.mark.django_db

URL = "/officials/notifications/"


def client_for(user: Any) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


@pytest.fixture
def official() -> Any:
    return UserFactory(role="official")


def test_the_url_is_named() -> None:
    assert reverse("dashboards:notifications") == URL


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "make_user",
    [
        lambda: driver_user(),
        lambda: dispatcher(),
        lambda: consignee_user(),
        lambda: staff_user(CheckpointFactory()),
        lambda: UserFactory(),
    ],
    ids=["driver", "dispatcher", "consignee", "staff", "no role"],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_others_are_refused(make_user: Any, method: str) -> None:
    [row] = overdue_exit_rows(1)
    Notification.objects.filter(pk=row.pk).update(status=OutboxStatus.FAILED)

    response = getattr(client_for(make_user()), method)(URL, {"id": row.pk})

    assert response.status_code == 403
    assert Notification.objects.get(pk=row.pk).status == OutboxStatus.FAILED


@pytest.mark.parametrize("role", ["official", "admin"])
def test_officials_and_admins_get_in(role: str) -> None:
    assert client_for(UserFactory(role=role)).get(URL).status_code == 200


def test_it_lists_failed_and_late_rows_with_their_error(official: Any) -> None:
    start = timezone.now()
    with time_machine.travel(start - timedelta(minutes=30), tick=False):
        [failed, late, sent] = overdue_exit_rows(3)
    [fresh_row] = overdue_exit_rows(1)
    Notification.objects.filter(pk=failed.pk).update(
        status=OutboxStatus.FAILED, attempts=5, last_error="SMS: gateway answered 500"
    )
    Notification.objects.filter(pk=late.pk).update(
        attempts=2, last_error="SMS: gateway unreachable: timed out"
    )
    Notification.objects.filter(pk=sent.pk).update(status=OutboxStatus.SENT)

    response = client_for(official).get(URL)

    body = response.content.decode()
    listed = {n.pk for n in (row["notification"] for row in response.context["rows"])}
    assert listed == {failed.pk, late.pk}
    assert "SMS: gateway answered 500" in body
    assert "SMS: gateway unreachable: timed out" in body
    assert failed.recipient in body
    assert fresh_row.recipient not in body
    assert "Overdue: not exited" in body  # the template's label, not its code


def test_the_list_is_empty_when_all_went_out(official: Any) -> None:
    response = client_for(official).get(URL)
    assert "Every notification has gone out." in response.content.decode()


def test_a_row_links_to_its_trips_timeline(official: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher(), checkpoint)
    Notification.objects.filter(trip=trip).update(status=OutboxStatus.FAILED)

    body = client_for(official).get(URL).content.decode()

    assert f'href="{reverse("dashboards:trip", args=[trip.pk])}"' in body
    assert str(trip.reference) in body


def test_a_failed_sms_is_shown_and_sent_again(
    official: Any, gateway: Gateway, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The flow officials follow: the gateway is down, the message is given up and shown with
    its error; the gateway comes back; "send again" sends it, once."""
    settings.NOTIFY_MAX_ATTEMPTS = 2
    gateway.statuses = [500, 500]
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        [row] = overdue_exit_rows(1)
        notify.notifications_send_due()
        clock.shift(timedelta(minutes=1))
        notify.notifications_send_due()
    assert Notification.objects.get(pk=row.pk).status == OutboxStatus.FAILED
    setup_committed()

    client = client_for(official)
    assert "SMS: gateway answered 500: upstream busy" in client.get(URL).content.decode()

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(URL, {"id": [str(row.pk)]}, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "1 notification queued again." in response.content.decode()
    assert len(callbacks) == 1  # the sender is asked
    queued = Notification.objects.get(pk=row.pk)
    assert (queued.status, queued.attempts) == (OutboxStatus.PENDING, 0)

    assert notify.notifications_send_due() == 1
    assert len(gateway.accepted) == 1
    assert Notification.objects.get(pk=row.pk).status == OutboxStatus.SENT
    assert row.recipient not in client.get(URL).content.decode()


def test_sending_again_leaves_sent_rows_alone(official: Any) -> None:
    [row] = overdue_exit_rows(1)
    Notification.objects.filter(pk=row.pk).update(status=OutboxStatus.SENT, attempts=1)

    response = client_for(official).post(URL, {"id": [str(row.pk), "junk"]}, follow=True)

    assert "0 notifications queued again." in response.content.decode()
    assert Notification.objects.get(pk=row.pk).status == OutboxStatus.SENT


def test_the_admin_sends_failed_rows_again(sms_outbox: list[sms.SentSms]) -> None:
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    [failed, sent] = overdue_exit_rows(2)
    Notification.objects.filter(pk=failed.pk).update(
        status=OutboxStatus.FAILED, attempts=5, last_error="SMS: gateway answered 500"
    )
    Notification.objects.filter(pk=sent.pk).update(status=OutboxStatus.SENT)
    client = client_for(admin_user)
    changelist = reverse("admin:notifications_notification_changelist")

    listing = client.get(changelist, {"status__exact": "failed"}).content.decode()
    assert "SMS: gateway answered 500" in listing
    assert sent.recipient not in listing

    response = client.post(
        changelist,
        {"action": "send_again", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )

    assert "1 notification queued again." in response.content.decode()
    assert Notification.objects.get(pk=failed.pk).status == OutboxStatus.PENDING
    assert Notification.objects.get(pk=sent.pk).status == OutboxStatus.SENT
    assert notify.notifications_send_due() == 1
    assert [m.phone for m in sms_outbox] == [failed.recipient]
