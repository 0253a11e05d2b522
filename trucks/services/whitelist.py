"""The whitelist (``trucks.models.WhitelistEntry``): officials add, change and revoke entries,
each change in the entry's history with who made it; registration asks which entry covers a
trip (``whitelist_match``), and the scan whether its truck takes the priority lane
(``priority_lane_at``, read from a copy kept a few seconds, as the policy is)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from passcode_portal.errors import DomainError, PermissionDenied
from passcode_portal.ttlcache import TTLCache
from trucks import validators
from trucks.models import CargoCategory, Company, WhitelistEntry
from trucks.models.whitelist import covers
from trucks.roles import is_official
from trucks.services.inputs import FieldErrors

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


def _forget_lanes() -> None:
    transaction.on_commit(lambda: _lanes.discard(_LANES))


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
        _forget_lanes()
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
        _forget_lanes()
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
        _forget_lanes()
    return entry


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


# The priority-lane entries as the scan reads them: kept HOT_CACHE_SECONDS in the process, so a
# scan costs no query for them; a change reaches other processes that much later (this one at
# once). Entries that ended within the last day are kept too, since a scan a tablet synced late
# is judged at the time it was made (the checkpoints accept scans up to a day old).
_LANES = "priority_lanes"
_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class _Lane:
    plates: tuple[str, ...]
    cargo_categories: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class PriorityLanes:
    """The priority-lane entries by company, as the scan reads them (``priority_lanes``)."""

    by_company: Mapping[int, tuple[_Lane, ...]]

    def covers(
        self, *, company_id: int | None, plate: str, cargo_category: str, at: datetime
    ) -> bool:
        """Whether a truck of the company, with this plate and cargo, takes the priority lane
        at ``at``: an entry with the lane covers it (``covers``, the entries' own rule)."""
        if company_id is None:
            return False
        return any(
            covers(lane, plate=plate, cargo_category=cargo_category, at=at)
            for lane in self.by_company.get(company_id, ())
        )


def _lanes_load() -> PriorityLanes:
    since = timezone.now() - _LOOKBACK
    rows = (
        WhitelistEntry.objects.filter(priority_lane=True)
        .filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=since),
            Q(revoked_at__isnull=True) | Q(revoked_at__gt=since),
        )
        .values_list(
            "company_id", "plates", "cargo_categories", "valid_from", "valid_until", "revoked_at"
        )
    )
    by_company: dict[int, list[_Lane]] = {}
    for company_id, plates, categories, start, end, revoked in rows:
        by_company.setdefault(company_id, []).append(
            _Lane(tuple(plates), tuple(categories), start, end, revoked)
        )
    return PriorityLanes({company_id: tuple(lanes) for company_id, lanes in by_company.items()})


_lanes: TTLCache[PriorityLanes] = TTLCache(lambda: settings.HOT_CACHE_SECONDS)


def priority_lanes() -> PriorityLanes:
    """The priority-lane entries, read once for a scan or a list of scans."""
    return _lanes.get_or_load(_LANES, _lanes_load)


def priority_lane_at(
    *, company_id: int | None, plate: str, cargo_category: str, at: datetime
) -> bool:
    """``PriorityLanes.covers`` for one truck; no read at all for a truck of no company."""
    if company_id is None:
        return False
    return priority_lanes().covers(
        company_id=company_id, plate=plate, cargo_category=cargo_category, at=at
    )
