"""What happened at the checkpoints in the demo (``manage.py load_demo_scans``, run after
``load_demo``): the entry and exit scans of the demo trips that are inside, arrived or exited,
the consignee's confirmation of the arrived one, two refusals that raise alerts (a red code, and
a copied code scanned while its truck is inside) and an unregistered truck turned back.

Every record is made by the real services (``scan_perform`` as the ``staff`` user,
``trip_confirm_arrival`` as the ``consignee`` user, ``walk_in_record``), so the scans carry real
verdicts and the alerts are raised by the rules that raise them in service. ``load_demo`` (the
trucks app, which may not import this one) puts those trips straight into their final state; a
scan is judged against the trip's state, so before replaying a trip's checkpoint history this
module puts the trip back to "registered", once, while it has no scan yet.

Running it again changes nothing: the scans carry fixed client scan ids, which the scan service
answers from the record, and a trip that has scans is not replayed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from checkpoints import services
from checkpoints.models import Alert, Direction, ScanEvent, WalkIn
from demo import contents
from places.models import Checkpoint
from trucks.models import Pass, PassStatus, Trip, TripStatus
from trucks.services import pass_token

# Client scan ids are derived from this and a label, so every run sends the same ids.
SCAN_NAMESPACE = uuid.UUID("6f0c3a52-9a57-4d43-9d43-0b7f3c1e5a10")

# The scan service judges a scan synced later than this at the time it arrives (it bounds a
# wrong device clock); a demo scan older than that would be judged "expired" today.
_OLDEST_SCAN = services.OFFLINE_LIMIT - timedelta(minutes=30)

# How long before its planned arrival (and departure) a demo truck is scanned.
_EARLY = timedelta(minutes=30)


@dataclass(frozen=True)
class Replay:
    """A demo trip's life at the checkpoints: entry at its planned checkpoint, then optionally
    the consignee's confirmation and an exit at ``exit_at``."""

    label: str  # the TripSpec label in demo.contents
    status: str  # the state load_demo leaves it in, and this replay ends in
    confirm_arrival: bool = False
    exit_at: str = ""


REPLAYS: tuple[Replay, ...] = (
    Replay("inside", TripStatus.INSIDE),
    Replay("arrived", TripStatus.ARRIVED, confirm_arrival=True),
    Replay("completed", TripStatus.EXITED, exit_at="JZ-G207-WZ"),
)
# The inside truck's pass shown again for entry at another checkpoint: a copied code.
COPIED = ("inside", "JZ-G207-WZ")
# The red trip at its own checkpoint, its window open: refused, officials alerted.
RED = "red (high-risk travel)"
WALK_IN = services.WalkInInput(
    plate="豫H80211",
    outcome=WalkIn.Outcome.TURNED_BACK,
    driver_name="郭师傅",
    phone="13603910735",
    persons=2,
    note="未提前报备，无核酸证明，已劝返并告知报备方式",
    direction=Direction.IN,
    scan_id=uuid.uuid5(SCAN_NAMESPACE, "walk-in"),
)
WALK_IN_CHECKPOINT = "JZ-G207-WZ"

USERS = ("staff", "consignee")


@dataclass
class DemoScans:
    scans_created: int = 0
    alerts_created: int = 0
    walk_ins_created: int = 0
    arrivals_confirmed: int = 0
    skipped: list[str] = field(default_factory=list)


def _spec(label: str) -> contents.TripSpec:
    return next(spec for spec in contents.TRIPS if spec.label == label)


def _trip(label: str) -> Trip | None:
    spec = _spec(label)
    return (
        Trip.objects.select_related("vehicle")
        .filter(vehicle__plate=spec.plate, cargo_description=spec.cargo_description)
        .first()
    )


def _pass(trip: Trip) -> Pass:
    pass_ = Pass.objects.filter(trip=trip).order_by("-issued_at", "-pk").first()
    assert pass_ is not None, "every demo trip is registered with a pass"
    return pass_


def missing() -> list[str]:
    """What ``load_demo`` makes and this needs, if absent."""
    labels = {r.label for r in REPLAYS} | {COPIED[0], RED}
    absent = [f"user {u}" for u in USERS if not User.objects.filter(username=u).exists()]
    absent += [f"trip {label!r}" for label in sorted(labels) if _trip(label) is None]
    codes = {spec.code for spec in contents.CHECKPOINTS}
    known = set(Checkpoint.objects.filter(code__in=codes).values_list("code", flat=True))
    absent += [f"checkpoint {code}" for code in sorted(codes - known)]
    return absent


def _count(model: type[Model]) -> int:
    return model._default_manager.count()


