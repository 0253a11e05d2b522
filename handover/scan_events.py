"""Admitted scans become hand-over events (``trip.entered``, ``trip.exited``; docs/architecture.md,
"Hand-over") by a sweep over the scan log, so the scan itself, the hot path, does no webhook work.

The sweep reads scans after a cursor (``SweepCursor("scan_events")``) in id order, a batch at a
time, queues the events for the batch's admitted scans (``handover.events.emit_many``, one
INSERT) and moves the cursor, all in one transaction with the cursor's row locked: two sweeps
never read the same batch (the second finds the row locked and stops), and a sweep that dies
moves nothing. Each event is keyed by its scan id as well, so even a repeated batch queues
nothing twice.

Why the newest scans wait (``WEBHOOK_SCAN_SETTLE_SECONDS``): ids are taken when a scan is
inserted, but transactions commit in their own order, so scan 100 may still be uncommitted,
invisible, when scan 101 is read; a cursor moved past 101 would never see 100. A scan's
transaction lasts milliseconds after its insert, so the sweep only reads scans received at least
the settle delay ago, and stops at the first younger one.

A supervisor may admit a refused vehicle (an override) after the sweep has passed its scan.
Every override raises one alert, so a second cursor (``"scan_overrides"``) reads the override
alerts the same way and queues the entry or exit they let through.

A sweep that has never run starts an hour back (``FIRST_LOOKBACK``), not at the first scan ever
recorded: subscribers want what happens now, not the whole history replayed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from itertools import takewhile
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from checkpoints.models import ADMITTING_VERDICTS, Alert, Direction, ScanEvent
from handover import events
from handover.models import SweepCursor, WebhookEvent, WebhookSubscription
from trucks.models import Trip

SCAN_CURSOR = "scan_events"
OVERRIDE_CURSOR = "scan_overrides"
BATCH = 500
FIRST_LOOKBACK = timedelta(hours=1)

_EVENTS = {Direction.IN: WebhookEvent.TRIP_ENTERED, Direction.OUT: WebhookEvent.TRIP_EXITED}
_SCAN_FIELDS = (
    "pk",
    "trip_id",
    "direction",
    "verdict",
    "reason",
    "scanned_at",
    "received_at",
    "overridden_at",
    "checkpoint__code",
    "checkpoint__region_id",
)


def scan_events_emit(*, batch_size: int = BATCH) -> int:
    """Queue the events of the scans and overrides recorded since the last sweep. Returns how
    many deliveries were offered."""
    _ensure_cursor(SCAN_CURSOR, _first_scan_id)
    _ensure_cursor(OVERRIDE_CURSOR, _first_alert_id)
    offered = 0
    for sweep in (_scans_batch, _overrides_batch):
        while True:
            count, more = sweep(batch_size)
            offered += count
            if not more:
                break
    return offered


def _listening() -> list[WebhookSubscription]:
    """Active subscriptions that want scan events, read fresh (not the services' cached list:
    the cursor moves past what nobody listened to, for good)."""
    return [
        s for s in events.active_subscriptions_fresh() if set(s.event_types) & set(_EVENTS.values())
    ]


def _settled_before() -> datetime:
    return timezone.now() - timedelta(seconds=settings.WEBHOOK_SCAN_SETTLE_SECONDS)


def _ensure_cursor(name: str, start: Callable[[], int]) -> None:
    """Make the cursor if it is not there yet, starting at ``start()``. Committed on its own,
    before any batch: a row inserted inside a batch's transaction would make a second sweep's
    insert wait on it until that batch ends, instead of skipping."""
    if not SweepCursor.objects.filter(name=name).exists():
        SweepCursor.objects.bulk_create(
            [SweepCursor(name=name, last_id=start())], ignore_conflicts=True
        )


def _lock_cursor(name: str) -> SweepCursor | None:
    """The cursor's row, locked for this transaction; None when another sweep holds it (it is
    skipped, not waited for: that sweep is doing the work). SQLite has no row locks; its write
    lock, taken when a transaction begins (settings: transaction_mode IMMEDIATE), runs sweeps
    one after the other instead."""
    return SweepCursor.objects.select_for_update(skip_locked=True).filter(name=name).first()


def _first_scan_id() -> int:
    before = timezone.now() - FIRST_LOOKBACK
    last = (
        ScanEvent.objects.filter(received_at__lt=before)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return last or 0


def _first_alert_id() -> int:
    before = timezone.now() - FIRST_LOOKBACK
    last = (
        Alert.objects.filter(raised_at__lt=before)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return last or 0


def _advance(cursor: SweepCursor, last_id: int) -> None:
    cursor.last_id = last_id
    cursor.save(update_fields=["last_id", "updated_at"])


@transaction.atomic
def _scans_batch(batch_size: int) -> tuple[int, bool]:
    """One batch of scans: (deliveries offered, whether more may be waiting)."""
    cursor = _lock_cursor(SCAN_CURSOR)
    if cursor is None:
        return 0, False
    cutoff = _settled_before()
    after = ScanEvent.objects.filter(pk__gt=cursor.last_id)
    subscriptions = _listening()
    if not subscriptions:
        # Nobody listens: move past every settled scan at once, reading none of them.
        last = (
            after.filter(received_at__lte=cutoff)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
        )
        if last is not None:
            _advance(cursor, last)
        return 0, False
    rows = list(after.order_by("pk").values(*_SCAN_FIELDS)[:batch_size])
    settled = list(takewhile(lambda r: r["received_at"] <= cutoff, rows))
    if not settled:
        return 0, False
    admitted = [
        r for r in settled if r["trip_id"] is not None and r["verdict"] in ADMITTING_VERDICTS
    ]
    offered = _emit(admitted, subscriptions, overridden=False)
    _advance(cursor, settled[-1]["pk"])
    return offered, len(settled) == batch_size


@transaction.atomic
def _overrides_batch(batch_size: int) -> tuple[int, bool]:
    """One batch of override alerts: the refused entries and exits a supervisor let through."""
    cursor = _lock_cursor(OVERRIDE_CURSOR)
    if cursor is None:
        return 0, False
    cutoff = _settled_before()
    after = Alert.objects.filter(pk__gt=cursor.last_id, kind=Alert.Kind.OVERRIDE)
    rows = list(after.order_by("pk").values("pk", "raised_at", "scan_id")[:batch_size])
    settled = list(takewhile(lambda r: r["raised_at"] <= cutoff, rows))
    if not settled:
        return 0, False
    offered = 0
    subscriptions = _listening()
    if subscriptions:
        scans = list(
            ScanEvent.objects.filter(
                pk__in=[r["scan_id"] for r in settled if r["scan_id"] is not None],
                trip__isnull=False,
                overridden_by__isnull=False,
            )
            .order_by("pk")
            .values(*_SCAN_FIELDS)
        )
        offered = _emit(scans, subscriptions, overridden=True)
    _advance(cursor, settled[-1]["pk"])
    return offered, len(settled) == batch_size


def _emit(
    scans: Sequence[dict[str, Any]],
    subscriptions: Sequence[WebhookSubscription],
    *,
    overridden: bool,
) -> int:
    if not scans:
        return 0
    trips = Trip.objects.select_related(
        "vehicle", "driver", "consignee", "entry_checkpoint"
    ).in_bulk({s["trip_id"] for s in scans})
    occurrences = []
    for scan in scans:
        trip = trips.get(scan["trip_id"])
        if trip is None:
            continue
        # When the truck passed: the scan's time, or the supervisor's word for an override.
        occurred_at = scan["overridden_at"] if overridden else scan["scanned_at"]
        occurrences.append(
            events.Occurrence(
                event=_EVENTS[scan["direction"]],
                trip=trip,
                key=str(scan["pk"]),
                occurred_at=occurred_at,
                extra={
                    "scan": {
                        "id": scan["pk"],
                        "checkpoint": scan["checkpoint__code"],
                        "checkpoint_region": scan["checkpoint__region_id"],
                        "direction": scan["direction"],
                        "verdict": scan["verdict"],
                        "reason": scan["reason"],
                        "scanned_at": scan["scanned_at"].isoformat(),
                        "overridden": overridden,
                    }
                },
            )
        )
    return events.emit_many(occurrences, subscriptions=subscriptions)
