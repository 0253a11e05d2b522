"""The pure grading function (docs/architecture.md, "The pass code"): no database, a small stand-in
for Policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from trucks import grading
from trucks.grading import GREEN, RED, YELLOW

ARRIVAL = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
FRESH = ARRIVAL - timedelta(hours=10)

# Real GB/T 2260 codes: Wujin district in Changzhou city in Jiangsu; Huguan county in Changzhi
# city in Shanxi; Jiefang district in Jiaozuo; Erenhot, a county-level city in Inner Mongolia.
WUJIN, CHANGZHOU, JIANGSU = "320412", "320400", "320000"
XINBEI = "320411"
HUGUAN, CHANGZHI, SHANXI = "140427", "140400", "140000"
JIEFANG = "410802"
ERENHOT = "152501"

RED_CODES = {"positive_test", "high_risk_origin", "high_risk_travel"}
YELLOW_CODES = {"medium_risk_origin", "medium_risk_travel", "no_test", "test_stale"}


@dataclass
class Rules:
    version: int = 1
    red_risk_level: str = "high"
    yellow_risk_level: str = "medium"
    test_max_age_hours: int = 48


def grade(**overrides: Any) -> grading.Grade:
    values: dict[str, Any] = {
        "rules": Rules(),
        "origin": JIEFANG,
        "travel_history": [],
        "risk_by_code": {},
        "test_result": "negative",
        "test_sampled_at": FRESH,
        "planned_arrival": ARRIVAL,
    }
    values.update(overrides)
    return grading.grade(**values)


def codes(result: grading.Grade) -> list[str]:
    return [r.code for r in result.reasons]


def test_it_grades_a_low_risk_trip_with_a_fresh_negative_test_green() -> None:
    result = grade()
    assert result.colour == GREEN
    assert result.reasons == ()
    assert result.reasons_json == []


def test_it_grades_a_positive_test_red() -> None:
    result = grade(test_result="positive")
    assert result.colour == RED
    assert result.reasons_json == [{"code": "positive_test"}]


def test_a_positive_test_is_not_also_reported_as_missing_or_stale() -> None:
    for sampled_at in (None, ARRIVAL - timedelta(days=10), FRESH):
        assert codes(grade(test_result="positive", test_sampled_at=sampled_at)) == ["positive_test"]


def test_it_grades_a_high_risk_origin_red() -> None:
    result = grade(origin=WUJIN, risk_by_code={WUJIN: "high"})
    assert result.colour == RED
    assert result.reasons_json == [{"code": "high_risk_origin", "regions": [WUJIN]}]


def test_it_grades_high_risk_travel_red_and_names_only_the_risky_regions() -> None:
    result = grade(
        travel_history=[HUGUAN, WUJIN, ERENHOT, XINBEI],
        risk_by_code={WUJIN: "high", HUGUAN: "high"},
    )
    assert result.colour == RED
    # Sorted by code, so the same trip always reads the same.
    assert result.reasons_json == [{"code": "high_risk_travel", "regions": [HUGUAN, WUJIN]}]


def test_it_grades_a_medium_risk_origin_yellow() -> None:
    result = grade(origin=WUJIN, risk_by_code={WUJIN: "medium"})
    assert result.colour == YELLOW
    assert result.reasons_json == [{"code": "medium_risk_origin", "regions": [WUJIN]}]


def test_it_grades_medium_risk_travel_yellow() -> None:
    result = grade(travel_history=[ERENHOT, WUJIN], risk_by_code={ERENHOT: "medium"})
    assert result.colour == YELLOW
    assert result.reasons_json == [{"code": "medium_risk_travel", "regions": [ERENHOT]}]


@pytest.mark.parametrize(
    ("test_result", "sampled_at"),
    [
        ("none", None),
        ("none", FRESH),  # "no result" with a time is still no result
        ("negative", None),  # a negative result without its sample time proves nothing
        ("inconclusive", FRESH),  # anything but negative or positive
    ],
)
def test_it_grades_a_missing_test_yellow(test_result: str, sampled_at: datetime | None) -> None:
    result = grade(test_result=test_result, test_sampled_at=sampled_at)
    assert result.colour == YELLOW
    assert result.reasons_json == [{"code": "no_test"}]


@pytest.mark.parametrize(
    ("age", "colour", "reasons"),
    [
        (timedelta(hours=47, minutes=59), GREEN, []),
        # The rule is "within 48 hours": the comparison is strict, so exactly 48 h still counts.
        (timedelta(hours=48), GREEN, []),
        (timedelta(hours=48, seconds=1), YELLOW, ["test_stale"]),
        (timedelta(hours=48, minutes=1), YELLOW, ["test_stale"]),
        (timedelta(days=10), YELLOW, ["test_stale"]),
    ],
)
def test_it_puts_the_test_age_boundary_at_exactly_48_hours_before_arrival(
    age: timedelta, colour: str, reasons: list[str]
) -> None:
    result = grade(test_sampled_at=ARRIVAL - age)
    assert result.colour == colour
    assert codes(result) == reasons


def test_it_measures_the_test_age_at_arrival_not_now() -> None:
    # Sampled 40 hours before the planned arrival: fresh whenever the grading runs.
    result = grade(test_sampled_at=ARRIVAL - timedelta(hours=40))
    assert result.colour == GREEN
    result = grade(
        test_sampled_at=ARRIVAL - timedelta(hours=40),
        planned_arrival=ARRIVAL + timedelta(hours=9),
    )
    assert codes(result) == ["test_stale"]


def test_it_counts_a_test_sampled_after_the_planned_arrival_as_fresh() -> None:
    result = grade(test_sampled_at=ARRIVAL + timedelta(hours=3))
    assert result.colour == GREEN
    assert result.reasons == ()


def test_it_lists_every_reason_most_severe_first() -> None:
    result = grade(
        origin=WUJIN,
        travel_history=[HUGUAN, ERENHOT],
        risk_by_code={WUJIN: "high", HUGUAN: "high", ERENHOT: "medium"},
        test_result="positive",
    )
    assert result.colour == RED
    assert result.reasons_json == [
        {"code": "positive_test"},
        {"code": "high_risk_origin", "regions": [WUJIN]},
        {"code": "high_risk_travel", "regions": [HUGUAN]},
        {"code": "medium_risk_travel", "regions": [ERENHOT]},
    ]


def test_it_keeps_yellow_reasons_under_a_red_one_so_the_driver_sees_them_all() -> None:
    result = grade(
        origin=WUJIN,
        travel_history=[HUGUAN, ERENHOT],
        risk_by_code={WUJIN: "medium", HUGUAN: "high", ERENHOT: "medium"},
        test_result="none",
        test_sampled_at=None,
    )
    assert result.colour == RED
    assert codes(result) == [
        "high_risk_travel",
        "medium_risk_origin",
        "medium_risk_travel",
        "no_test",
    ]


def test_it_combines_yellow_reasons_and_stays_yellow() -> None:
    result = grade(
        origin=WUJIN,
        travel_history=[ERENHOT],
        risk_by_code={WUJIN: "medium", ERENHOT: "medium"},
        test_sampled_at=ARRIVAL - timedelta(hours=72),
    )
    assert result.colour == YELLOW
    assert codes(result) == ["medium_risk_origin", "medium_risk_travel", "test_stale"]


def test_it_reports_high_and_medium_travel_regions_separately() -> None:
    result = grade(
        travel_history=[WUJIN, ERENHOT, HUGUAN],
        risk_by_code={WUJIN: "high", ERENHOT: "medium", HUGUAN: "low"},
    )
    assert result.reasons_json == [
        {"code": "high_risk_travel", "regions": [WUJIN]},
        {"code": "medium_risk_travel", "regions": [ERENHOT]},
    ]


def test_it_lists_a_travel_region_named_twice_once() -> None:
    result = grade(travel_history=[WUJIN, WUJIN], risk_by_code={WUJIN: "high"})
    assert result.reasons_json == [{"code": "high_risk_travel", "regions": [WUJIN]}]


@pytest.mark.parametrize(
    ("risk", "colour"),
    [
        ({CHANGZHOU: "high"}, RED),  # a county in a high-risk city is high-risk
        ({JIANGSU: "high"}, RED),  # and in a high-risk province
        ({CHANGZHOU: "medium"}, YELLOW),
        ({JIANGSU: "medium"}, YELLOW),
        ({JIANGSU: "medium", CHANGZHOU: "high"}, RED),  # the highest level on the chain wins
        ({WUJIN: "high", CHANGZHOU: "low", JIANGSU: "low"}, RED),  # a low parent lowers nothing
        ({XINBEI: "high"}, GREEN),  # a sibling county's level does not spread
        ({SHANXI: "high", "320500": "high"}, GREEN),  # nor does another province's or city's
    ],
)
def test_it_inherits_risk_from_the_city_and_the_province(risk: dict[str, str], colour: str) -> None:
    assert grade(origin=WUJIN, risk_by_code=risk).colour == colour
    assert grade(travel_history=[WUJIN], risk_by_code=risk).colour == colour


def test_it_names_the_region_travelled_through_not_its_risky_parent() -> None:
    result = grade(origin=WUJIN, travel_history=[HUGUAN], risk_by_code={CHANGZHI: "high"})
    assert result.reasons_json == [{"code": "high_risk_travel", "regions": [HUGUAN]}]


def test_it_counts_unknown_regions_as_low_risk() -> None:
    result = grade(origin="999999", travel_history=["888888"], risk_by_code={WUJIN: "high"})
    assert result.colour == GREEN


def test_a_policy_with_yellow_from_low_makes_every_trip_yellow() -> None:
    rules = Rules(yellow_risk_level="low")
    result = grade(rules=rules, travel_history=[ERENHOT])
    assert result.colour == YELLOW
    assert result.reasons_json == [
        {"code": "medium_risk_origin", "regions": [JIEFANG]},
        {"code": "medium_risk_travel", "regions": [ERENHOT]},
    ]
    # Red stays red.
    assert grade(rules=rules, origin=WUJIN, risk_by_code={WUJIN: "high"}).colour == RED


def test_a_policy_with_red_from_medium_refuses_medium_risk_regions() -> None:
    rules = Rules(red_risk_level="medium")
    result = grade(rules=rules, origin=WUJIN, risk_by_code={WUJIN: "medium"})
    assert result.colour == RED
    assert codes(result) == ["high_risk_origin"]
    result = grade(rules=rules, travel_history=[ERENHOT], risk_by_code={ERENHOT: "medium"})
    assert codes(result) == ["high_risk_travel"]
    assert grade(rules=rules).colour == GREEN


def test_a_policy_with_yellow_from_high_ignores_medium_risk_regions() -> None:
    rules = Rules(yellow_risk_level="high")
    assert grade(rules=rules, origin=WUJIN, risk_by_code={WUJIN: "medium"}).colour == GREEN
    assert grade(rules=rules, origin=WUJIN, risk_by_code={WUJIN: "high"}).colour == RED


def test_a_policy_with_a_shorter_test_age_turns_older_tests_yellow() -> None:
    rules = Rules(test_max_age_hours=24)
    assert grade(rules=rules, test_sampled_at=ARRIVAL - timedelta(hours=24)).colour == GREEN
    result = grade(rules=rules, test_sampled_at=ARRIVAL - timedelta(hours=25))
    assert codes(result) == ["test_stale"]
    # And the default policy still accepts the same test.
    assert grade(test_sampled_at=ARRIVAL - timedelta(hours=25)).colour == GREEN


def test_it_carries_the_policy_version() -> None:
    assert grade(rules=Rules(version=7)).policy_version == 7
    assert grade(rules=Rules(version=3), test_result="positive").policy_version == 3


def test_ancestor_codes_lists_each_region_with_its_city_and_province() -> None:
    assert grading.ancestor_codes([WUJIN, HUGUAN]) == {
        WUJIN,
        CHANGZHOU,
        JIANGSU,
        HUGUAN,
        CHANGZHI,
        SHANXI,
    }
    assert grading.ancestor_codes([CHANGZHOU]) == {CHANGZHOU, JIANGSU}
    assert grading.ancestor_codes([]) == set()


# --- a property over everything grading reads ---------------------------------------------------

_LEVELS = ("low", "medium", "high")
_SEVERITY = {GREEN: 0, YELLOW: 1, RED: 2}
_ALL_CODES = [WUJIN, CHANGZHOU, JIANGSU, XINBEI, HUGUAN, CHANGZHI, SHANXI, JIEFANG, ERENHOT]
_PLACES = [WUJIN, XINBEI, CHANGZHOU, HUGUAN, JIEFANG, ERENHOT]


def _expected_colour(
    rules: Rules,
    origin: str,
    history: list[str],
    risk: dict[str, str],
    test_result: str,
    age: timedelta | None,
) -> str:
    """An independent statement of docs/architecture.md, "The pass code", to hold the function
    to."""
    order = {"low": 0, "medium": 1, "high": 2}

    def level(code: str) -> int:
        chain = [code, code[:4] + "00", code[:2] + "0000"]
        return max(order[risk.get(c, "low")] for c in chain)

    levels = [level(c) for c in [origin, *history]]
    if test_result == "positive" or any(lv >= order[rules.red_risk_level] for lv in levels):
        return RED
    no_fresh_test = (
        test_result != "negative" or age is None or age > timedelta(hours=rules.test_max_age_hours)
    )
    if no_fresh_test or any(lv >= order[rules.yellow_risk_level] for lv in levels):
        return YELLOW
    return GREEN


@given(
    rules=st.builds(
        Rules,
        version=st.integers(1, 1000),
        red_risk_level=st.sampled_from(_LEVELS),
        yellow_risk_level=st.sampled_from(_LEVELS),
        test_max_age_hours=st.integers(1, 120),
    ),
    origin=st.sampled_from(_PLACES),
    history=st.lists(st.sampled_from(_PLACES), max_size=5),
    risk=st.dictionaries(st.sampled_from(_ALL_CODES), st.sampled_from(_LEVELS)),
    test_result=st.sampled_from(["negative", "positive", "none"]),
    age=st.none() | st.timedeltas(min_value=timedelta(hours=-24), max_value=timedelta(days=8)),
)
def test_the_colour_is_the_worst_reason_and_green_means_no_reason(
    rules: Rules,
    origin: str,
    history: list[str],
    risk: dict[str, str],
    test_result: str,
    age: timedelta | None,
) -> None:
    result = grading.grade(
        rules=rules,
        origin=origin,
        travel_history=history,
        risk_by_code=risk,
        test_result=test_result,
        test_sampled_at=None if age is None else ARRIVAL - age,
        planned_arrival=ARRIVAL,
    )
    severities = [_SEVERITY[r.colour] for r in result.reasons]
    assert _SEVERITY[result.colour] == max(severities, default=0)
    assert (result.colour == GREEN) == (result.reasons == ())
    assert severities == sorted(severities, reverse=True)
    for reason in result.reasons:
        assert reason.colour == (RED if reason.code in RED_CODES else YELLOW)
        assert reason.code in RED_CODES | YELLOW_CODES
        assert set(reason.regions) <= {origin, *history}
    assert len({r.code for r in result.reasons}) == len(result.reasons)
    assert result.policy_version == rules.version
    assert result.colour == _expected_colour(rules, origin, history, risk, test_result, age)


# --- explanations -----------------------------------------------------------------------------


def test_explain_fills_in_region_names() -> None:
    names = {WUJIN: "江苏省常州市武进区", HUGUAN: "山西省长治市壶关县"}
    with translation.override("en"):
        text = grading.explain(
            {"code": "high_risk_travel", "regions": [WUJIN, HUGUAN]},
            region_names=names,
            rules=Rules(),
        )
    assert text["code"] == "high_risk_travel"
    assert text["text"] == (
        "Your 14-day travel history includes a high-risk region: "
        "江苏省常州市武进区、山西省长治市壶关县."
    )
    assert "refused" in text["action"]


def test_explain_shows_the_code_of_a_region_it_has_no_name_for() -> None:
    with translation.override("en"):
        text = grading.explain(
            {"code": "medium_risk_origin", "regions": [ERENHOT]}, region_names={}, rules=Rules()
        )
    assert text["text"] == f"The trip starts in a medium-risk region: {ERENHOT}."


def test_explain_states_the_policys_test_age_in_hours() -> None:
    with translation.override("en"):
        default = grading.explain({"code": "test_stale"}, region_names={}, rules=Rules())
        short = grading.explain(
            {"code": "test_stale"}, region_names={}, rules=Rules(test_max_age_hours=24)
        )
    assert default["text"] == "Your negative test will be older than 48 hours at arrival."
    assert short["text"] == "Your negative test will be older than 24 hours at arrival."
    assert "upload" in default["action"]


def test_every_reason_grading_can_give_has_an_explanation() -> None:
    assert set(grading.REASON_TEXT) == RED_CODES | YELLOW_CODES
    with translation.override("en"):
        for code in RED_CODES | YELLOW_CODES:
            text = grading.explain(
                {"code": code, "regions": [WUJIN]}, region_names={}, rules=Rules()
            )
            assert text["text"] and text["action"]
            assert "%(" not in text["text"] and "%(" not in text["action"]


@pytest.mark.parametrize(
    ("red", "yellow", "code", "words_en", "words_zh"),
    [
        ("high", "medium", "high_risk_origin", "a high-risk region", "高风险地区"),
        ("high", "medium", "medium_risk_origin", "a medium-risk region", "中风险地区"),
        ("medium", "low", "high_risk_origin", "a medium- or high-risk region", "中、高风险地区"),
        ("medium", "low", "medium_risk_travel", "a low-risk region", "低风险地区"),
        ("high", "low", "medium_risk_origin", "a low- or medium-risk region", "低、中风险地区"),
        ("low", "low", "high_risk_travel", "a low-, medium- or high-risk region", "低、中、高风险"),
    ],
)
def test_region_reasons_name_the_levels_of_the_rules_that_decided(
    red: str, yellow: str, code: str, words_en: str, words_zh: str
) -> None:
    """Officials move the thresholds (red from medium, say): the text follows the rule version
    that graded the pass, instead of always saying "high-risk"."""
    rules = Rules(red_risk_level=red, yellow_risk_level=yellow)
    reason = {"code": code, "regions": [WUJIN]}

    with translation.override("en"):
        english = grading.explain(reason, region_names={}, rules=rules)["text"]
    with translation.override("zh-hans"):
        chinese = grading.explain(reason, region_names={}, rules=rules)["text"]

    assert words_en in english
    assert words_zh in chinese


def test_a_region_red_under_moved_thresholds_is_explained_by_those_thresholds() -> None:
    rules = Rules(red_risk_level="medium", yellow_risk_level="low")
    result = grade(rules=rules, origin=WUJIN, risk_by_code={JIANGSU: "medium"})
    [reason] = result.reasons_json

    with translation.override("en"):
        text = grading.explain(reason, region_names={}, rules=rules)["text"]

    assert (result.colour, reason["code"]) == (RED, "high_risk_origin")
    assert text == f"The trip starts in a medium- or high-risk region: {WUJIN}."
