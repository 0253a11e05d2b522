"""The grading policy: the version in force (kept a few seconds for the hot paths), publishing the
next one, and the pass window it sets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from passcode_portal.errors import DomainError, PermissionDenied
from passcode_portal.ttlcache import TTLCache
from trucks import passcode, signals
from trucks.models import (
    Policy,
)
from trucks.roles import is_official


def policy_current() -> Policy:
    """The policy in force: the highest version. Version 1 holds the defaults in
    docs/architecture.md, "The pass code"."""
    policy = Policy.objects.order_by("-version").first()
    if policy is None:
        policy, _created = Policy.objects.get_or_create(
            version=1, defaults={"note": "Default policy"}
        )
    return policy


_hot: TTLCache[Policy] = TTLCache(lambda: settings.HOT_CACHE_SECONDS)


def policy_current_cached() -> Policy:
    """The policy in force as the hot paths read it: kept a few seconds in the process
    (HOT_CACHE_SECONDS), so a scan costs no query for it; a new policy applies that much later."""
    return _hot.get_or_load("policy", policy_current)


# What officials set in a policy version; the version number, who and when are the service's.
POLICY_FIELDS: tuple[str, ...] = tuple(
    f.name
    for f in Policy._meta.concrete_fields
    if f.name not in ("id", "version", "created_at", "created_by")
)


def policy_draft(*, fields: Mapping[str, Any], current: Policy | None = None) -> Policy:
    """The version after ``current`` (the one in force) with ``fields`` changed, checked as
    publishing checks it, and not saved: what ``policy_publish`` saves, and what a preview of
    it grades with (``trucks.lifecycle.preview``)."""
    unknown = sorted(set(fields) - set(POLICY_FIELDS))
    if unknown:
        raise DomainError(
            "validation_error",
            _("Some fields are not valid."),
            fields={name: [_("There is no such policy setting.")] for name in unknown},
        )
    current = current or policy_current()
    values = {name: getattr(current, name) for name in POLICY_FIELDS}
    values.update(fields)
    policy = Policy(version=current.version + 1, **values)
    try:
        # The version's uniqueness is the database's to check, when it is saved: two officials
        # publishing at the same instant are told so (``policy_conflict``).
        policy.full_clean(exclude=["created_by"], validate_unique=False)
    except ValidationError as exc:
        raise DomainError(
            "validation_error", _("Some fields are not valid."), fields=exc.message_dict
        ) from None
    return policy


def policy_publish(*, actor: User | None, based_on: int | None = None, **fields: Any) -> Policy:
    """Publish the next policy version: the one in force with ``fields`` changed (a version is
    never edited; each pass records the version that graded it). Once it commits, a worker
    regrades every active pass under it (``trucks.tasks.regrade_all``); should that
    task be lost, the periodic sweep regrades passes graded under an older version. ``actor`` is
    None only for the system itself (data loads). ``based_on`` is the version the official saw
    (and previewed against): another published since is refused, not silently built upon."""
    if actor is not None and not is_official(actor):
        raise PermissionDenied("not_allowed", _("Only officials change the policy."))
    with transaction.atomic():
        current = policy_current()
        if based_on is not None and current.version != based_on:
            raise DomainError(
                "policy_stale",
                _(
                    "Version %(version)d was published after you looked; "
                    "check your changes against it and try again."
                )
                % {"version": current.version},
                status=409,
            )
        policy = policy_draft(fields=fields, current=current)
        policy.created_by, policy.created_at = actor, timezone.now()
        try:
            with transaction.atomic():
                policy.save()
        except IntegrityError:
            raise DomainError(
                "policy_conflict",
                _("Another version was published at the same time; reload and try again."),
                status=409,
            ) from None
        signals.policy_published.send(sender=Policy, policy=policy)
        transaction.on_commit(lambda: _hot.discard("policy"))
    return policy


def pass_window(
    *, policy: Policy, arrival: datetime, departure: datetime
) -> tuple[datetime, datetime]:
    """The validity window: opens before the planned arrival and closes after the planned
    departure by the policy's margins, on whole minutes (the token carries minutes)."""
    valid_from = arrival - timedelta(hours=policy.window_before_hours)
    valid_from = valid_from.replace(second=0, microsecond=0)
    valid_until = passcode.window_minute(departure + timedelta(hours=policy.window_after_hours))
    return valid_from, valid_until
