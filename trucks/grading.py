"""Grading: the colour of a pass and the reasons for it (docs/architecture.md, "The pass code"), as
one pure function.

The rules are data (a ``Policy`` row that officials version); this module only applies them.
Every reason is explained to the driver in their language, with what to do about it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

GREEN, YELLOW, RED = "green", "yellow", "red"
_COLOUR_ORDER = {GREEN: 0, YELLOW: 1, RED: 2}
_RISK_ORDER = {"low": 0, "medium": 1, "high": 2}


class Rules(Protocol):
    """The parts of a policy that grading reads (``trucks.models.Policy`` provides them)."""

    version: int
    red_risk_level: str
    yellow_risk_level: str
    test_max_age_hours: int


@dataclass(frozen=True)
class Reason:
    code: str
    colour: str
    regions: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code}
        if self.regions:
            data["regions"] = list(self.regions)
        return data


@dataclass(frozen=True)
class Grade:
    colour: str
    policy_version: int
    reasons: tuple[Reason, ...] = field(default=())

    @property
    def reasons_json(self) -> list[dict[str, Any]]:
        return [r.as_json() for r in self.reasons]


def effective_risk(code: str, risk_by_code: Mapping[str, str]) -> str:
    """A region's level is the highest of its own and those of the regions above it: a city
    declared high-risk makes each of its counties high-risk."""
    chain = {code, code[:4] + "00", code[:2] + "0000"}
    return max((risk_by_code.get(c, "low") for c in chain), key=_RISK_ORDER.__getitem__)


def ancestor_codes(codes: Iterable[str]) -> set[str]:
    """The codes whose risk level ``effective_risk`` may read for these regions."""
    out: set[str] = set()
    for code in codes:
        out.update((code, code[:4] + "00", code[:2] + "0000"))
    return out


def topmost_codes(codes: Iterable[str]) -> list[str]:
    """Those of ``codes`` not below another of them: a change to a province and its cities
    concerns exactly the passes of the province, so one regrade (or one preview) of it covers
    the rest."""
    chosen = set(codes)
    return sorted(c for c in chosen if not (ancestor_codes([c]) - {c}) & chosen)


def grade(
    *,
    rules: Rules,
    origin: str,
    travel_history: Sequence[str],
    risk_by_code: Mapping[str, str],
    test_result: str,
    test_sampled_at: datetime | None,
    planned_arrival: datetime,
) -> Grade:
    """Grade a trip. ``risk_by_code`` maps region codes (with their ancestors) to risk levels;
    regions missing from it count as low risk. Reasons are listed most severe first, all of them,
    so a driver sees that a fresh test will not lift a code that is red for its route."""
    reasons: list[Reason] = []
    red_from = _RISK_ORDER[rules.red_risk_level]
    yellow_from = _RISK_ORDER[rules.yellow_risk_level]

    if test_result == "positive":
        reasons.append(Reason("positive_test", RED))

    origin_level = _RISK_ORDER[effective_risk(origin, risk_by_code)]
    travel_levels = {
        code: _RISK_ORDER[effective_risk(code, risk_by_code)] for code in travel_history
    }
    red_travel = tuple(sorted(c for c, lvl in travel_levels.items() if lvl >= red_from))
    yellow_travel = tuple(
        sorted(c for c, lvl in travel_levels.items() if yellow_from <= lvl < red_from)
    )
    if origin_level >= red_from:
        reasons.append(Reason("high_risk_origin", RED, (origin,)))
    if red_travel:
        reasons.append(Reason("high_risk_travel", RED, red_travel))
    if yellow_from <= origin_level < red_from:
        reasons.append(Reason("medium_risk_origin", YELLOW, (origin,)))
    if yellow_travel:
        reasons.append(Reason("medium_risk_travel", YELLOW, yellow_travel))

    if test_result != "positive":
        if test_result != "negative" or test_sampled_at is None:
            reasons.append(Reason("no_test", YELLOW))
        elif planned_arrival - test_sampled_at > timedelta(hours=rules.test_max_age_hours):
            reasons.append(Reason("test_stale", YELLOW))

    colour = max((r.colour for r in reasons), key=_COLOUR_ORDER.__getitem__, default=GREEN)
    return Grade(colour=colour, policy_version=rules.version, reasons=tuple(reasons))


# The risk levels a reason stands for, in words: which levels make a code red or yellow is the
# policy's choice (``red_risk_level``, ``yellow_risk_level``), so a reason's text names the levels
# of the rule version that decided it, not fixed ones. Keyed by the levels, lowest first.
LEVEL_WORDS: dict[tuple[str, ...], Promise] = {
    ("low",): _("low-risk"),
    ("medium",): _("medium-risk"),
    ("high",): _("high-risk"),
    ("low", "medium"): _("low- or medium-risk"),
    ("medium", "high"): _("medium- or high-risk"),
    ("low", "medium", "high"): _("low-, medium- or high-risk"),
}


def levels_of(reason_code: str, rules: Rules) -> tuple[str, ...]:
    """The risk levels at which ``rules`` give a region reason of this code: the red ones from
    ``red_risk_level`` up, the yellow ones from ``yellow_risk_level`` up to below red."""
    red_from = _RISK_ORDER[rules.red_risk_level]
    yellow_from = _RISK_ORDER[rules.yellow_risk_level]
    if reason_code.startswith("high_risk"):
        wanted = range(red_from, 3)
    else:
        wanted = range(yellow_from, red_from)
    return tuple(level for level, order in _RISK_ORDER.items() if order in wanted)


# What each reason means to a driver, and what to do about it. Codes are stable API (the
# "high_risk_*" codes are the red region reasons, "medium_risk_*" the yellow ones, whatever levels
# the policy counts as each); the texts name the levels through %(level)s.
REASON_TEXT: dict[str, tuple[Promise, Promise]] = {
    "positive_test": (
        _("Your latest test result is positive."),
        _(
            "Do not set off. Contact the local epidemic-prevention office. "
            "When you have a new negative result, upload it and the pass is regraded at once."
        ),
    ),
    "high_risk_origin": (
        _("The trip starts in a %(level)s region: %(regions)s."),
        _(
            "Under the rules in force, trucks from such a region are refused entry. "
            "Postpone the trip or change route."
        ),
    ),
    "high_risk_travel": (
        _("Your 14-day travel history includes a %(level)s region: %(regions)s."),
        _("Entry is refused while the region is rated so. Contact the consignee to reschedule."),
    ),
    "medium_risk_origin": (
        _("The trip starts in a %(level)s region: %(regions)s."),
        _("You will be tested on arrival at the checkpoint (落地核酸). Allow extra time."),
    ),
    "medium_risk_travel": (
        _("Your 14-day travel history includes a %(level)s region: %(regions)s."),
        _("You will be tested on arrival at the checkpoint (落地核酸). Allow extra time."),
    ),
    "no_test": (
        _("No negative test result has been given."),
        _(
            "Upload a negative test result to get a green code; "
            "otherwise you will be tested at the checkpoint."
        ),
    ),
    "test_stale": (
        _("Your negative test will be older than %(hours)s hours at arrival."),
        _(
            "Take a new test and upload the result; the pass turns green at once. "
            "Otherwise you will be tested at the checkpoint."
        ),
    ),
}


def explain(
    reason: Mapping[str, Any], *, region_names: Mapping[str, str], rules: Rules
) -> dict[str, str]:
    """The reason's text and advice in the active language, with region names filled in."""
    text, action = REASON_TEXT[reason["code"]]
    names = "、".join(region_names.get(c, c) for c in reason.get("regions", ()))
    level = LEVEL_WORDS.get(levels_of(reason["code"], rules), "")
    params = {"regions": names, "hours": rules.test_max_age_hours, "level": level}
    return {"code": reason["code"], "text": str(text) % params, "action": str(action)}
