"""Reads on the checkpoint side."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from checkpoints.models import Checkpoint, ScanEvent
from passcode_portal.errors import NotFound
from passcode_portal.ttlcache import TTLCache
from trucks.models import Pass
from trucks.validators import normalise_plate


def checkpoints_active() -> QuerySet[Checkpoint]:
    """Checkpoints in service, the ones a trip may name as its entry."""
    return Checkpoint.objects.filter(active=True).order_by("code")


_by_code: TTLCache[Checkpoint | None] = TTLCache(lambda: settings.HOT_CACHE_SECONDS)


def checkpoint_by_code(code: str) -> Checkpoint:
    """An open checkpoint by its code, kept a few seconds in the process (a scan reads it on
    every request). Unknown or closed checkpoints are absent."""
    checkpoint = _by_code.get_or_load(
        code, lambda: Checkpoint.objects.filter(code=code, active=True).first()
    )
    if checkpoint is None:
        raise NotFound("not_found", _("No such checkpoint."))
    return checkpoint


def scans_recent(*, checkpoint: Checkpoint, staff: User, limit: int = 20) -> QuerySet[ScanEvent]:
    """The staff member's latest scans at this checkpoint, newest first, with their trips'
    co-riders (the persons expected)."""
    return (
        ScanEvent.objects.filter(checkpoint=checkpoint, staff=staff)
        .select_related(
            "trip", "trip__vehicle", "trip__driver", "trip__entry_checkpoint", "trip_pass"
        )
        .prefetch_related("trip__co_riders")
        .order_by("-received_at")[:limit]
    )


def passes_for_lookup(
    *, checkpoint: Checkpoint, plate: str = "", reference: str = "", at: datetime | None = None
) -> list[Pass]:
    """Today's passes for a plate, or the pass of a trip reference printed on a paper pass, so
    staff can verify a driver without a phone. Active passes whose window holds ``at`` come
    first, then those opening or closing later today, so a driver early or late is still found."""
    at = at or timezone.now()
    day_start = timezone.localtime(at).replace(hour=0, minute=0, second=0, microsecond=0)
    day_end = day_start + timedelta(days=1)
    passes = Pass.objects.select_related(
        "trip", "trip__vehicle", "trip__driver", "trip__entry_checkpoint"
    ).filter(valid_from__lt=day_end, valid_until__gt=day_start)
    # A blank field sent beside a filled one (a form posts both) must not hide the other.
    reference, plate = reference.strip(), plate.strip()
    if reference:
        passes = passes.filter(trip__reference=reference.upper())
    elif plate:
        passes = passes.filter(trip__vehicle__plate=normalise_plate(plate))
    else:
        return []
    found = list(passes.order_by("-issued_at")[:10])
    found.sort(key=lambda p: (p.status != "active", not (p.valid_from <= at < p.valid_until)))
    return found
