"""Alerts for officials: raised once per cause (the key is unique), resolved by officials."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from checkpoints.models import Alert, ScanEvent
from places.models import Checkpoint
from trucks.models import Trip


def raise_alert(
    *,
    kind: str,
    key: str,
    checkpoint: Checkpoint | None,
    scan: ScanEvent | None,
    trip: Trip | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Once per cause: the key is unique, and a second sighting is ignored by the database
    (INSERT ... ON CONFLICT DO NOTHING), so concurrent scans cannot raise it twice."""
    Alert.objects.bulk_create(
        [
            Alert(
                kind=kind,
                key=key[:120],
                checkpoint=checkpoint,
                scan=scan,
                trip=trip,
                detail=detail or {},
            )
        ],
        ignore_conflicts=True,
    )


def forged_alert(*, checkpoint: Checkpoint, scan: ScanEvent, digest: str) -> None:
    """A code whose signature does not hold: one alert per code (its digest, ``digest_of``),
    however many times and wherever it is scanned."""
    raise_alert(
        kind=Alert.Kind.FORGED,
        key=f"forged:{digest}",
        checkpoint=checkpoint,
        scan=scan,
        trip=None,
        detail={"token_digest": digest},
    )


def alerts_resolve(*, actor: User, alerts: Any, note: str = "") -> int:
    """Mark open alerts resolved by the acting official, in one UPDATE and only where still open:
    an alert resolved earlier keeps who resolved it, even when two officials act at once."""
    update: dict[str, Any] = {"resolved_at": timezone.now(), "resolved_by": actor}
    if note:
        update["note"] = note[:500]
    return int(alerts.filter(resolved_at__isnull=True).update(**update))


def alerts_acknowledge(*, actor: User, alerts: Any) -> int:
    """Mark open alerts taken on by the acting official, only where nobody has yet: the first
    official who took one on stays named."""
    return int(
        alerts.filter(resolved_at__isnull=True, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=actor
        )
    )
