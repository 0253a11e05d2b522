"""A period's counts as the roll-ups' totals plus the rows not counted yet (``dashboards.rollups``),
read in one statement (``UNION ALL``), so that the two parts come from one snapshot: a row the
roll-up task counts meanwhile is in exactly one of them. Exact at any moment, and as fast at a
province's scale as on a day's data: the roll-ups hold a row per day and key, and the rows not
counted yet are the last seconds' (a partial index finds them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from django.db.models import BigIntegerField, F, Q, QuerySet, Sum
from django.db.models.functions import Cast

from dashboards.rollups import Rollup, keyed


def totals(
    rollup: Rollup,
    *,
    rollups: Q,
    rows: QuerySet[Any],
    keys: tuple[str, ...],
    read_as: Mapping[str, tuple[Any, Any]] | None = None,
) -> Counter[tuple[Any, ...]]:
    """Counts by ``keys`` (some of the roll-up's key fields): of the roll-up's rows that
    ``rollups`` selects, plus the source ``rows`` (the same period and place) not counted yet.
    ``read_as`` gives a key another expression on each side (the roll-up's, the rows'), where the
    two parts of the union would not otherwise read alike: an hour as the hour of the day, say."""
    read_as = read_as or {}
    names = [f"k_{name}" for name in keys]
    summed = (
        rollup.model._default_manager.filter(rollups)
        .annotate(**{f"k_{n}": read_as[n][0] if n in read_as else F(n) for n in keys})
        .values(*names)
        .annotate(c=Cast(Sum("n"), BigIntegerField()))
        .order_by()
    )
    fresh = keyed(
        rollup,
        rows.filter(counted=False),
        keys,
        {name: sides[1] for name, sides in read_as.items()},
    )
    out: Counter[tuple[Any, ...]] = Counter()
    for row in summed.union(fresh, all=True):
        out[tuple(row[name] for name in names)] += row["c"]
    # A roll-up row a correction emptied (an overridden refusal's) is no count at all.
    return +out
