"""The priority lane as the scan reads it (docs/architecture.md, "The whitelist"): the entries
with the lane, kept in the process a few seconds as the policy is, so a scan costs no query for
them. The whitelist's services (``trucks.services.whitelist``) forget the copy when an entry
changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from passcode_portal.ttlcache import TTLCache
from trucks.models import WhitelistEntry
from trucks.models.whitelist import covers

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


def lanes_forget() -> None:
    """Once the caller's transaction commits, the next scan in this process reads the entries
    again (other processes within ``HOT_CACHE_SECONDS``)."""
    transaction.on_commit(lambda: _lanes.discard(_LANES))
