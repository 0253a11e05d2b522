"""Two tablets scanning one pass at the same instant (docs/architecture.md, "Verification
outcomes"): exactly one entry is admitted, and one scan id is recorded once. Run on PostgreSQL,
whose row locks are what is under test; SQLite serialises whole transactions, so there is no race to
lose there."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection

from checkpoints import services, verification
from checkpoints.models import Alert, ScanEvent
from checkpoints.scan_bodies import scan_body
from passcode_portal.errors import DomainError
from passcode_portal.rows import named_row
from tests.checkpoints.scanning import open_trip, pass_of, token_of
from tests.factories import CheckpointFactory, staff_user
from tests.factories import dispatcher as make_dispatcher
from trucks import services as trucks_services
from trucks.models import Trip

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Row locks (SELECT ... FOR UPDATE) are what is tested; CI runs on PostgreSQL. "
        "SQLite takes the database's write lock per transaction, so scans cannot interleave.",
    ),
    pytest.mark.django_db(transaction=True),
]

WAIT = 10.0  # seconds: a bound on waiting for the other thread, never reached when all is well


@pytest.fixture
def dispatcher(regions: None) -> Any:
    return make_dispatcher()


@pytest.fixture
def world(dispatcher: Any) -> Any:
    checkpoint = CheckpointFactory()
    trip = open_trip(dispatcher, checkpoint)
    return checkpoint, trip, staff_user(checkpoint), staff_user(checkpoint)


def other_backend_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) AS waiting FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()"
        )
        row = named_row(cursor)
    return bool(row and row.waiting)


class Race:
    """Makes the race happen every time: once armed, the first scan to reach its decision
    (holding the lock) waits there until the other scan is blocked in the database on that
    lock; ``wait_for_block`` tells whether it was."""

    def __init__(self) -> None:
        self.armed = False
        self.first_in = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.entered = 0
        self.real = verification.decide

    def decide(self, facts: verification.Facts) -> verification.Decision:
        with self.lock:
            self.entered += self.armed
            is_first = self.armed and self.entered == 1
        if is_first:
            self.first_in.set()
            self.release.wait(WAIT)
        return self.real(facts)

    def wait_for_block(self) -> bool:
        if not self.armed:
            return True
        if not self.first_in.wait(WAIT):
            self.release.set()
            return False
        deadline = time.monotonic() + WAIT
        # Polls a condition (the other thread queued on the row lock), not the clock.
        while not other_backend_waits_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.01)
        blocked = other_backend_waits_on_a_lock()
        self.release.set()
        return blocked


@pytest.fixture
def race(monkeypatch: pytest.MonkeyPatch) -> Iterator[Race]:
    race = Race()
    monkeypatch.setattr(verification, "decide", race.decide)
    yield race
    race.release.set()


def together(calls: list[Callable[[], Any]], race: Race | None = None) -> tuple[list[Any], bool]:
    """Run the calls in threads released at once by a barrier; each thread closes its own
    database connection, or the test database could not be dropped."""
    if race is not None:
        race.armed = True
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(WAIT)
            results[i] = calls[i]()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    blocked = race.wait_for_block() if race is not None else True
    for t in threads:
        t.join(WAIT * 3)
    assert not errors, errors
    assert all(r is not None for r in results)
    return [r for r in results if r is not None], blocked


def scanner(
    staff: Any, checkpoint: Any, token: str, direction: str = "in", scan_id: uuid.UUID | None = None
) -> Callable[[], services.ScanOutcome]:
    data = services.ScanInput(token=token, direction=direction, scan_id=scan_id)
    return lambda: services.scan_perform(staff=staff, checkpoint=checkpoint, data=data)


def test_two_entries_at_once_admit_one(world: Any, race: Race) -> None:
    checkpoint, trip, staff_a, staff_b = world
    token = token_of(trip)

    outcomes, blocked = together(
        [scanner(staff_a, checkpoint, token), scanner(staff_b, checkpoint, token)], race
    )

    assert blocked, "the second scan never waited for the first one's lock"
    assert sorted((o.scan.verdict, o.scan.reason) for o in outcomes) == [
        ("admit", "ok"),
        ("refuse", "already_inside"),
    ]
    assert Trip.objects.get(pk=trip.pk).status == "inside"
    assert ScanEvent.objects.filter(trip=trip).count() == 2
    assert list(Alert.objects.values_list("kind", flat=True)) == ["already_inside"]


def test_two_exits_at_once_let_out_one(world: Any, race: Race) -> None:
    checkpoint, trip, staff_a, staff_b = world
    token = token_of(trip)
    services.scan_perform(
        staff=staff_a, checkpoint=checkpoint, data=services.ScanInput(token=token, direction="in")
    )

    outcomes, blocked = together(
        [scanner(staff_a, checkpoint, token, "out"), scanner(staff_b, checkpoint, token, "out")],
        race,
    )

    assert blocked
    assert sorted((o.scan.verdict, o.scan.reason) for o in outcomes) == [
        ("admit", "ok"),
        ("refuse", "used"),
    ]
    assert Trip.objects.get(pk=trip.pk).status == "exited"
    assert pass_of(trip).status == "completed"


def test_one_scan_id_sent_twice_at_once_is_recorded_once(world: Any, race: Race) -> None:
    checkpoint, trip, staff_a, _ = world
    token, scan_id = token_of(trip), uuid.uuid4()

    outcomes, blocked = together(
        [
            scanner(staff_a, checkpoint, token, scan_id=scan_id),
            scanner(staff_a, checkpoint, token, scan_id=scan_id),
        ],
        race,
    )

    assert blocked
    assert ScanEvent.objects.get().scan_id == scan_id
    bodies = [
        scan_body(o.scan, pass_=o.pass_, trip=o.trip, persons_expected=o.persons_expected)
        for o in outcomes
    ]
    assert bodies[0] == bodies[1]
    assert (bodies[0]["verdict"], bodies[0]["reason"]) == ("admit", "ok")
    assert sorted(o.replayed for o in outcomes) == [False, True]
    assert Trip.objects.get(pk=trip.pk).status == "inside"
    assert not Alert.objects.exists()


def test_one_scan_id_sent_at_once_by_two_accounts_is_one_scan_and_one_conflict(
    world: Any, race: Race
) -> None:
    checkpoint, trip, staff_a, staff_b = world
    token, scan_id = token_of(trip), uuid.uuid4()

    def caught(call: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            try:
                return call()
            except DomainError as exc:
                return exc

        return run

    results, blocked = together(
        [
            caught(scanner(staff_a, checkpoint, token, scan_id=scan_id)),
            caught(scanner(staff_b, checkpoint, token, scan_id=scan_id)),
        ],
        race,
    )

    assert blocked
    [outcome] = [r for r in results if isinstance(r, services.ScanOutcome)]
    [conflict] = [r for r in results if isinstance(r, DomainError)]
    assert conflict.code == "scan_id_conflict"
    recorded = ScanEvent.objects.get()
    assert (recorded.scan_id, recorded.pk, recorded.reason) == (scan_id, outcome.scan.pk, "ok")
    assert Trip.objects.get(pk=trip.pk).status == "inside"


def test_one_invalid_scan_id_sent_twice_at_once_is_recorded_once(world: Any) -> None:
    # Refused before any lock: both requests race to the INSERT, and the unique index decides.
    checkpoint, _, staff_a, _ = world
    scan_id = uuid.uuid4()

    outcomes, _ = together(
        [
            scanner(staff_a, checkpoint, "garbage", scan_id=scan_id),
            scanner(staff_a, checkpoint, "garbage", scan_id=scan_id),
        ],
    )

    assert ScanEvent.objects.get().scan_id == scan_id
    assert {o.scan.pk for o in outcomes} == {ScanEvent.objects.get().pk}
    assert all(o.scan.reason == "invalid" for o in outcomes)


def test_an_entry_and_a_cancellation_at_once_do_not_deadlock(
    world: Any, dispatcher: Any, race: Race
) -> None:
    # The scan holds its lock, deciding, while the dispatcher cancels: both must lock the trip
    # before its pass, or each would wait for the other until PostgreSQL kills one.
    checkpoint, trip, staff_a, _ = world
    token = token_of(trip)
    results: dict[str, Any] = {}

    def run(name: str, call: Callable[[], Any]) -> None:
        try:
            results[name] = call()
        except BaseException as exc:
            results[name] = exc
        finally:
            connection.close()

    race.armed = True
    scanning = threading.Thread(target=run, args=("scan", scanner(staff_a, checkpoint, token)))
    scanning.start()
    assert race.first_in.wait(WAIT)
    cancelling = threading.Thread(
        target=run,
        args=("cancel", lambda: trucks_services.trip_cancel(actor=dispatcher, trip=trip)),
    )
    cancelling.start()
    blocked = race.wait_for_block()
    scanning.join(WAIT * 3)
    cancelling.join(WAIT * 3)

    assert blocked
    entry, cancelled = results["scan"], results["cancel"]
    assert isinstance(entry, services.ScanOutcome), entry
    assert (entry.scan.verdict, entry.scan.reason) == ("admit", "ok")
    assert isinstance(cancelled, DomainError), cancelled
    assert cancelled.code == "not_cancellable"
    assert Trip.objects.get(pk=trip.pk).status == "inside"
    assert pass_of(trip).status == "active"
