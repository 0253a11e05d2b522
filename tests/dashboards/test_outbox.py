"""The outbox page as part of the command centre (``dashboards.outbox``, /officials/notifications/):
filtered by channel, message and state; each row linked to its trip's timeline; every "send
again" audited, who and when and what it replaced, and shown on the page, the admin's too. Who
may see it and the flow of sending again are in tests/notifications/test_notify_page.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification, NotificationResend
from passcode_portal.outbox import OutboxStatus
from tests.factories import UserFactory, dispatcher, make_trip
from tests.notifications.notifying import overdue_exit_rows

pytestmark = pytest.mark.django_db

URL = "/officials/notifications/"


def client_for(user: Any) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


@pytest.fixture
def official() -> Any:
    return UserFactory(role="official", username="duty", first_name="值班员")


def listed(answer: Any) -> set[int]:
    return {row["notification"].pk for row in answer.context["rows"]}


def test_the_page_is_the_command_centres() -> None:
    assert reverse("dashboards:notifications") == URL


def test_it_filters_by_channel_message_and_state(official: Any) -> None:
    with time_machine.travel(timezone.now() - timedelta(minutes=30), tick=False):
        [sms_failed, sms_late] = overdue_exit_rows(2)
        [mail_failed] = overdue_exit_rows(1, channel=Notification.Channel.EMAIL)
        [issued_failed] = overdue_exit_rows(1, template="pass_issued")
    failed = [sms_failed.pk, mail_failed.pk, issued_failed.pk]
    Notification.objects.filter(pk__in=failed).update(status=OutboxStatus.FAILED)
    client = client_for(official)

    assert listed(client.get(URL)) == {*failed, sms_late.pk}
    assert listed(client.get(URL, {"state": "late"})) == {sms_late.pk}
    assert listed(client.get(URL, {"state": "failed"})) == set(failed)
    assert listed(client.get(URL, {"channel": "email"})) == {mail_failed.pk}
    assert listed(client.get(URL, {"template": "pass_issued"})) == {issued_failed.pk}
    assert listed(client.get(URL, {"channel": "sms", "template": "overdue_exit"})) == {
        sms_failed.pk,
        sms_late.pk,
    }
    # Nonsense in a filter is ignored, not an error.
    assert listed(client.get(URL, {"channel": "fax", "state": "x", "template": "?"})) == {
        *failed,
        sms_late.pk,
    }


def test_a_row_without_its_trip_names_the_reference_it_was_about(official: Any) -> None:
    [row] = overdue_exit_rows(1)
    Notification.objects.filter(pk=row.pk).update(status=OutboxStatus.FAILED)

    body = client_for(official).get(URL).content.decode()

    assert "JZ-20260101-000001" in body
    assert "/dashboard/trips/" not in body


def test_sending_again_is_audited_and_shown(official: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher(), checkpoint)
    row = Notification.objects.filter(trip=trip, channel="sms").get()
    Notification.objects.filter(pk=row.pk).update(status=OutboxStatus.FAILED, attempts=5)
    client = client_for(official)

    answer = client.post(f"{URL}?channel=sms", {"id": [row.pk]})

    assert answer.status_code == 302 and answer["Location"] == f"{URL}?channel=sms"
    [resend] = NotificationResend.objects.all()
    assert (resend.notification_id, resend.by) == (row.pk, official)
    assert (resend.status_before, resend.attempts_before) == (OutboxStatus.FAILED, 5)
    assert timezone.now() - resend.at < timedelta(minutes=1)

    # Still late (queued long ago), so still listed, with who sent it again.
    Notification.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(hours=1))
    page = client.get(URL)
    assert f'data-resent="{row.pk}"' in page.content.decode()
    assert "Sent again by 值班员" in page.content.decode()
    [change] = page.context["changes"]
    assert change.who == "值班员"
    assert trip.reference in change.subject and "SMS" in change.subject
    assert [(f.label, f.before, f.after) for f in change.fields] == [
        ("Status", "Failed", "Pending"),
        ("Attempts", "5", "0"),
    ]
    # The audit stays once the message has gone out and left the list.
    Notification.objects.filter(pk=row.pk).update(status=OutboxStatus.SENT)
    later = client.get(URL)
    assert row.pk not in listed(later)
    assert len(later.context["changes"]) == 1
    assert len(client.get(URL, {"channel": "email"}).context["changes"]) == 0


def test_rows_not_sent_again_leave_no_audit(official: Any) -> None:
    [row] = overdue_exit_rows(1)
    Notification.objects.filter(pk=row.pk).update(status=OutboxStatus.SENDING)

    client_for(official).post(URL, {"id": [row.pk]})

    assert not NotificationResend.objects.exists()
    assert Notification.objects.get(pk=row.pk).status == OutboxStatus.SENDING


def test_the_admins_send_again_is_audited_too() -> None:
    admin_user = UserFactory(is_staff=True, is_superuser=True, username="root")
    [failed] = overdue_exit_rows(1)
    Notification.objects.filter(pk=failed.pk).update(status=OutboxStatus.FAILED, attempts=5)

    client_for(admin_user).post(
        reverse("admin:notifications_notification_changelist"),
        {"action": "send_again", "_selected_action": [failed.pk]},
    )

    [resend] = NotificationResend.objects.all()
    assert (resend.by, resend.attempts_before) == (admin_user, 5)
