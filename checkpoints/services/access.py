"""Who may act at a checkpoint: the staff assigned to it, supervisors among them."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from passcode_portal.errors import PermissionDenied
from places.models import Checkpoint, StaffAssignment


def staff_may_scan(*, user: User, checkpoint: Checkpoint) -> bool:
    return checkpoint.pk in checkpoint_access(user)


def checkpoint_access(user: User) -> dict[int, bool]:
    """{checkpoint id: supervisor?} for the user's assignments, read once per user object (the
    API keeps user objects for a few seconds, so a scan costs no query for this)."""
    cached: dict[int, bool] | None = getattr(user, "_checkpoint_access", None)
    if cached is None:
        cached = dict(
            StaffAssignment.objects.filter(user=user).values_list("checkpoint_id", "supervisor")
        )
        user._checkpoint_access = cached  # type: ignore[attr-defined]
    return cached


def require_staff(user: User, checkpoint: Checkpoint) -> None:
    if not staff_may_scan(user=user, checkpoint=checkpoint):
        raise PermissionDenied("not_assigned", _("You are not assigned to this checkpoint."))
