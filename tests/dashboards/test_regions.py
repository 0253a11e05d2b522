"""Region risk levels, the officials' page (``dashboards:regions``): regions found by name or
code and filtered by level and risk level, a page at a time; a change previewed (how many active
passes would change colour, from which to which) before it is confirmed and saved; the history
of risk changes with who, when, the region and the level before and after; bad input a 400 with
its message and nothing changed; every other role refused."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from places.models import Region
from tests.dashboards.conftest import OTHER_ROLES, signed_in_as
from tests.factories import UserFactory
from tests.lifecycle import bulk_passes, run_after_commit
from trucks import services
from trucks.models import Pass

pytestmark = pytest.mark.django_db

URL = "/dashboard/regions/"
JIAOZUO, JIEFANG, ZHONGZHAN = "410800", "410802", "410803"


@pytest.fixture
def passes(checkpoint: Any) -> list[Pass]:
    now = timezone.now()
    window = {"valid_from": now - timedelta(hours=1), "valid_until": now + timedelta(days=1)}
    return bulk_passes(3, checkpoint=checkpoint, origin=ZHONGZHAN, **window) + bulk_passes(
        2, checkpoint=checkpoint, origin="320412", **window
    )


def listed(answer: Any) -> list[str]:
    return re.findall(r'data-region="(\d{6})"', answer.content.decode())


def seen(preview: Any) -> str:
    """What the preview's confirm form carries: the state it was made against."""
    found = re.search(r'name="seen" value="(\w+)"', preview.content.decode())
    assert found, "no confirm form"
    return found.group(1)


def previewed_and_saved(client: Client, body: dict[str, Any], url: str = URL) -> Any:
    preview = client.post(url, {**body, "action": "preview"})
    return client.post(url, {**body, "seen": seen(preview), "action": "save"})


def test_the_url_is_named() -> None:
    assert reverse("dashboards:regions") == URL


def test_regions_are_found_and_filtered(official_client: Client) -> None:
    Region.objects.filter(code=JIEFANG).update(risk_level="high")

    assert listed(official_client.get(URL, {"q": "焦作", "level": "city"})) == [JIAOZUO]
    assert JIAOZUO in listed(official_client.get(URL, {"q": "焦作"}))
    assert listed(official_client.get(URL, {"q": "4108", "level": "city"})) == [JIAOZUO]
    by_code = listed(official_client.get(URL, {"q": "4108", "level": "county"}))
    assert JIEFANG in by_code and all(c.startswith("4108") for c in by_code)
    assert listed(official_client.get(URL, {"risk_level": "high"})) == [JIEFANG]
    # A page at a time, with the pager keeping the filters.
    first = official_client.get(URL, {"level": "county"})
    assert len(listed(first)) == 50
    assert "level=county&amp;page=2" in first.content.decode()
    # Nonsense in a filter is ignored, not an error.
    assert official_client.get(URL, {"level": "village", "risk_level": "x"}).status_code == 200


def test_a_county_under_a_high_city_shows_the_level_in_force(official_client: Client) -> None:
    Region.objects.filter(code=JIAOZUO).update(risk_level="high")

    page = official_client.get(URL, {"q": JIEFANG}).content.decode()

    row = page[page.index(f'data-region="{JIEFANG}"') :].split("</tr>")[0]
    assert "Low risk" in row and "High risk" in row and "from above" in row


def test_an_official_previews_then_sets_a_city_high_and_sees_the_history(
    official_client: Client, passes: list[Pass], django_capture_on_commit_callbacks: Any
) -> None:
    change = {"regions": [JIAOZUO], "risk_level": "high", "reason": "疫情通报", "below": "on"}

    preview = official_client.post(f"{URL}?q=4108", {**change, "action": "preview"})

    assert preview.status_code == 200
    text = preview.content.decode()
    # Nothing saved yet; the three passes from 中站区 would go green to red.
    assert Region.objects.get(code=JIAOZUO).risk_level == "low"
    assert 'data-move="green-red"' in text
    moves = text[text.index("data-moves") :]
    assert re.search(r'data-move="green-red">.*?<strong>3</strong>', moves)
    assert "3 of the 3 active passes concerned would change colour" in text
    counties = Region.objects.filter(code__startswith="4108").count()
    assert f"{counties} regions would be set to High risk" in text
    assert 'value="save"' in text

    with run_after_commit(django_capture_on_commit_callbacks):
        saved = official_client.post(
            f"{URL}?q=4108", {**change, "seen": seen(preview), "action": "save"}
        )

    assert saved.status_code == 302 and saved["Location"] == f"{URL}?q=4108"
    assert set(
        Region.objects.filter(code__startswith="4108").values_list("risk_level", flat=True)
    ) == {"high"}
    assert [p.colour for p in Pass.objects.filter(trip__origin_region_id=ZHONGZHAN)] == ["red"] * 3
    page = official_client.get(saved["Location"])
    text = page.content.decode()
    assert f"{counties} regions set to High risk" in text
    history = text[text.index("history-title") :]
    assert "值班员" in history and "河南省焦作市 (410800)" in history
    assert "<del>Low risk</del> → <ins>High risk</ins>" in history
    assert "疫情通报" in history
    assert "created" not in history  # the level kept before the first change is not a change
    # The city and its counties, set at once, are one entry naming the first few.
    assert history.count('class="history-change"') == 1
    assert "河南省焦作市 (410800)、河南省焦作市解放区 (410802)" in history
    assert f"and {counties - 5} more" in history

    # A later change of one county is an entry of its own, above.
    previewed_and_saved(
        official_client, {"regions": [JIEFANG], "risk_level": "medium", "reason": "单独调整"}
    )
    history = official_client.get(URL).content.decode().split("history-title")[-1]
    assert history.count('class="history-change"') == 2
    assert history.index("单独调整") < history.index("疫情通报")
    assert "<del>High risk</del> → <ins>Medium risk</ins>" in history


