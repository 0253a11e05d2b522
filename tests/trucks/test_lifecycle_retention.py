"""Retention (issue 4 item 8): names, ID numbers, phones and e-mail addresses of trips closed
longer ago than the policy's retention period are removed; the figures stay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User

from checkpoints import lifecycle as checkpoint_lifecycle
from checkpoints.models import WalkIn
from handover.models import WebhookDelivery, WebhookSubscription
from notifications.models import Notification
from passcode_portal.outbox import OutboxStatus
from tests.factories import dispatcher as make_dispatcher
from tests.factories import (
    driver_user,
    make_trip,
    valid_id_number,
    valid_phone,
    whitelisted_company,
)
from trucks import lifecycle, services
from trucks import tasks as lifecycle_tasks
from trucks.models import CoRider, Driver, Pass, Trip, TripChange, TripStatus
from trucks.services import PersonData

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
RETENTION = timedelta(days=28)  # policy v1
CUTOFF = NOW - RETENTION
US = timedelta(microseconds=1)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def person() -> PersonData:
    return PersonData("王小二", valid_id_number(), valid_phone())


def trip_at(actor: User, checkpoint: Any, when: datetime, **overrides: Any) -> Trip:
    """A trip registered at ``when``, arriving six hours later, with two co-riders."""
    with time_machine.travel(when, tick=False):
        values: dict[str, Any] = {"co_riders": [person(), person()]}
        values.update(overrides)
        return make_trip(actor, checkpoint, **values)


def exited(trip: Trip, at: datetime) -> Trip:
    Trip.objects.filter(pk=trip.pk).update(
        status=TripStatus.EXITED, entered_at=at - timedelta(hours=5), exited_at=at
    )
    Pass.objects.filter(trip=trip).update(status="completed")
    return Trip.objects.get(pk=trip.pk)


def anonymised(trip: Trip) -> bool:
    trip.refresh_from_db()
    riders = list(trip.co_riders.all())
    gone = trip.anonymised_at is not None
    assert all((r.name == "已匿名") == gone for r in riders)
    return gone


def test_closed_trips_lose_personal_data_and_keep_their_figures(
    dispatcher: Any, checkpoint: Any
) -> None:
    old = exited(trip_at(dispatcher, checkpoint, CUTOFF - timedelta(days=1)), CUTOFF - US)
    edge = exited(trip_at(dispatcher, checkpoint, CUTOFF - timedelta(days=1)), CUTOFF)
    counts = (Trip.objects.count(), Pass.objects.count(), CoRider.objects.count())
    driver = old.driver_id

    result = lifecycle.personal_data_anonymise(now=NOW)

    assert (result.trips, result.co_riders) == (1, 2)
    assert anonymised(old) and not anonymised(edge)
    assert old.anonymised_at == NOW
    riders = list(old.co_riders.order_by("pk"))
    assert [(r.name, r.phone) for r in riders] == [("已匿名", ""), ("已匿名", "")]
    assert [r.id_number for r in riders] == [f"ANON{r.pk:014d}" for r in riders]
    assert all(len(r.id_number) == 18 for r in riders)
    # The trip, its pass and its riders are still there to be counted, as they were.
    assert (Trip.objects.count(), Pass.objects.count(), CoRider.objects.count()) == counts
    assert (old.status, old.exited_at, old.driver_id) == (TripStatus.EXITED, CUTOFF - US, driver)


def test_the_driver_goes_when_no_trip_needs_them_any_more(dispatcher: Any, checkpoint: Any) -> None:
    gone, recent, busy = person(), person(), person()
    long_ago = CUTOFF - timedelta(days=10)
    only_old = exited(trip_at(dispatcher, checkpoint, long_ago, driver=gone), long_ago)
    Driver.objects.filter(pk=only_old.driver_id).update(email="wang@example.cn")
    # A new phone: a change, kept in the driver's history.
    services.driver_add(
        actor=dispatcher, person=PersonData(gone.name, gone.id_number, valid_phone())
    )
    # Old trips of drivers with a trip closed within the period, or a trip still open.
    for driver in (recent, busy):
        exited(trip_at(dispatcher, checkpoint, long_ago, driver=driver), long_ago)
    exited(trip_at(dispatcher, checkpoint, NOW - timedelta(days=3), driver=recent), NOW)
    trip_at(dispatcher, checkpoint, NOW, driver=busy)

    result = lifecycle.personal_data_anonymise(now=NOW)

    assert (result.trips, result.drivers) == (3, 1)
    driver = Driver.objects.get(pk=only_old.driver_id)
    assert (driver.name, driver.id_number, driver.phone, driver.email) == (
        "已匿名",
        f"ANON{driver.pk:014d}",
        "",
        "",
    )
    assert driver.anonymised_at == NOW
    # Its history keeps when it changed, but no longer the person.
    history = list(Driver.history.filter(id=driver.pk))
    assert len(history) == 2
    assert {(h.name, h.id_number, h.phone, h.email) for h in history} == {
        ("已匿名", driver.id_number, "", "")
    }
    for kept in (recent, busy):
        assert Driver.objects.get(id_number=kept.id_number).anonymised_at is None
    assert Driver.history.filter(id_number=recent.id_number).exists()


def test_a_driver_with_an_account_keeps_the_profile(checkpoint: Any) -> None:
    user = driver_user()
    trip = exited(trip_at(user, checkpoint, CUTOFF - timedelta(days=2), driver=None), CUTOFF)

    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert lifecycle.personal_data_anonymise().trips == 1

    assert anonymised(trip)
    profile = Driver.objects.get(user=user)
    assert profile.anonymised_at is None and profile.name == "张师傅"


def test_cancelled_and_expired_trips_count_from_when_they_closed(
    dispatcher: Any, checkpoint: Any
) -> None:
    long_ago = CUTOFF - timedelta(days=5)
    # One trip below is registered five weeks before its arrival: a horizon that allows it.
    services.policy_publish(actor=None, max_advance_days=60)
    cancelled_early = trip_at(dispatcher, checkpoint, long_ago)
    with time_machine.travel(long_ago + timedelta(hours=1), tick=False):
        services.trip_cancel(actor=dispatcher, trip=cancelled_early)
    # Planned weeks ahead and cancelled now: closed just now, kept.
    cancelled_now = trip_at(
        dispatcher,
        checkpoint,
        long_ago,
        planned_arrival=NOW + timedelta(days=3),
        planned_departure=NOW + timedelta(days=4),
    )
    services.trip_cancel(actor=dispatcher, trip=cancelled_now)
    # Never entered: expired when the pass ended (its window closes 2 hours after departure).
    expired_old = trip_at(dispatcher, checkpoint, long_ago)
    expired_edge = trip_at(
        dispatcher,
        checkpoint,
        long_ago,
        planned_arrival=CUTOFF - timedelta(hours=10),
        planned_departure=CUTOFF - timedelta(hours=2),
    )
    lifecycle.passes_expire(now=NOW)
    assert Pass.objects.get(trip=expired_edge).valid_until == CUTOFF

    lifecycle.personal_data_anonymise(now=NOW)

    assert anonymised(cancelled_early) and anonymised(expired_old)
    assert not anonymised(cancelled_now) and not anonymised(expired_edge)


def test_a_multi_entry_trip_closes_when_its_pass_ends(checkpoint: Any) -> None:
    start = CUTOFF - timedelta(days=3)
    company = whitelisted_company(valid_from=start)
    trip = trip_at(
        make_dispatcher(company),
        checkpoint,
        start,
        multi_entry=True,
        planned_arrival=start + timedelta(hours=6),
        planned_departure=start + timedelta(days=6),
    )
    # Out of the city after its first visit; the pass lets it in again for days.
    Trip.objects.filter(pk=trip.pk).update(
        status=TripStatus.EXITED, exited_at=start + timedelta(days=1)
    )

    assert lifecycle.personal_data_anonymise(now=NOW).trips == 0
    later = Pass.objects.get(trip=trip).valid_until + RETENTION + US
    assert lifecycle.personal_data_anonymise(now=later).trips == 1


def test_copies_in_the_outbox_and_the_webhook_log_go_too(dispatcher: Any, checkpoint: Any) -> None:
    trip = exited(trip_at(dispatcher, checkpoint, CUTOFF - timedelta(days=1)), CUTOFF - US)
    sent = Notification.objects.get(trip=trip, template="pass_issued")
    Notification.objects.filter(pk=sent.pk).update(status=OutboxStatus.SENT)
    stuck = Notification.objects.create(
        channel="sms", recipient="13900000000", template="remind_window", dedupe_key="x", trip=trip
    )
    subscription = WebhookSubscription.objects.create(
        name="Relay", url="https://relay.example.cn/", secret="s", event_types=["trip.exited"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event="trip.exited",
        payload={"trip": {"driver_name": "李师傅", "driver_phone": "13900000000"}},
        dedupe_key="y",
        trip=trip,
        status=OutboxStatus.SENT,
    )

    result = lifecycle.personal_data_anonymise(now=NOW)

    assert (result.notifications, result.deliveries) == (2, 1)
    sent.refresh_from_db()
    stuck.refresh_from_db()
    delivery.refresh_from_db()
    assert (sent.status, sent.recipient, sent.context) == (OutboxStatus.SENT, "", {})
    assert (stuck.status, stuck.recipient) == (OutboxStatus.FAILED, "")
    assert (delivery.status, delivery.payload) == (OutboxStatus.SENT, {"anonymised": True})


def test_running_again_or_in_chunks_does_each_trip_once(
    dispatcher: Any, checkpoint: Any, settings: Any
) -> None:
    settings.LIFECYCLE_BATCH = 2
    same = person()
    trips = [
        exited(
            trip_at(dispatcher, checkpoint, CUTOFF - timedelta(days=d), driver=p or person()), at
        )
        for d, p, at in [
            (2, same, CUTOFF - timedelta(days=1)),
            (9, None, CUTOFF - US),
            (8, None, CUTOFF - US),
            (7, None, CUTOFF - US),
            (3, same, CUTOFF - US),  # the same driver, in the last chunk
        ]
    ]

    assert lifecycle_tasks.anonymise_personal_data() == 5
    assert lifecycle_tasks.anonymise_personal_data() == 0
    assert all(anonymised(t) for t in trips)
    assert {t.anonymised_at for t in trips} == {NOW}
    assert Driver.objects.filter(anonymised_at=NOW).count() == 4


def test_a_shorter_retention_in_the_policy_applies(dispatcher: Any, checkpoint: Any) -> None:
    trip = exited(trip_at(dispatcher, checkpoint, NOW - timedelta(days=9)), NOW - timedelta(days=8))
    assert lifecycle.personal_data_anonymise(now=NOW).trips == 0
    services.policy_publish(actor=None, retention_days=7)
    assert lifecycle.personal_data_anonymise(now=NOW).trips == 1
    assert anonymised(trip)


def test_walk_ins_lose_the_drivers_name_and_phone(checkpoint: Any) -> None:
    def walk_in(at: datetime) -> WalkIn:
        return WalkIn.objects.create(
            checkpoint=checkpoint,
            plate="豫H99999",
            driver_name="赵师傅",
            phone="13900000001",
            outcome=WalkIn.Outcome.TURNED_BACK,
            recorded_at=at,
        )

    old, edge = walk_in(CUTOFF - US), walk_in(CUTOFF)

    assert checkpoint_lifecycle.walk_ins_anonymise(now=NOW) == 1
    assert checkpoint_lifecycle.walk_ins_anonymise(now=NOW) == 0

    old.refresh_from_db()
    edge.refresh_from_db()
    assert (old.driver_name, old.phone, old.plate, old.outcome) == (
        "",
        "",
        "豫H99999",
        "turned_back",
    )
    assert (edge.driver_name, edge.phone) == ("赵师傅", "13900000001")
    assert WalkIn.objects.count() == 2


def test_the_audit_of_a_driver_change_loses_the_names(dispatcher: Any, checkpoint: Any) -> None:
    long_ago = CUTOFF - timedelta(days=10)
    trip = trip_at(dispatcher, checkpoint, long_ago)
    with time_machine.travel(long_ago, tick=False):
        services.trip_change_driver(
            actor=dispatcher,
            trip=trip,
            person=person(),
            test_result="negative",
            test_sampled_at=long_ago - timedelta(hours=1),
        )
        services.trip_correct_plate(actor=dispatcher, trip=trip, plate="豫HA1234")
    exited(trip, long_ago + timedelta(days=1))

    lifecycle.personal_data_anonymise(now=NOW)

    changes = {c.kind: c for c in TripChange.objects.filter(trip=trip)}
    assert (changes["driver"].before, changes["driver"].after) == ({}, {})
    assert changes["driver"].actor == dispatcher
    assert changes["plate"].after == {"plate": "豫HA1234"}  # a plate is no personal data
