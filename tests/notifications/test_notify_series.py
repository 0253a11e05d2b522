"""Recurring trips tell each driver once: one message when the series is registered (with the
first pass's link, the others coming with the window reminders) and one when it is cancelled,
not one per trip."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db.models import Count

from notifications import messages, reminders
from notifications.models import Notification
from passcode_portal.errors import DomainError
from tests.factories import make_trip
from trucks import links, services
from trucks.models import Driver, Pass, Trip, TripSeries, TripStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 08:00 in the city


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def by_template() -> dict[str, int]:
    counts = Notification.objects.values("template").annotate(n=Count("id"))
    return {row["template"]: row["n"] for row in counts}


def repeated(dispatcher: Any, checkpoint: Any, days: int = 3, **overrides: Any) -> TripSeries:
    source = make_trip(
        dispatcher,
        checkpoint,
        planned_arrival=NOW + timedelta(hours=6),
        planned_departure=NOW + timedelta(hours=12),
        **overrides,
    )
    return services.trip_series_create(actor=dispatcher, trip=source, days=days)


def repeats(series: TripSeries) -> list[Trip]:
    trips = Trip.objects.filter(series=series).exclude(pk=series.source_trip_id)
    return list(trips.order_by("planned_arrival"))


def test_the_driver_is_told_once_for_the_series(dispatcher: Any, checkpoint: Any) -> None:
    series = repeated(dispatcher, checkpoint)
    first = repeats(series)[0]

    # The source trip's own message, and one for the three repeats.
    assert by_template() == {"pass_issued": 1, "series_registered": 1}
    row = Notification.objects.get(template="series_registered")
    assert (row.recipient, row.trip_id, row.dedupe_key) == (
        first.driver.phone,
        first.pk,
        f"series_registered:{series.pk}:{first.driver_id}:sms",
    )
    context = dict(row.context)
    link = context.pop("link")
    assert context == {
        "count": 3,
        "reference": first.reference,
        "plate": first.vehicle.plate,
        "first_date": "2026-11-24",
        "last_date": "2026-11-26",
    }
    token = link.removeprefix(settings.SITE_URL + "/p/").removesuffix("/")
    assert links.pass_id_from_link(token) == Pass.objects.get(trip=first).pk
    text = messages.render(row.template, row.context, "en").sms
    assert text.startswith(
        f"Plate {first.vehicle.plate}: 3 trips registered, from 2026-11-24 (trip "
        f"{first.reference}) to 2026-11-26"
    )
    assert "The link to each pass is sent before its window opens." in text
    assert text.endswith(link)
    assert messages.render(row.template, row.context, "zh-hans").body


def test_a_driver_with_an_email_gets_both_in_their_language(
    dispatcher: Any, checkpoint: Any
) -> None:
    source = make_trip(
        dispatcher,
        checkpoint,
        planned_arrival=NOW + timedelta(hours=6),
        planned_departure=NOW + timedelta(hours=12),
    )
    Driver.objects.filter(pk=source.driver_id).update(email="li@example.cn", language="en")

    services.trip_series_create(actor=dispatcher, trip=source, days=2)

    rows = Notification.objects.filter(template="series_registered").order_by("channel")
    assert [(r.channel, r.language) for r in rows] == [("email", "en"), ("sms", "en")]


def test_a_refused_series_tells_nobody(dispatcher: Any, checkpoint: Any) -> None:
    source = make_trip(
        dispatcher,
        checkpoint,
        planned_arrival=NOW + timedelta(hours=6),
        planned_departure=NOW + timedelta(hours=12),
    )
    make_trip(
        dispatcher,
        checkpoint,
        vehicle_plate=source.vehicle.plate,
        planned_arrival=NOW + timedelta(hours=30),
        planned_departure=NOW + timedelta(hours=36),
    )

    with pytest.raises(DomainError):
        services.trip_series_create(actor=dispatcher, trip=source, days=2)

    assert by_template() == {"pass_issued": 2}


def test_cancelling_tells_the_driver_once_and_a_second_cancel_nothing_more(
    dispatcher: Any, checkpoint: Any
) -> None:
    series = repeated(dispatcher, checkpoint)
    Trip.objects.filter(pk=repeats(series)[0].pk).update(status=TripStatus.INSIDE)

    services.trip_series_cancel(actor=dispatcher, series=series)
    services.trip_series_cancel(actor=dispatcher, series=series)

    [row] = Notification.objects.filter(template="series_cancelled")
    # The source trip and the two repeats not entered; the dates are theirs.
    assert row.context["count"] == 3
    assert (row.context["first_date"], row.context["last_date"]) == ("2026-11-23", "2026-11-26")
    assert messages.render(row.template, row.context, "en").sms.endswith(
        "are cancelled and their passes revoked. Do not set off with them."
    )
    assert by_template() == {"pass_issued": 1, "series_registered": 1, "series_cancelled": 1}


def test_each_repeat_is_reminded_before_its_window_however_late_it_was_issued(
    dispatcher: Any, checkpoint: Any
) -> None:
    series = repeated(dispatcher, checkpoint, days=1)
    [repeat] = repeats(series)
    pass_ = Pass.objects.get(trip=repeat)
    source_pass = Pass.objects.get(trip=series.source_trip)

    # The source's window opens 4 hours from now, within the 12-hour lead: its driver was told at
    # registration. The repeat's opens in 28 hours: reminded at its lead time like any trip.
    assert reminders.reminders_queue(now=source_pass.valid_from - timedelta(hours=1)).window == 0
    due = pass_.valid_from - timedelta(hours=12)
    assert reminders.reminders_queue(now=due).window == 1
    [row] = Notification.objects.filter(template="remind_window")
    assert row.trip_id == repeat.pk
    assert row.context["link"] == links.pass_link_url(pass_)


def test_a_repeat_issued_inside_its_lead_time_is_still_reminded(
    dispatcher: Any, checkpoint: Any
) -> None:
    # Registered 6 hours before the source arrives, the first repeat's window opens 28 hours
    # later; with a 40-hour lead its pass is issued after its reminder point. Its driver had
    # only the first link of the series (this one): the reminder comes all the same.
    services.policy_publish(actor=None, remind_window_hours=40)
    series = repeated(dispatcher, checkpoint, days=2)
    first, _second = repeats(series)

    # The first repeat at once; not the source (told at registration, its window 4 hours
    # away), nor the second (its window 52 hours away, beyond the lead).
    assert reminders.reminders_queue(now=NOW).window == 1
    reminded = set(
        Notification.objects.filter(template="remind_window").values_list("trip_id", flat=True)
    )
    assert reminded == {first.pk}