@transaction.atomic
def demo_scans_load(*, now: datetime | None = None) -> DemoScans:
    """Record the demo's checkpoint history (see the module's docstring). Callers check
    ``missing()`` first."""
    now = now or timezone.now()
    staff = User.objects.get(username="staff")
    consignee = User.objects.get(username="consignee")
    checkpoints = {c.code: c for c in Checkpoint.objects.all()}
    before = {m: _count(m) for m in (ScanEvent, Alert, WalkIn)}
    result = DemoScans()

    for replay in REPLAYS:
        _replay(
            replay, staff=staff, consignee=consignee, checkpoints=checkpoints, now=now, into=result
        )

    copied_trip = _trip(COPIED[0])
    assert copied_trip is not None
    if copied_trip.status in (TripStatus.INSIDE, TripStatus.ARRIVED):
        first_entry = (
            ScanEvent.objects.filter(trip=copied_trip, direction=Direction.IN)
            .order_by("scanned_at")
            .values_list("scanned_at", flat=True)
            .first()
        )
        _scan(
            "copied",
            staff=staff,
            checkpoint=checkpoints[COPIED[1]],
            pass_=_pass(copied_trip),
            direction=Direction.IN,
            at=min((first_entry or now) + timedelta(minutes=40), now),
        )

    red_trip = _trip(RED)
    assert red_trip is not None
    _scan(
        "red",
        staff=staff,
        checkpoint=red_trip.entry_checkpoint,
        pass_=_pass(red_trip),
        direction=Direction.IN,
        at=None,  # now: its window is open (demo.contents)
    )

    services.walk_in_record(staff=staff, checkpoint=checkpoints[WALK_IN_CHECKPOINT], data=WALK_IN)

    result.scans_created = _count(ScanEvent) - before[ScanEvent]
    result.alerts_created = _count(Alert) - before[Alert]
    result.walk_ins_created = _count(WalkIn) - before[WalkIn]
    return result


def _scan(
    label: str,
    *,
    staff: User,
    checkpoint: Checkpoint,
    pass_: Pass,
    direction: str,
    at: datetime | None,
) -> services.ScanOutcome:
    trip = pass_.trip
    return services.scan_perform(
        staff=staff,
        checkpoint=checkpoint,
        data=services.ScanInput(
            token=pass_token(pass_),
            direction=direction,
            plate=trip.vehicle.plate,
            persons=1 + trip.co_riders.count(),
            scan_id=uuid.uuid5(SCAN_NAMESPACE, f"{label}:{trip.reference}:{direction}"),
            scanned_at=at,
        ),
    )


def _replay(
    replay: Replay,
    *,
    staff: User,
    consignee: User,
    checkpoints: dict[str, Checkpoint],
    now: datetime,
    into: DemoScans,
) -> None:
    trip = _trip(replay.label)
    assert trip is not None
    if ScanEvent.objects.filter(trip=trip).exists():
        return  # replayed before
    if trip.status != replay.status:
        # Someone used the demo before its scans were loaded; leave their changes alone.
        into.skipped.append(f"{replay.label}: the trip is {trip.status} now")
        return
    entry_at = trip.planned_arrival - _EARLY
    exit_at = trip.planned_departure - _EARLY
    if entry_at < now - _OLDEST_SCAN:
        into.skipped.append(f"{replay.label}: load_demo ran more than a day ago")
        return
    pass_ = _pass(trip)
    with transaction.atomic():
        # Back to where the truck stood before it reached the checkpoint (see the docstring).
        Trip.objects.filter(pk=trip.pk).update(status=TripStatus.REGISTERED)
        Pass.objects.filter(pk=pass_.pk).update(status=PassStatus.ACTIVE)
        pass_.refresh_from_db()
        _scan(
            replay.label,
            staff=staff,
            checkpoint=trip.entry_checkpoint,
            pass_=pass_,
            direction=Direction.IN,
            at=entry_at,
        )
        if replay.confirm_arrival:
            services.trip_confirm_arrival(actor=consignee, trip=trip)
            into.arrivals_confirmed += 1
        if replay.exit_at:
            pass_.refresh_from_db()
            _scan(
                replay.label,
                staff=staff,
                checkpoint=checkpoints[replay.exit_at],
                pass_=pass_,
                direction=Direction.OUT,
                at=exit_at,
            )
        trip.refresh_from_db()
        if trip.status != replay.status:
            # The services decide; had they decided otherwise, the demo would lie about them.
            raise RuntimeError(
                f"demo trip {replay.label!r} ended {trip.status}, not {replay.status}"
            )
