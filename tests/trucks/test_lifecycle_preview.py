"""The preview of a change (``lifecycle.passes_preview``): how many active passes would change
colour, from which to which, were regions set to other levels or the policy changed; counted by
hand here from fixtures whose every pass is known. Only the passes the change would regrade are
read, in chunks, with no lock and no write; and what it foretells is what the regrade does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from passcode_portal.errors import DomainError
from places.models import Region
from tests.lifecycle import bulk_passes
from trucks import lifecycle, services
from trucks.models import Pass, PassStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
JIAOZUO = "410800"  # 焦作市
JIEFANG, ZHONGZHAN = "410802", "410803"  # two of its districts (counties)
WUJIN = "320412"  # 常州市武进区, elsewhere


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


def window() -> dict[str, Any]:
    return {"valid_from": NOW - timedelta(hours=1), "valid_until": NOW + timedelta(days=1)}


@pytest.fixture
def passes(checkpoint: Any) -> dict[str, list[Pass]]:
    """Known passes: three from a district of 焦作 and two through another, all green; one from
    焦作 with no test, yellow; four from elsewhere, green; one revoked and one from 焦作 expired
    (neither counts). Arrival is 1 h after the window opens; tests are sampled 10 h before it."""
    made = {
        "from_jiaozuo": bulk_passes(3, checkpoint=checkpoint, origin=JIEFANG, **window()),
        "through_jiaozuo": bulk_passes(
            2, checkpoint=checkpoint, origin=WUJIN, travel_history=[ZHONGZHAN], **window()
        ),
        "untested": bulk_passes(
            1,
            checkpoint=checkpoint,
            origin=JIEFANG,
            test_result="none",
            colour="yellow",
            reasons=[{"code": "no_test"}],
            **window(),
        ),
        "elsewhere": bulk_passes(4, checkpoint=checkpoint, origin=WUJIN, **window()),
        "closed": bulk_passes(1, checkpoint=checkpoint, origin=JIEFANG, **window())
        + bulk_passes(1, checkpoint=checkpoint, origin=JIEFANG, **window()),
    }
    revoked, expired = made["closed"]
    Pass.objects.filter(pk=revoked.pk).update(status=PassStatus.REVOKED)
    Pass.objects.filter(pk=expired.pk).update(status=PassStatus.EXPIRED)
    return made


def test_a_city_set_high_makes_its_counties_passes_red(passes: Any) -> None:
    preview = lifecycle.passes_preview(risk_levels={JIAOZUO: "high"})

    # Counted by hand: 3 from 解放区 and 2 through 中站区 are green and go red; the untested one
    # from 解放区 is yellow and goes red; the 4 from 武进 are not concerned; closed passes neither.
    assert preview.checked == 6
    assert preview.moves == {("green", "red"): 5, ("yellow", "red"): 1}
    assert preview.changed == 6
    assert preview.rows() == [("green", "red", 5), ("yellow", "red", 1)]
    # Nothing was written: the passes keep their colours.
    assert Pass.objects.filter(colour="red").count() == 0


def test_a_city_set_medium_turns_green_passes_yellow_only(passes: Any) -> None:
    preview = lifecycle.passes_preview(risk_levels={JIAOZUO: "medium"})

    # The untested pass is yellow already (no test), and stays yellow.
    assert (preview.checked, preview.moves) == (6, {("green", "yellow"): 5})


def test_a_county_alone_concerns_its_own_passes(passes: Any) -> None:
    preview = lifecycle.passes_preview(risk_levels={ZHONGZHAN: "high"})

    assert (preview.checked, preview.moves) == (2, {("green", "red"): 2})


def test_a_county_lowered_under_a_high_city_stays_red(passes: Any) -> None:
    Region.objects.filter(code=JIAOZUO).update(risk_level="high")
    Pass.objects.filter(trip__origin_region_id=JIEFANG).update(colour="red")

    # 解放区's own level is no match for its city's: nothing would change.
    stays = lifecycle.passes_preview(risk_levels={JIEFANG: "low"})
    # The city lowered: its passes go back to what their tests make them.
    lowered = lifecycle.passes_preview(risk_levels={JIAOZUO: "low"})

    assert (stays.checked, stays.moves) == (4, {})
    assert lowered.checked == 6
    # 3 from 解放区 green again, the untested one yellow; the 2 through 中站区 were left green.
    assert lowered.moves == {("red", "green"): 3, ("red", "yellow"): 1}


def test_a_shorter_test_validity_moves_greens_to_yellow(passes: Any, checkpoint: Any) -> None:
    # Four more: sampled 60 h before arrival, stale under 48 h, yellow.
    bulk_passes(
        4,
        checkpoint=checkpoint,
        origin=WUJIN,
        test_sampled_at=NOW - timedelta(hours=60),
        colour="yellow",
        reasons=[{"code": "test_stale"}],
        **window(),
    )

    shorter = lifecycle.passes_preview(policy_fields={"test_max_age_hours": 8})
    longer = lifecycle.passes_preview(policy_fields={"test_max_age_hours": 72})

    # Every active pass is concerned by a policy: 3 + 2 + 1 + 4 + 4.
    assert shorter.checked == longer.checked == 14
    # Under 8 h, the 9 tested 10 h before arrival go yellow; the stale ones stay yellow.
    assert shorter.moves == {("green", "yellow"): 9}
    # Under 72 h, the 4 tested 60 h before arrival go green.
    assert longer.moves == {("yellow", "green"): 4}
    assert services.policy_current().test_max_age_hours == 48  # nothing published


def test_a_policy_that_reds_medium_risk_meets_the_regions_in_force(passes: Any) -> None:
    Region.objects.filter(code=ZHONGZHAN).update(risk_level="medium")
    Pass.objects.filter(trip__travel_history=ZHONGZHAN).update(colour="yellow")

    preview = lifecycle.passes_preview(policy_fields={"red_risk_level": "medium"})

    assert preview.moves == {("yellow", "red"): 2}


def test_a_region_and_a_policy_together(passes: Any) -> None:
    preview = lifecycle.passes_preview(
        risk_levels={JIAOZUO: "medium"}, policy_fields={"yellow_risk_level": "high"}
    )

    # Medium is no longer yellow: nothing moves for the region; the policy concerns every pass.
    assert (preview.checked, preview.moves) == (10, {})


def test_it_reads_in_chunks_without_locks_or_writes(passes: Any, settings: Any) -> None:
    settings.LIFECYCLE_REGRADE_CHUNK = 2
    services.policy_current()  # the policy, read once here as by the page

    with CaptureQueriesContext(connection) as queries:
        preview = lifecycle.passes_preview(policy_fields={"test_max_age_hours": 8})

    assert preview.checked == 10
    statements = [q["sql"].upper() for q in queries]
    # The policy, the regions at risk, and 5 chunks of 2 passes with their travel histories,
    # then the empty chunk that ends it.
    assert len(statements) == 2 + 5 * 2 + 1
    assert not [s for s in statements if "FOR UPDATE" in s]
    assert all(s.lstrip().startswith("SELECT") for s in statements)


def test_what_it_foretells_is_what_the_regrade_does(passes: Any) -> None:
    before = dict(Pass.objects.values_list("pk", "colour"))
    preview = lifecycle.passes_preview(risk_levels={JIAOZUO: "high"})

    Region.objects.filter(code=JIAOZUO).update(risk_level="high")
    lifecycle.passes_regrade_region(code=JIAOZUO)

    after = dict(Pass.objects.values_list("pk", "colour"))
    moved = Counter((before[pk], after[pk]) for pk in before if before[pk] != after[pk])
    assert dict(moved) == preview.moves


def test_nothing_to_preview_reads_nothing(db: None) -> None:
    with CaptureQueriesContext(connection) as queries:
        preview = lifecycle.passes_preview()
    assert (preview.checked, preview.moves) == (0, {})
    assert len(queries) == 0


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"risk_levels": {JIAOZUO: "extreme"}}, "risk_level"),
        ({"policy_fields": {"colour": "blue"}}, "colour"),
        ({"policy_fields": {"test_max_age_hours": -1}}, "test_max_age_hours"),
        ({"policy_fields": {"red_risk_level": "extreme"}}, "red_risk_level"),
    ],
)
def test_nonsense_is_refused_with_the_field_named(db: None, given: Any, field: str) -> None:
    with pytest.raises(DomainError) as refused:
        lifecycle.passes_preview(**given)
    assert refused.value.code == "validation_error"
    assert field in refused.value.fields
