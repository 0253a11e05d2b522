"""The whitelist (``trucks.models.WhitelistEntry``): officials add, change and revoke entries,
each change in the entry's history with who made it; registration asks which entry covers a
trip (``whitelist_match``), and the scan whether its truck takes the priority lane
(``trucks.services.lanes``, read from a copy kept a few seconds, as the policy is). An entry
revoked or narrowed ends the multi-entry passes it no longer covers (``_multi_entry_follows``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from passcode_portal.errors import DomainError, PermissionDenied
from trucks import validators
from trucks.models import (
    CargoCategory,
    Company,
    Pass,
    PassStatus,
    Trip,
    TripChange,
    TripStatus,
    WhitelistEntry,
)
from trucks.roles import is_official
from trucks.services.inputs import FieldErrors
from trucks.services.lanes import lanes_forget

# One entry names at most this many plates: a larger fleet is whitelisted whole.
MAX_PLATES = 200
WHITELIST_REASON_MAX_LENGTH = 300

# What an official sets on an entry; who, when and the revocation are the services'.
ENTRY_FIELDS = (
    "plates",
    "cargo_categories",
    "valid_from",
    "valid_until",
    "priority_lane",
    "reason",
)


@dataclass(frozen=True)
class WhitelistData:
    """An entry as an official gives it: plates as typed (normalised and checked here), cargo
    category codes, the validity period (no end for an open-ended entry)."""

    company: int | None
    valid_from: datetime | None
    valid_until: datetime | None = None
    plates: Sequence[str] = field(default_factory=tuple)
    cargo_categories: Sequence[str] = field(default_factory=tuple)
    priority_lane: bool = False
    reason: str = ""


def _officials_only(actor: User) -> None:
    if not is_official(actor):
        raise PermissionDenied("not_allowed", _("Only officials manage the whitelist."))


def _cleaned(data: WhitelistData, *, now: datetime, ends_checked: bool) -> dict[str, object]:
    """The entry's fields from ``data``, every fault collected (``FieldErrors``): plates in the
    Chinese format, stored normalised and once each; known cargo categories; an end after the
    start and, when ``ends_checked``, in the future (an entry that has already ended grants
    nothing)."""
    errors = FieldErrors()
    plates = list(dict.fromkeys(validators.normalise_plate(p) for p in data.plates if p.strip()))
    bad = [p for p in plates if not _plate_valid(p)]
    if bad:
        errors.add(
            "plates",
            _("Not valid number plates: %(plates)s. Enter plates such as 豫H12345 or 豫H12345D.")
            % {"plates": ", ".join(bad[:5])},
        )
    elif len(plates) > MAX_PLATES:
        errors.add(
            "plates",
            _("Name at most %(n)d plates, or none for every vehicle of the company.")
            % {"n": MAX_PLATES},
        )
    categories = list(dict.fromkeys(c for c in data.cargo_categories if c))
    unknown = [c for c in categories if c not in CargoCategory.values]
    if unknown:
        errors.add("cargo_categories", _("Choose cargo categories from the list."))
    if data.valid_from is None:
        errors.add("valid_from", _("Enter when the entry starts."))
    elif data.valid_until is not None and data.valid_until <= data.valid_from:
        errors.add("valid_until", _("The entry must end after it starts."))
    if ends_checked and data.valid_until is not None and data.valid_until <= now:
        errors.add("valid_until", _("The end must be in the future."))
    reason = data.reason.strip()
    if not reason:
        errors.add("reason", _("Say why the company is whitelisted."))
    elif len(reason) > WHITELIST_REASON_MAX_LENGTH:
        errors.add(
            "reason",
            _("The reason can have at most %(n)d characters.") % {"n": WHITELIST_REASON_MAX_LENGTH},
        )
    errors.raise_if_any()
    return {
        "plates": plates,
        "cargo_categories": [c for c in CargoCategory.values if c in categories],
        "valid_from": data.valid_from,
        "valid_until": data.valid_until,
        "priority_lane": data.priority_lane,
        "reason": reason,
    }


def _plate_valid(plate: str) -> bool:
    try:
        validators.validate_plate(plate)
    except ValidationError:
        return False
    return True


def whitelist_entry_create(*, actor: User, data: WhitelistData) -> WhitelistEntry:
    """Put a company on the whitelist within a scope; recorded with who and when."""
    _officials_only(actor)
    now = timezone.now()
    company = Company.objects.filter(pk=data.company).first() if data.company else None
    try:
        fields = _cleaned(data, now=now, ends_checked=True)
    except DomainError as exc:
        if company is None:
            exc.fields.setdefault("company", [_("Choose a company from the list.")])
        raise
    if company is None:
        raise DomainError(
            "validation_error",
            _("Some fields are not valid."),
            fields={"company": [_("Choose a company from the list.")]},
        )
    with transaction.atomic():
        entry = WhitelistEntry(company=company, created_by=actor, created_at=now, **fields)
        entry._history_user = actor  # type: ignore[attr-defined]
        entry.save()
        lanes_forget()
    return entry


def whitelist_entry_update(
    *, actor: User, entry: WhitelistEntry, data: WhitelistData
) -> WhitelistEntry:
    """Change an entry's scope, period, lane or reason (not its company: that is another entry).
    A revoked entry stays as it was revoked; a change that changes nothing writes nothing."""
    _officials_only(actor)
    now = timezone.now()
    with transaction.atomic():
        entry = WhitelistEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.revoked_at is not None:
            raise DomainError(
                "entry_revoked",
                _("This entry was revoked and cannot be changed; add a new entry instead."),
                status=409,
            )
        if data.company is not None and data.company != entry.company_id:
            raise DomainError(
                "validation_error",
                _("Some fields are not valid."),
                fields={"company": [_("An entry's company cannot be changed; add a new entry.")]},
            )
        fields = _cleaned(data, now=now, ends_checked=data.valid_until != entry.valid_until)
        changed = [name for name in ENTRY_FIELDS if getattr(entry, name) != fields[name]]
        if not changed:
            return entry
        for name in changed:
            setattr(entry, name, fields[name])
        entry._history_user = actor  # type: ignore[attr-defined]
        entry.save(update_fields=changed)
        lanes_forget()
        _multi_entry_follows(company=entry.company, actor=actor, now=now)
    return entry


def whitelist_entry_revoke(*, actor: User, entry: WhitelistEntry, reason: str) -> WhitelistEntry:
    """End an entry now, with the official's reason; it stays listed, revoked, with its
    history. Revoking it again is refused (the first revocation and its reason stand)."""
    _officials_only(actor)
    reason = reason.strip()
    if not reason or len(reason) > WHITELIST_REASON_MAX_LENGTH:
        raise DomainError(
            "validation_error",
            _("Some fields are not valid."),
            fields={
                "revoke_reason": [
                    _("Say why the entry is revoked (at most %(n)d characters).")
                    % {"n": WHITELIST_REASON_MAX_LENGTH}
                ]
            },
        )
    with transaction.atomic():
        entry = WhitelistEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.revoked_at is not None:
            raise DomainError("entry_revoked", _("This entry was already revoked."), status=409)
        entry.revoked_at = timezone.now()
        entry.revoked_by = actor
        entry.revoke_reason = reason
        entry._history_user = actor  # type: ignore[attr-defined]
        entry.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        lanes_forget()
        _multi_entry_follows(company=entry.company, actor=actor, now=entry.revoked_at)
    return entry


def _multi_entry_follows(*, company: Company, actor: User, now: datetime) -> int:
    """A multi-entry pass is for a truck inside its company's whitelist scope for the whole trip
    (registration's rule: an entry covering the plate and cargo at the arrival and still at the
    departure). When an official revokes or narrows an entry, the company's multi-entry trips
    that no entry covers any more, from now (or the arrival, if later) to the departure, become
    trips of one entry and one exit: the scan then answers as for any pass (a truck that has
    left may not enter again: ``used``), and the tablets' bundles carry the change with the
    trip (``updated_at``). A trip that has already left has made its entry and exit: its pass is
    completed. Each change is in the trip's changes. Returns how many trips changed.

    The trips are locked, so a scan deciding on one of them at the same moment decides before
    or after the change, never on half of it. A few queries whatever the number of trips."""
    candidates = list(
        Pass.objects.filter(
            trip__company=company,
            trip__multi_entry=True,
            status=PassStatus.ACTIVE,
            valid_until__gt=now,
        ).values_list("trip_id", flat=True)
    )
    if not candidates:
        return 0
    trips = list(
        Trip.objects.select_for_update(of=("self",))
        .select_related("vehicle")
        .filter(pk__in=candidates, multi_entry=True)
        .order_by("pk")
    )
    entries = list(WhitelistEntry.objects.filter(company=company))

    def covered(trip: Trip) -> bool:
        facts = {"plate": trip.vehicle.plate, "cargo_category": trip.cargo_category}
        start = max(now, trip.planned_arrival)
        return any(
            e.covers(**facts, at=start) and e.covers(**facts, at=trip.planned_departure)
            for e in entries
        )

    ended = [trip for trip in trips if not covered(trip)]
    if not ended:
        return 0
    Trip.objects.filter(pk__in=[t.pk for t in ended]).update(multi_entry=False, updated_at=now)
    Pass.objects.filter(
        trip_id__in=[t.pk for t in ended if t.status == TripStatus.EXITED],
        status=PassStatus.ACTIVE,
    ).update(status=PassStatus.COMPLETED)
    TripChange.objects.bulk_create(
        TripChange(
            trip=trip,
            kind=TripChange.Kind.MULTI_ENTRY,
            before={"multi_entry": True},
            after={"multi_entry": False},
            actor=actor,
            at=now,
        )
        for trip in ended
    )
    return len(ended)


def entries_in_force(*, company: Company, at: datetime) -> QuerySet[WhitelistEntry]:
    """The company's entries in force at ``at``, whatever their scope."""
    return WhitelistEntry.objects.filter(company=company, valid_from__lte=at).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=at),
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=at),
    )


