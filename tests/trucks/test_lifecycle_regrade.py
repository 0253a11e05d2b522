"""Regrading (issue 4 item 4): a region's risk level or a new policy version regrades the active
passes affected, in chunks, by a worker after the change commits; each colour change is kept in
the pass history with the rule version, and the driver is told the new colour and why, once. A
periodic sweep regrades what a lost task left behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handover.models import WebhookDelivery, WebhookSubscription
from notifications import messages
from notifications.models import Notification
from passcode_portal.errors import DomainError, PermissionDenied
from places.models import Region
from tests.factories import UserFactory, make_trip
from tests.lifecycle import bulk_passes, celery_eager, run_after_commit, task_names
from trucks import lifecycle, services
from trucks import tasks as lifecycle_tasks
from trucks.models import Driver, Pass, PassStatus, Policy

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WUJIN = "320412"  # 常州市武进区


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


@pytest.fixture
def official() -> User:
    return UserFactory(role="official")


def set_level(code: str, level: str, at: datetime = NOW) -> None:
    """A level changed with no task to follow (the broker was down)."""
    Region.objects.filter(code=code).update(risk_level=level, risk_changed_at=at)


def window() -> dict[str, Any]:
    return {"valid_from": NOW - timedelta(hours=1), "valid_until": NOW + timedelta(days=1)}


def regraded(template: str = "pass_regraded") -> list[Notification]:
    return list(Notification.objects.filter(template=template).order_by("pk"))


def lifecycle_callbacks(callbacks: list[Callable[[], Any]]) -> list[Callable[[], Any]]:
    return [
        c for c in callbacks if any(n.startswith("trucks.tasks.regrade") for n in task_names([c]))
    ]


def drain(capture: Any, callbacks: list[Callable[[], Any]]) -> int:
    """Run lifecycle tasks enqueued after commit, and those they enqueue, as workers would.
    Returns how many ran."""
    ran = 0
    pending = lifecycle_callbacks(callbacks)
    while pending:
        with capture() as more, celery_eager():
            for callback in pending:
                callback()
                ran += 1
        pending = lifecycle_callbacks(more)
    return ran


# --- a region's risk level ---------------------------------------------------------------------


def test_a_risk_change_regrades_after_it_commits(
    dispatcher: Any, checkpoint: Any, official: User, django_capture_on_commit_callbacks: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint, origin_region=WUJIN, travel_history=[])

    with django_capture_on_commit_callbacks() as callbacks:
        services.region_set_risk(
            actor=official, region=Region.objects.get(code=WUJIN), risk_level="high"
        )

    # Recorded at once; the passes wait for the worker.
    assert task_names(callbacks) == ["trucks.tasks.regrade_region"]
    assert Pass.objects.get(trip=trip).colour == "green"
    assert drain(django_capture_on_commit_callbacks, callbacks) == 1
    assert Pass.objects.get(trip=trip).colour == "red"


def test_setting_the_same_level_schedules_nothing(
    official: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        services.region_set_risk(
            actor=official, region=Region.objects.get(code=WUJIN), risk_level="low"
        )
    assert callbacks == []


def test_the_synchronous_regrade_stays_for_callers_that_need_it_now(checkpoint: Any) -> None:
    [pass_] = bulk_passes(1, checkpoint=checkpoint, origin=WUJIN, **window())
    set_level(WUJIN, "medium")
    assert lifecycle.passes_regrade_region(code="320000").changed == 1
    pass_.refresh_from_db()
    assert pass_.colour == "yellow"


def test_regrading_goes_in_chunks_and_records_each_change(
    checkpoint: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.LIFECYCLE_REGRADE_CHUNK = 500
    from_wujin = bulk_passes(1000, checkpoint=checkpoint, origin=WUJIN, **window())
    via_wujin = bulk_passes(
        200, checkpoint=checkpoint, origin="410802", travel_history=["140427", WUJIN], **window()
    )
    elsewhere = bulk_passes(50, checkpoint=checkpoint, origin="320411", **window())
    Driver.objects.filter(pk=via_wujin[0].trip.driver_id).update(language="en")
    set_level(WUJIN, "high")

    result = lifecycle.passes_regrade_region(code=WUJIN)

    assert (result.checked, result.changed, result.notified) == (1200, 1200, 1200)
    assert result.finished
    passes = Pass.objects.in_bulk([p.pk for p in from_wujin + via_wujin + elsewhere])
    assert {(passes[p.pk].colour, str(passes[p.pk].reasons)) for p in from_wujin} == {
        ("red", str([{"code": "high_risk_origin", "regions": [WUJIN]}]))
    }
    assert {str(passes[p.pk].reasons) for p in via_wujin} == {
        str([{"code": "high_risk_travel", "regions": [WUJIN]}])
    }
    assert {passes[p.pk].colour for p in elsewhere} == {"green"}

    # Each change is in the pass's history with the rule version and why it was regraded.
    history = Pass.history.filter(id__in=[p.pk for p in from_wujin + via_wujin])
    assert history.count() == 1200
    assert set(
        history.values_list("colour", "policy_version", "history_change_reason").distinct()
    ) == {("red", 1, f"risk level of region {WUJIN}")}
    assert not Pass.history.filter(id__in=[p.pk for p in elsewhere]).exists()

    # Each driver is told once, in their language, with the reasons and what to do.
    rows = regraded()
    assert len(rows) == 1200
    assert len({r.trip_id for r in rows}) == 1200
    chinese = next(r for r in rows if r.trip_id == from_wujin[0].trip_id)
    assert chinese.language == "zh-hans" and chinese.context["colour"] == "red"
    assert "高风险" in chinese.context["reasons"]
    english = next(r for r in rows if r.trip_id == via_wujin[0].trip_id)
    assert english.language == "en"
    assert english.context["reasons"].startswith(
        "Your 14-day travel history includes a high-risk region: 江苏省常州市武进区."
    )
    text = messages.render(english.template, english.context, "en").sms
    assert "now Red" in text and "high-risk region" in text

    # Run again: nothing changes, nothing is recorded or sent twice.
    again = lifecycle.passes_regrade_region(code=WUJIN)
    assert (again.checked, again.changed, again.notified) == (1200, 0, 0)
    assert Pass.history.filter(id__in=[p.pk for p in from_wujin]).count() == 1000
    assert len(regraded()) == 1200


@pytest.mark.parametrize("count", [10, 400])
def test_passes_whose_grade_stands_cost_no_query_each(checkpoint: Any, count: int) -> None:
    bulk_passes(count, checkpoint=checkpoint, origin=WUJIN, **window())
    set_level("320400", "low")  # the city changed, nothing follows from it

    with CaptureQueriesContext(connection) as queries:
        result = lifecycle.passes_regrade_region(code="320400")

    assert (result.checked, result.changed) == (count, 0)
    # The chunk's ids, a savepoint, the policy, the locked passes with their trips, the travel
    # histories, the risk levels, one UPDATE of the grading time, the release, the next ids.
    assert len(queries.captured_queries) == 9


def test_a_change_of_reasons_alone_is_recorded_but_not_sent(checkpoint: Any) -> None:
    [pass_] = bulk_passes(
        1,
        checkpoint=checkpoint,
        origin=WUJIN,
        travel_history=["140427"],
        colour="yellow",
        reasons=[{"code": "medium_risk_origin", "regions": [WUJIN]}],
        **window(),
    )
    set_level(WUJIN, "medium")
    set_level("140427", "medium")

    assert lifecycle.passes_regrade_region(code="140427").changed == 1

    pass_.refresh_from_db()
    assert (pass_.colour, pass_.reasons) == (
        "yellow",
        [
            {"code": "medium_risk_origin", "regions": [WUJIN]},
            {"code": "medium_risk_travel", "regions": ["140427"]},
        ],
    )
    assert pass_.history.count() == 1
    assert regraded() == []


def test_closed_passes_are_not_regraded(
    dispatcher: Any, checkpoint: Any, official: User, django_capture_on_commit_callbacks: Any
) -> None:
    trip = make_trip(dispatcher, checkpoint, origin_region=WUJIN)
    services.trip_cancel(actor=dispatcher, trip=trip)
    [expired] = bulk_passes(1, checkpoint=checkpoint, origin=WUJIN, **window())
    Pass.objects.filter(pk=expired.pk).update(status=PassStatus.EXPIRED)
    with run_after_commit(django_capture_on_commit_callbacks):
        services.region_set_risk(
            actor=official, region=Region.objects.get(code=WUJIN), risk_level="high"
        )
    assert set(Pass.objects.values_list("colour", flat=True)) == {"green"}
    assert regraded() == []


def test_a_long_regrade_goes_on_in_a_new_task(
    checkpoint: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.LIFECYCLE_REGRADE_CHUNK = 2
    settings.LIFECYCLE_TASK_BUDGET_SECONDS = 0  # one chunk per task
    passes = bulk_passes(5, checkpoint=checkpoint, origin=WUJIN, **window())
    set_level(WUJIN, "high")

    with django_capture_on_commit_callbacks() as callbacks:
        assert lifecycle_tasks.regrade_region(WUJIN) == 2

    # The rest follows in tasks of their own, each from where the last stopped.
    assert drain(django_capture_on_commit_callbacks, callbacks) == 3
    assert set(Pass.objects.filter(pk__in=[p.pk for p in passes]).values_list("colour")) == {
        ("red",)
    }
    assert len(regraded()) == 5


# --- a new policy version ---------------------------------------------------------------------


def test_publishing_a_policy_makes_the_next_version_and_regrades(
    dispatcher: Any, checkpoint: Any, official: User, django_capture_on_commit_callbacks: Any
) -> None:
    # Sampled 58 hours before arrival: yellow under the 48 hours of version 1.
    stale = make_trip(
        dispatcher,
        checkpoint,
        planned_arrival=NOW + timedelta(hours=48),
        planned_departure=NOW + timedelta(hours=50),
    )
    fresh = make_trip(dispatcher, checkpoint)
    assert Pass.objects.get(trip=stale).colour == "yellow"
    before = services.policy_current()

    WebhookSubscription.objects.create(
        name="Relay", url="https://relay.example.cn/", secret="s", event_types=["pass.regraded"]
    )

    with django_capture_on_commit_callbacks() as callbacks:
        policy = services.policy_publish(
            actor=official, test_max_age_hours=72, note="Tests valid 72 hours"
        )

    assert (policy.version, policy.created_by, policy.created_at) == (2, official, NOW)
    assert policy.test_max_age_hours == 72 and policy.note == "Tests valid 72 hours"
    # Everything else is carried over from the version in force, which stays as it was.
    for name in services.POLICY_FIELDS:
        if name not in ("test_max_age_hours", "note"):
            assert getattr(policy, name) == getattr(before, name), name
    before.refresh_from_db()
    assert before.test_max_age_hours == 48
    assert task_names(callbacks) == ["trucks.tasks.regrade_all"]

    drain(django_capture_on_commit_callbacks, callbacks)

    stale_pass = Pass.objects.get(trip=stale)
    assert (stale_pass.colour, stale_pass.reasons, stale_pass.policy_version) == ("green", [], 2)
    record = stale_pass.history.latest("history_id")
    assert (record.colour, record.policy_version) == ("green", 2)
    [sms] = regraded()
    assert sms.trip_id == stale.pk and sms.context["colour"] == "green"
    assert sms.context["reasons"]  # "Nothing stands against the trip now.", in Chinese
    # The hand-over webhook hears of the change once (services.pass_regrade emits it).
    [event] = WebhookDelivery.objects.filter(event="pass.regraded")
    assert event.trip_id == stale.pk
    # A pass whose grade stands is marked graded under the new version (no history row).
    fresh_pass = Pass.objects.get(trip=fresh)
    assert (fresh_pass.policy_version, fresh_pass.history.count()) == (2, 1)


def test_only_officials_publish_policies(dispatcher: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.policy_publish(actor=dispatcher, test_max_age_hours=1)
    assert Policy.objects.count() <= 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"red_risk_level": "extreme"}, "red_risk_level"),
        ({"test_max_age_hours": -1}, "test_max_age_hours"),
        ({"version": 9}, "version"),
        ({"colour_of_the_sky": "blue"}, "colour_of_the_sky"),
    ],
)
def test_a_policy_with_bad_values_is_refused(
    official: User, fields: dict[str, Any], field: str
) -> None:
    services.policy_current()
    with pytest.raises(DomainError) as exc:
        services.policy_publish(actor=official, **fields)
    assert exc.value.code == "validation_error" and field in exc.value.fields
    assert Policy.objects.count() == 1


def test_a_policy_added_in_the_admin_is_published(
    client: Client, dispatcher: Any, checkpoint: Any, django_capture_on_commit_callbacks: Any
) -> None:
    set_level(WUJIN, "medium", at=NOW - timedelta(days=1))
    trip = make_trip(dispatcher, checkpoint, origin_region=WUJIN, travel_history=[])
    assert Pass.objects.get(trip=trip).colour == "yellow"
    client.force_login(
        UserFactory(is_staff=True, is_superuser=True),
        backend="django.contrib.auth.backends.ModelBackend",
    )
    current = services.policy_current()
    form = {name: getattr(current, name) for name in services.POLICY_FIELDS}
    form.update(red_risk_level="medium", strict_checkpoint="")

    with run_after_commit(django_capture_on_commit_callbacks) as callbacks:
        response = client.post(reverse("admin:trucks_policy_add"), form)

    assert response.status_code == 302
    assert "trucks.tasks.regrade_all" in task_names(callbacks)
    policy = services.policy_current()
    assert (policy.version, policy.red_risk_level) == (2, "medium")
    assert Pass.objects.get(trip=trip).colour == "red"


# --- the sweep --------------------------------------------------------------------------------


def test_the_sweep_regrades_what_a_lost_region_task_left(checkpoint: Any, _frozen: Any) -> None:
    passes = bulk_passes(3, checkpoint=checkpoint, origin=WUJIN, **window())
    untouched = bulk_passes(2, checkpoint=checkpoint, origin="410802", **window())
    set_level(WUJIN, "high", at=NOW)
    _frozen.shift(timedelta(minutes=10))

    assert lifecycle_tasks.regrade_stale() == 3
    assert set(Pass.objects.filter(pk__in=[p.pk for p in passes]).values_list("colour")) == {
        ("red",)
    }
    # Only the passes graded before the change are looked at, once.
    with CaptureQueriesContext(connection) as queries:
        assert lifecycle.passes_regrade_stale().checked == 0
    assert len(queries.captured_queries) <= 6
    assert {p.graded_at for p in Pass.objects.filter(pk__in=[p.pk for p in untouched])} == {
        untouched[0].graded_at
    }


def test_the_sweep_regrades_passes_graded_under_an_older_policy(
    dispatcher: Any, checkpoint: Any, official: User
) -> None:
    trip = make_trip(
        dispatcher,
        checkpoint,
        planned_arrival=NOW + timedelta(hours=48),
        planned_departure=NOW + timedelta(hours=50),
    )
    services.policy_publish(actor=official, test_max_age_hours=72)  # its task is lost

    result = lifecycle.passes_regrade_stale()

    assert (result.checked, result.changed) == (1, 1)
    assert Pass.objects.get(trip=trip).colour == "green"
    assert lifecycle.passes_regrade_stale().checked == 0


def test_a_registration_racing_a_risk_change_is_caught_by_the_sweep(
    dispatcher: Any, checkpoint: Any
) -> None:
    # The change's time is taken in its transaction; a registration that read the old level
    # just before the change committed stamps its pass a moment later.
    set_level(WUJIN, "high", at=NOW - timedelta(seconds=5))
    trip = make_trip(dispatcher, checkpoint, origin_region=WUJIN)
    Pass.objects.filter(trip=trip).update(colour="green", reasons=[])

    assert lifecycle.passes_regrade_stale().changed == 1
    assert Pass.objects.get(trip=trip).colour == "red"
