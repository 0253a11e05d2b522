"""The officials' figures (``dashboards.selectors``), against rows whose answers are counted here
by hand; the stats API and the dashboard page give the same figures; everyone but officials and
admins is refused; bad dates are refused in the user's language."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from checkpoints.models import Alert, ScanEvent, WalkIn
from dashboards import rollups, selectors
from dashboards.periods import Period
from tests.factories import (
    CheckpointFactory,
    UserFactory,
    consignee_user,
    dispatcher,
    driver_user,
    make_trip,
    staff_user,
)
from trucks.models import Pass, Trip, TripStatus

pytestmark = pytest.mark.django_db


def today_at(hour: int, days: int = 0) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def scan(
    checkpoint: Any, trip: Trip | None, direction: str, verdict: str, reason: str, **extra: Any
) -> ScanEvent:
    pass_ = Pass.objects.filter(trip=trip).first() if trip is not None else None
    when = extra.pop("at", today_at(9))
    return ScanEvent.objects.create(
        checkpoint=checkpoint,
        trip=trip,
        trip_pass=pass_,
        direction=direction,
        verdict=verdict,
        reason=reason,
        scanned_at=when,
        received_at=when,
        **extra,
    )


@pytest.fixture(params=["as recorded", "counted"])
def world(request: pytest.FixtureRequest, regions: None) -> dict[str, Any]:
    """Two checkpoints and a day at them, with one scan of yesterday that no figure of today
    may count: as recorded, and once the roll-up task has counted it all (every figure must
    come out the same)."""
    a = CheckpointFactory(code="CP-A", name="甲站")
    b = CheckpointFactory(code="CP-B", name="乙站")
    official = UserFactory(role="official")
    actor = dispatcher()
    first, second, third = (
        make_trip(actor, a, planned_arrival=timezone.now() + timedelta(hours=1)),
        make_trip(actor, b, planned_arrival=timezone.now() + timedelta(hours=1)),
        make_trip(actor, a, planned_arrival=timezone.now() + timedelta(hours=1)),
    )
    Trip.objects.filter(pk=first.pk).update(status=TripStatus.EXITED)
    Trip.objects.filter(pk__in=[second.pk, third.pk]).update(status=TripStatus.INSIDE)
    scan(a, first, "in", "admit", "ok", at=today_at(8))
    scan(a, first, "out", "admit", "ok", at=today_at(15))
    scan(
        b,
        second,
        "in",
        "refuse",
        "plate_mismatch",
        at=today_at(10),
        overridden_by=official,
        overridden_at=today_at(10) + timedelta(minutes=5),
        override_reason="车牌污损，人工核对无误",
    )
    scan(
        a, third, "in", "admit_with_test", "test_required", at=today_at(11), landing_test="sampled"
    )
    scan(a, None, "in", "refuse", "invalid", at=today_at(12))
    scan(a, third, "in", "admit", "ok", at=today_at(9, days=-1))  # yesterday
    WalkIn.objects.create(
        checkpoint=b, direction="in", plate="豫A12345", outcome="admitted", recorded_at=today_at(13)
    )
    Alert.objects.create(kind="overdue_arrival", key=f"overdue_arrival:{second.pk}", trip=second)
    Alert.objects.create(
        kind="overdue_arrival",
        key=f"overdue_arrival:{third.pk}",
        trip=third,
        resolved_at=timezone.now(),
    )
    if request.param == "counted":
        assert rollups.count_new() > 0
    return {"a": a, "b": b, "official": official, "trips": (first, second, third)}


def today() -> Period:
    day = timezone.localdate()
    return Period(day, day)


def test_the_figures_of_today_at_every_checkpoint(world: dict[str, Any]) -> None:
    figures = selectors.overview(today())

    assert figures["registrations"] == 3
    assert figures["passes"] == {"green": 3, "yellow": 0, "red": 0}
    # The entry at A, the override at B (an admission) and the entry with a test at A.
    assert (figures["entries"], figures["exits"]) == (3, 1)
    assert figures["refusals"] == {"invalid": 1}  # the overridden refusal is not one
    assert (figures["walk_ins"], figures["overrides"]) == (1, 1)
    assert (figures["inside"], figures["overdue"]) == (2, 1)
    assert figures["landing_tests_pending"] == 1
    # Scans of passes (4) among all vehicles recorded (4 and the walk-in).
    assert figures["compliance_rate"] == pytest.approx(0.8)
    assert figures["checkpoints"] == [
        {"code": "CP-A", "name": "甲站", "entries": 2, "exits": 1, "refusals": 1, "walk_ins": 0},
        {"code": "CP-B", "name": "乙站", "entries": 1, "exits": 0, "refusals": 0, "walk_ins": 1},
    ]


def test_the_figures_of_one_checkpoint(world: dict[str, Any]) -> None:
    figures = selectors.overview(today(), world["a"])

    assert figures["checkpoint"] == "CP-A"
    assert figures["registrations"] == 2
    assert (figures["entries"], figures["exits"], figures["refusals"]) == (2, 1, {"invalid": 1})
    assert (figures["walk_ins"], figures["overrides"], figures["landing_tests_pending"]) == (
        0,
        0,
        1,
    )
    assert figures["inside"] == 1  # the third trip, registered to enter at A
    assert figures["overdue"] == 0  # its alert is resolved
    assert figures["compliance_rate"] == 1.0
    assert [row["code"] for row in figures["checkpoints"]] == ["CP-A"]


def test_yesterday_and_a_range(world: dict[str, Any]) -> None:
    yesterday = timezone.localdate() - timedelta(days=1)
    assert selectors.overview(Period(yesterday, yesterday))["entries"] == 1
    assert selectors.overview(Period(yesterday, timezone.localdate()))["entries"] == 4


def test_nothing_recorded_has_no_compliance_rate(regions: None) -> None:
    CheckpointFactory(code="CP-A")
    figures = selectors.overview(today())
    assert figures["compliance_rate"] is None
    assert figures["entries"] == figures["walk_ins"] == 0


def test_entries_and_exits_by_the_hour(world: dict[str, Any]) -> None:
    hours = selectors.hourly(timezone.localdate())["hours"]
    assert len(hours) == 24
    assert [(h["hour"], h["entries"], h["exits"]) for h in hours if h["entries"] or h["exits"]] == [
        (8, 1, 0),
        (10, 1, 0),
        (11, 1, 0),
        (15, 0, 1),
    ]
    at_b = selectors.hourly(timezone.localdate(), world["b"])["hours"]
    assert sum(h["entries"] for h in at_b) == 1


def test_the_number_of_queries_does_not_grow_with_the_data(world: dict[str, Any]) -> None:
    with CaptureQueriesContext(connection) as before:
        selectors.overview(today())
    first = world["trips"][0]
    for hour in range(12):
        scan(world["a"], first, "in", "refuse", "already_inside", at=today_at(hour))
        WalkIn.objects.create(
            checkpoint=world["b"],
            direction="out",
            plate="豫B00001",
            outcome="admitted",
            recorded_at=today_at(hour),
        )
    CheckpointFactory(code="CP-C")
    with CaptureQueriesContext(connection) as after:
        selectors.overview(today())
    assert len(after) == len(before)


def test_the_api_and_the_page_give_the_selectors_figures(world: dict[str, Any]) -> None:
    api = APIClient()
    api.force_authenticate(world["official"])
    answer = api.get("/api/v1/stats/overview/", {"checkpoint": "CP-A"})
    assert answer.status_code == 200
    body = answer.json()
    expected = selectors.overview(today(), world["a"])
    for key in (
        "registrations",
        "entries",
        "exits",
        "inside",
        "overdue",
        "refusals",
        "walk_ins",
        "landing_tests_pending",
        "overrides",
        "compliance_rate",
        "passes",
        "checkpoints",
    ):
        assert body[key] == expected[key], key
    assert body["from"] == body["to"] == timezone.localdate().isoformat()

    page = Client()
    page.force_login(world["official"])
    html = page.get("/dashboard/", {"checkpoint": "CP-A"})
    assert html.status_code == 200
    text = html.content.decode()
    assert 'data-figure="entries">2<' in text
    assert 'data-figure="compliance_rate" data-format="percent">100%<' in text
    assert "<h1>统计看板 · 甲站</h1>" in text  # Chinese by default

    hourly = api.get("/api/v1/stats/hourly/")
    assert hourly.status_code == 200
    assert [h["hour"] for h in hourly.json()["hours"]] == list(range(24))


@pytest.mark.parametrize("role", ["driver", "dispatcher", "consignee", "staff"])
def test_every_other_role_is_refused(world: dict[str, Any], role: str) -> None:
    user = {
        "driver": driver_user,
        "dispatcher": dispatcher,
        "consignee": consignee_user,
        "staff": lambda: staff_user(world["a"]),
    }[role]()
    api = APIClient()
    api.force_authenticate(user)
    for url in ("/api/v1/stats/overview/", "/api/v1/stats/hourly/"):
        assert api.get(url).status_code == 403, url
    page = Client()
    page.force_login(user)
    assert page.get("/dashboard/").status_code == 403


def test_anonymous_is_asked_to_sign_in(world: dict[str, Any]) -> None:
    for url in ("/api/v1/stats/overview/", "/api/v1/stats/hourly/"):
        assert APIClient().get(url).status_code == 401, url
    page = Client().get("/dashboard/")
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]


@pytest.mark.parametrize(
    ("query", "field", "english", "chinese"),
    [
        ({"from": "2026-13-01"}, "from", "YYYY-MM-DD", "YYYY-MM-DD"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "to", "before the start", "早于"),
        ({"from": "2025-01-01", "to": "2026-12-01"}, "to", "at most 366 days", "366"),
    ],
)
def test_bad_dates_are_refused_in_the_users_language(
    world: dict[str, Any], query: dict[str, str], field: str, english: str, chinese: str
) -> None:
    api = APIClient()
    api.force_authenticate(world["official"])
    for language, words in (("en", english), ("zh-hans", chinese)):
        answer = api.get("/api/v1/stats/overview/", query, HTTP_ACCEPT_LANGUAGE=language)
        assert answer.status_code == 400
        assert words in answer.json()["fields"][field][0], answer.json()
    page = Client()
    page.force_login(world["official"])
    shown = page.get("/dashboard/", query, HTTP_ACCEPT_LANGUAGE="en")
    assert shown.status_code == 400
    assert english in shown.content.decode()


def test_a_bad_hourly_date_is_refused_under_its_own_name(world: dict[str, Any]) -> None:
    api = APIClient()
    api.force_authenticate(world["official"])

    answer = api.get("/api/v1/stats/hourly/", {"date": "2026-02-30"}, HTTP_ACCEPT_LANGUAGE="en")

    assert answer.status_code == 400
    assert list(answer.json()["fields"]) == ["date"]
    assert api.get("/api/v1/stats/hourly/", {"date": "2026-02-28"}).json()["date"] == "2026-02-28"


def test_an_unknown_checkpoint_is_absent(world: dict[str, Any]) -> None:
    api = APIClient()
    api.force_authenticate(world["official"])
    assert api.get("/api/v1/stats/overview/", {"checkpoint": "NOPE"}).status_code == 404