def test_a_list_of_ticked_regions_is_set(official_client: Client) -> None:
    answer = previewed_and_saved(
        official_client,
        {"regions": [JIEFANG, ZHONGZHAN], "risk_level": "medium", "reason": "两区中风险"},
    )

    assert answer.status_code == 302
    assert dict(
        Region.objects.filter(code__in=[JIAOZUO, JIEFANG, ZHONGZHAN]).values_list(
            "code", "risk_level"
        )
    ) == {JIAOZUO: "low", JIEFANG: "medium", ZHONGZHAN: "medium"}


def test_saving_without_a_preview_is_refused(official_client: Client) -> None:
    body = {"regions": [JIEFANG], "risk_level": "high", "reason": "通报", "action": "save"}

    answer = official_client.post(URL, body)

    assert answer.status_code == 400
    assert "Preview the change before saving it." in answer.content.decode()
    assert Region.objects.get(code=JIEFANG).risk_level == "low"


def test_a_region_changed_after_the_preview_is_previewed_again(
    official_client: Client, passes: list[Pass]
) -> None:
    body = {"regions": [JIAOZUO], "risk_level": "high", "reason": "通报", "below": "on"}
    preview = official_client.post(URL, {**body, "action": "preview"})
    # Another official sets one of its counties high meanwhile.
    services.regions_set_risk(
        actor=UserFactory(role="official"), codes=[ZHONGZHAN], risk_level="high", reason="先行"
    )

    answer = official_client.post(URL, {**body, "seen": seen(preview), "action": "save"})

    assert answer.status_code == 409
    text = answer.content.decode()
    assert "changed by someone else after your preview" in text
    # The preview again, against the levels now: 中站区 is high already.
    counties = Region.objects.filter(code__startswith="4108").count()
    assert f"{counties} regions would be set to High risk" in preview.content.decode()
    assert f"{counties - 1} regions would be set to High risk" in text
    assert "1 region chosen is already at that level." in text
    assert Region.objects.get(code=JIAOZUO).risk_level == "low"
    assert (
        official_client.post(URL, {**body, "seen": seen(answer), "action": "save"}).status_code
        == 302
    )
    assert Region.objects.get(code=JIAOZUO).risk_level == "high"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"regions": ["999999"]}, "No such region: 999999."),
        ({"regions": []}, "Choose at least one region."),
        ({"risk_level": "extreme"}, "Choose low, medium or high."),
        ({"risk_level": ""}, "Choose the new risk level."),
        ({"reason": ""}, "Enter the reason."),
        ({"reason": "长" * 101}, "The reason can have at most 100 characters"),
        ({"action": "delete"}, "Choose what to do with the regions."),
    ],
)
@pytest.mark.parametrize("action", ["preview", "save"])
def test_bad_input_is_a_400_with_its_message_and_changes_nothing(
    official_client: Client, body: dict[str, Any], words: str, action: str
) -> None:
    given = {"regions": [JIEFANG], "risk_level": "high", "reason": "通报", "action": action}

    answer = official_client.post(URL, {**given, **body})

    assert answer.status_code == 400
    assert words in answer.content.decode()
    assert Region.objects.get(code=JIEFANG).risk_level == "low"
    assert not Region.history.exists()


def test_the_refusal_is_in_chinese_by_default(official: Any) -> None:
    client = Client()
    client.force_login(official)
    answer = client.post(
        URL, {"regions": [], "risk_level": "high", "reason": "通报", "action": "save"}
    )
    assert answer.status_code == 400
    assert "请至少选择一个地区" in answer.content.decode()


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_every_other_role_is_refused(role: str, checkpoint: Any) -> None:
    client = signed_in_as(role, checkpoint)

    assert client.get(URL).status_code == 403
    body = {"regions": [JIEFANG], "risk_level": "high", "reason": "x", "action": "save"}
    assert client.post(URL, body).status_code == 403
    assert Region.objects.get(code=JIEFANG).risk_level == "low"
    anonymous = Client().get(URL)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