def whitelist_open(*, company: Company | None, at: datetime) -> bool:
    """Whether the company has an entry in force at ``at`` or starting later: a registration
    may then ask for a multi-entry pass (its scope is checked with the trip's own facts)."""
    if company is None:
        return False
    return (
        WhitelistEntry.objects.filter(company=company, revoked_at__isnull=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at))
        .exists()
    )


# Why no entry covers a trip, as codes (stable: the later multi-entry rules answer them).
NOT_WHITELISTED, PLATE_OUTSIDE, CARGO_OUTSIDE = (
    "not_whitelisted",
    "plate_outside_scope",
    "cargo_outside_scope",
)


@dataclass(frozen=True)
class WhitelistMatch:
    """The entry covering a company's plate and cargo at an instant, or why none does."""

    entry: WhitelistEntry | None
    refusal: str | None = None

    def message(self, *, plate: str, cargo_category: str) -> str:
        """The refusal in the user's language, naming what lies outside the scope."""
        if self.refusal == PLATE_OUTSIDE:
            return _("The company's whitelist entry does not cover the vehicle %(plate)s.") % {
                "plate": plate
            }
        if self.refusal == CARGO_OUTSIDE:
            label = dict(CargoCategory.choices).get(cargo_category, cargo_category)
            return _(
                "The company's whitelist entry does not cover the cargo category “%(category)s”."
            ) % {"category": label}
        return _("Only whitelisted companies may register multi-entry passes.")


