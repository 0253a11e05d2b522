"""The roll-ups (``dashboards.rollups``) and the figures read through them
(``dashboards.counting``): every row counted once, whether counted yet or not; a counted row that
changes (an override, a new colour) moves its count; a stale ``save()`` never un-counts a row;
the figures equal the raw counts at every moment, and cost the same queries however many rows."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from checkpoints import services as checkpoint_services
from checkpoints.models import ScanEvent, WalkIn
from dashboards import charts, rollups, selectors, tasks
from dashboards.models import OriginDay, PassDay, ScanDay, ScanHour, TripDay, WalkInDay
from places.models import Region, StaffAssignment
from tests.dashboards.test_overview import scan, today, today_at, world
from tests.factories import (
    CheckpointFactory,
    UserFactory,
    dispatcher,
    make_trip,
    staff_user,
)
from trucks import lifecycle, services
from trucks.models import Pass, Trip

__all__ = ["world"]  # the fixture

pytestmark = pytest.mark.django_db


# The tests that count the world themselves take it as recorded, none of it counted yet.
AS_RECORDED = pytest.mark.parametrize("world", ["as recorded"], indirect=True)


def summed(model: Any) -> int:
    return int(model.objects.aggregate(n=Sum("n"))["n"] or 0)


def figures_now(**kwargs: Any) -> dict[str, Any]:
    figures = selectors.overview(today(), **kwargs)
    figures.pop("updated_at")
    return figures


@AS_RECORDED
def test_each_row_is_counted_once_and_the_figures_do_not_move(world: dict[str, Any]) -> None:
    before = figures_now()
    hourly_before = charts.hourly_by_checkpoint(timezone.localdate())
    trend_before = charts.trend(timezone.localdate())
    origins_before = charts.origins(today())

    rows = (ScanEvent, WalkIn, Trip, Pass)
    assert rollups.count_new() == sum(model.objects.count() for model in rows)
    assert rollups.count_new() == 0  # nothing left

    assert summed(ScanDay) == summed(ScanHour) == ScanEvent.objects.count() == 6
    assert summed(WalkInDay) == 1
    assert summed(TripDay) == summed(OriginDay) == summed(PassDay) == 3
    assert not ScanEvent.objects.filter(counted=False).exists()
    assert figures_now() == before
    assert charts.hourly_by_checkpoint(timezone.localdate()) == hourly_before
    assert charts.trend(timezone.localdate()) == trend_before
    assert charts.origins(today()) == origins_before


@AS_RECORDED
def test_rows_added_after_a_run_are_counted_beside_the_roll_ups(world: dict[str, Any]) -> None:
    rollups.count_new()
    first, _second, _third = world["trips"]
    scan(world["a"], first, "in", "refuse", "expired", at=today_at(16))
    scan(world["a"], first, "out", "admit", "ok", at=today_at(17))

    figures = figures_now()

    assert (figures["entries"], figures["exits"]) == (3, 2)
    assert figures["refusals"] == {"invalid": 1, "expired": 1}
    hourly = {row["hour"]: row for row in selectors.hourly(timezone.localdate())["hours"]}
    assert (hourly[17]["exits"], hourly[16]["entries"]) == (1, 0)


@pytest.fixture
def counted_refusal(regions: None) -> dict[str, Any]:
    checkpoint = CheckpointFactory(code="CP-S", name="丙站")
    supervisor = staff_user(checkpoint, username="supervisor")
    StaffAssignment.objects.filter(user=supervisor).update(supervisor=True)
    trip = make_trip(dispatcher(), checkpoint, planned_arrival=timezone.now() + timedelta(hours=1))
    refusal = scan(checkpoint, trip, "in", "refuse", "plate_mismatch", at=timezone.now())
    rollups.count_new()
    return {"checkpoint": checkpoint, "supervisor": supervisor, "scan": refusal}


def test_an_override_of_a_counted_refusal_makes_it_an_entry(
    counted_refusal: dict[str, Any],
) -> None:
    assert figures_now()["refusals"] == {"plate_mismatch": 1}

    checkpoint_services.scan_override(
        supervisor=counted_refusal["supervisor"],
        checkpoint=counted_refusal["checkpoint"],
        scan_pk=counted_refusal["scan"].pk,
        reason="车牌污损，人工核对无误",
    )

    figures = figures_now()
    assert (figures["entries"], figures["refusals"], figures["overrides"]) == (1, {}, 1)
    assert ScanDay.objects.get(n=1).overridden is True
    assert ScanDay.objects.filter(overridden=False).values_list("n", flat=True).get() == 0
    assert ScanHour.objects.get(admitted=True).n == 1
    assert sum(row["entries"] for row in selectors.hourly(timezone.localdate())["hours"]) == 1
    rollups.count_new()
    assert summed(ScanDay) == 1  # not counted a second time


def test_a_counted_entry_confirmed_with_another_plate_becomes_a_refusal(
    counted_refusal: dict[str, Any],
) -> None:
    checkpoint, staff = counted_refusal["checkpoint"], counted_refusal["supervisor"]
    trip = counted_refusal["scan"].trip
    entry = scan(checkpoint, trip, "in", "admit", "ok", at=timezone.now())
    rollups.count_new()
    assert (figures_now()["entries"], figures_now()["refusals"]) == (1, {"plate_mismatch": 1})

    checkpoint_services.scan_confirm(
        staff=staff,
        checkpoint=checkpoint,
        scan_pk=entry.pk,
        plate="豫H99999",
        persons=None,
        plate_mismatch_confirmed=True,
    )

    figures = figures_now()
    assert (figures["entries"], figures["refusals"]) == (0, {"plate_mismatch": 2})
    assert sum(row["entries"] for row in selectors.hourly(timezone.localdate())["hours"]) == 0
    rollups.count_new()
    assert summed(ScanDay) == summed(ScanHour) == 2


def test_a_counted_pass_that_changes_colour_moves_with_it(regions: None) -> None:
    checkpoint = CheckpointFactory(code="CP-R", name="丁站")
    official = UserFactory(role="official")
    trip = make_trip(dispatcher(), checkpoint, planned_arrival=timezone.now() + timedelta(hours=3))
    rollups.count_new()
    assert figures_now()["passes"] == {"green": 1, "yellow": 0, "red": 0}

    origin = Region.objects.get(code=trip.origin_region_id)
    services.region_set_risk(actor=official, region=origin, risk_level="high")
    # The regrade a worker runs once the change commits, here in the test's transaction.
    lifecycle.passes_regrade_region(code=origin.code)

    assert Pass.objects.get(trip=trip).colour == "red"
    assert figures_now()["passes"] == {"green": 0, "yellow": 0, "red": 1}
    assert dict(PassDay.objects.values_list("colour", "n")) == {"green": 0, "red": 1}


@AS_RECORDED
def test_a_stale_save_leaves_a_counted_row_counted(world: dict[str, Any]) -> None:
    stale = Trip.objects.get(pk=world["trips"][0].pk)  # loaded before the run counts it
    rollups.count_new()

    stale.destination_name = "新仓库"
    stale.save()

    assert Trip.objects.get(pk=stale.pk).counted is True
    assert rollups.count_new() == 0
    assert summed(TripDay) == 3


def test_the_queries_of_the_page_and_the_api_do_not_grow_with_the_data(
    world: dict[str, Any],
) -> None:
    client = Client()
    client.force_login(world["official"])
    urls = ["/dashboard/", "/api/v1/stats/overview/", "/dashboard/charts/"]
    month = timezone.localdate() - timedelta(days=29)
    urls.append(f"/api/v1/stats/overview/?from={month.isoformat()}")

    def queries() -> list[int]:
        counts = []
        for url in urls:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured))
        return counts

    small = queries()
    more = CheckpointFactory(code="CP-C", name="戊站")
    actor = dispatcher()
    for k in range(6):
        trip = make_trip(actor, more, planned_arrival=timezone.now() + timedelta(hours=1 + k))
        scan(more, trip, "in", "admit", "ok", at=today_at(8 + k))
        scan(more, trip, "in", "refuse", "expired", at=today_at(8 + k, days=-k))
    for k in range(4):
        WalkIn.objects.create(
            checkpoint=more, direction="in", plate=f"豫A1234{k}", outcome="turned_back"
        )
    uncounted = queries()
    rollups.count_new()
    counted = queries()

    # One checkpoint more is one more row of the same queries, not a query more.
    assert small == uncounted == counted


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Scans committing while two counters take rows FOR UPDATE SKIP LOCKED is what is "
    "tested, and only PostgreSQL runs them at once; CI runs it there. SQLite runs one writer at a "
    "time, so a count cannot interleave with a scan; the other tests here count on SQLite too.",
)
@pytest.mark.django_db(transaction=True)
def test_scans_committed_while_counting_are_each_counted_once(regions: None) -> None:
    """Scanners commit while the roll-up task runs, some of them late (a lower id committed
    after a higher one was counted); at the end every scan is counted exactly once."""
    checkpoints = [CheckpointFactory(code=f"CP-{k}", name=f"站{k}") for k in range(3)]
    stop = threading.Event()
    errors: list[BaseException] = []
    made: Counter[tuple[int, str, str]] = Counter()
    lock = threading.Lock()

    def scanner(k: int) -> None:
        try:
            for i in range(60):
                with transaction.atomic():
                    direction, verdict = ("in", "admit") if i % 3 else ("out", "refuse")
                    ScanEvent.objects.create(
                        checkpoint=checkpoints[k],
                        direction=direction,
                        verdict=verdict,
                        reason="ok" if verdict == "admit" else "expired",
                        scanned_at=timezone.now(),
                    )
                    if i % 7 == 0:
                        time.sleep(0.02)  # commits after later scans were counted
                with lock:
                    made[(checkpoints[k].pk, direction, verdict)] += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def counter() -> None:
        try:
            while not stop.is_set():
                rollups.count_new(chunk=7)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scanner, args=(k,)) for k in range(3)]
    counters = [threading.Thread(target=counter) for _ in range(2)]
    for thread in threads + counters:
        thread.start()
    for thread in threads:
        thread.join(60)
    stop.set()
    for thread in counters:
        thread.join(60)
    assert not errors
    rollups.count_new()

    rolled = Counter(
        {
            (row["checkpoint_id"], row["direction"], row["verdict"]): row["n"]
            for row in ScanDay.objects.values("checkpoint_id", "direction", "verdict").annotate(
                n=Sum("n")
            )
        }
    )
    assert +rolled == +made
    assert sum(made.values()) == ScanEvent.objects.count() == 180
    figures = selectors.overview(today())
    assert figures["entries"] == sum(n for (_c, d, v), n in made.items() if v == "admit")
    assert figures["refusals"] == {"expired": 60}


@AS_RECORDED
def test_many_keys_are_added_in_several_statements(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = figures_now()
    monkeypatch.setattr(rollups, "ROWS_PER_STATEMENT", 2)

    rollups.count_new(chunk=3)

    assert ScanDay.objects.count() > 2
    assert summed(ScanDay) == ScanEvent.objects.count()
    assert figures_now() == before


@AS_RECORDED
def test_the_beat_counts_the_figures_every_30_seconds(world: dict[str, Any], settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["count-figures"]
    assert (entry["task"], entry["schedule"]) == ("dashboards.tasks.count_figures", 30.0)
    before = figures_now()

    assert tasks.count_figures.apply().get() == sum(
        model.objects.count() for model in (ScanEvent, WalkIn, Trip, Pass)
    )
    assert tasks.count_figures.apply().get() == 0
    assert figures_now() == before
