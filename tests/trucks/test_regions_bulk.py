"""Setting many regions' risk levels at once (``services.regions_set_risk``): a list of regions,
or a whole city or province with everything below it, in one transaction; each row's history
with who, the level before and after, and the reason; one regrade task per topmost region
changed; bad levels, unknown codes and a missing reason refused with the field named, and
nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone, translation

from dashboards.history import changes
from passcode_portal.errors import DomainError, PermissionDenied
from places.models import Region
from tests.factories import UserFactory, driver_user
from tests.lifecycle import bulk_passes, run_after_commit, task_names
from trucks import services

pytestmark = pytest.mark.django_db

JIAOZUO = "410800"  # 焦作市
JIEFANG, ZHONGZHAN = "410802", "410803"
HENAN = "410000"


@pytest.fixture
def official() -> User:
    return UserFactory(role="official", username="duty", first_name="值班员")


def levels(codes: list[str]) -> dict[str, str]:
    return dict(Region.objects.filter(code__in=codes).values_list("code", "risk_level"))


def test_a_list_of_regions_is_set_with_who_the_change_and_why(
    official: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        done = services.regions_set_risk(
            actor=official,
            codes=[JIEFANG, ZHONGZHAN],
            risk_level="high",
            reason="  市指挥部 12 月 1 日通报 ",
        )

    assert sorted(r.code for r in done.changed) == [JIEFANG, ZHONGZHAN]
    assert levels([JIEFANG, ZHONGZHAN, JIAOZUO]) == {
        JIEFANG: "high",
        ZHONGZHAN: "high",
        JIAOZUO: "low",
    }
    # One regrade per region: neither lies below the other.
    assert task_names(callbacks) == ["trucks.tasks.regrade_region"] * 2
    latest = Region.history.filter(code=JIEFANG).latest()
    assert (latest.history_user, latest.history_change_reason) == (
        official,
        "市指挥部 12 月 1 日通报",
    )
    with translation.override("en"):
        shown = changes(
            Region.history.filter(code__in=[JIEFANG, ZHONGZHAN]).order_by("-history_date"),
            fields=["risk_level"],
            subject=lambda record: record.code,
        )
    made = [c for c in shown if c.kind == "~"]
    assert sorted(c.subject for c in made) == [JIEFANG, ZHONGZHAN]
    # The level before is shown, though regions are loaded without history.
    assert {(c.who, c.fields[0].before, c.fields[0].after, c.reason) for c in made} == {
        ("值班员", "Low risk", "High risk", "市指挥部 12 月 1 日通报")
    }


def test_a_whole_city_and_below_is_one_transaction_and_one_regrade(
    official: User, checkpoint: Any, django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now()
    window = {"valid_from": now - timedelta(hours=1), "valid_until": now + timedelta(days=1)}
    [county_pass] = bulk_passes(1, checkpoint=checkpoint, origin=ZHONGZHAN, **window)
    Region.objects.filter(code=JIEFANG).update(risk_level="medium")
    below = Region.objects.filter(code__startswith="4108").count()

    with run_after_commit(django_capture_on_commit_callbacks) as callbacks:
        done = services.regions_set_risk(
            actor=official, codes=[JIAOZUO], risk_level="high", reason="全域高风险", below=True
        )

    assert len(done.changed) == below  # the city and each of its counties
    assert set(levels([r.code for r in done.changed]).values()) == {"high"}
    assert done.regraded == [JIAOZUO]
    assert task_names(callbacks) == ["trucks.tasks.regrade_region"]
    county_pass.refresh_from_db()
    assert county_pass.colour == "red"
    assert Region.history.filter(history_type="~", history_change_reason="全域高风险").count() == (
        below
    )

    # Lowered the same way, the county set medium before is lowered with the rest.
    services.regions_set_risk(
        actor=official, codes=[JIAOZUO], risk_level="low", reason="解除", below=True
    )
    assert levels([JIAOZUO, JIEFANG]) == {JIAOZUO: "low", JIEFANG: "low"}


def test_the_city_alone_leaves_its_counties_own_levels(official: User) -> None:
    done = services.regions_set_risk(
        actor=official, codes=[JIAOZUO], risk_level="high", reason="市级"
    )

    assert [r.code for r in done.changed] == [JIAOZUO]
    assert levels([JIEFANG]) == {JIEFANG: "low"}  # its passes are red through the city


def test_a_province_and_below_names_its_cities_and_counties(official: User) -> None:
    chosen = services.regions_chosen([HENAN], below=True)

    codes = {r.code for r in chosen}
    assert {HENAN, JIAOZUO, JIEFANG} <= codes
    assert all(code.startswith("41") for code in codes)
    assert len(codes) == Region.objects.filter(code__startswith="41").count()


def test_regions_already_at_the_level_are_left_alone(
    official: User, django_capture_on_commit_callbacks: Any
) -> None:
    Region.objects.filter(code=JIEFANG).update(risk_level="high")

    with django_capture_on_commit_callbacks() as callbacks:
        done = services.regions_set_risk(
            actor=official, codes=[JIEFANG], risk_level="high", reason="重复"
        )

    assert (done.changed, [r.code for r in done.unchanged]) == ([], [JIEFANG])
    assert callbacks == []
    assert not Region.history.filter(code=JIEFANG).exists()


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"codes": [JIEFANG, "999999"]}, "regions"),
        ({"codes": []}, "regions"),
        ({"codes": [str(n) for n in range(410100, 410401)]}, "regions"),
        ({"risk_level": "extreme"}, "risk_level"),
        ({"reason": "   "}, "reason"),
        ({"reason": "长" * 101}, "reason"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_changes(
    official: User, given: dict[str, Any], field: str
) -> None:
    arguments = {"codes": [JIEFANG], "risk_level": "high", "reason": "通报", **given}

    with pytest.raises(DomainError) as refused:
        services.regions_set_risk(actor=official, **arguments)

    assert refused.value.code == "validation_error"
    assert field in refused.value.fields
    assert levels([JIEFANG]) == {JIEFANG: "low"}
    assert not Region.history.exists()


def test_an_unknown_code_is_named(official: User) -> None:
    with pytest.raises(DomainError) as refused:
        services.regions_chosen(["999999", JIEFANG, "abc"])
    assert "999999" in str(refused.value.fields["regions"][0])
    assert "abc" in str(refused.value.fields["regions"][0])


def test_only_officials_set_many(db: None) -> None:
    with pytest.raises(PermissionDenied):
        services.regions_set_risk(
            actor=driver_user(), codes=[JIEFANG], risk_level="high", reason="x"
        )
    assert levels([JIEFANG]) == {JIEFANG: "low"}