def whitelist_match(
    *, company: Company | None, plate: str, cargo_category: str, at: datetime
) -> WhitelistMatch:
    """The company's entry in force at ``at`` that covers the (normalised) plate and the cargo
    category, the one lasting longest when several do; otherwise why none does: no entry in
    force at all, or none holding the plate, or none holding the cargo."""
    if company is None:
        return WhitelistMatch(None, NOT_WHITELISTED)
    entries = list(entries_in_force(company=company, at=at))
    found = [e for e in entries if e.covers(plate=plate, cargo_category=cargo_category, at=at)]
    if found:
        far = datetime.max.replace(tzinfo=UTC)
        return WhitelistMatch(max(found, key=lambda e: (e.valid_until or far, e.pk)))
    if not entries:
        return WhitelistMatch(None, NOT_WHITELISTED)
    if any(not e.plates or plate in e.plates for e in entries):
        return WhitelistMatch(None, CARGO_OUTSIDE)
    return WhitelistMatch(None, PLATE_OUTSIDE)


def whitelist_entry_for(
    *, company: Company | None, plate: str, cargo_category: str, at: datetime
) -> WhitelistEntry | None:
    """The entry covering the company's plate and cargo category at ``at``, if any."""
    return whitelist_match(company=company, plate=plate, cargo_category=cargo_category, at=at).entry
