"""Reads on the checkpoint side."""

from __future__ import annotations

from django.db.models import QuerySet

from checkpoints.models import Checkpoint


def checkpoints_active() -> QuerySet[Checkpoint]:
    """Checkpoints in service, the ones a trip may name as its entry."""
    return Checkpoint.objects.filter(active=True).order_by("code")
