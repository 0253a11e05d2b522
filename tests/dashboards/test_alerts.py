"""The alerts officials act on (``dashboards.alerts``): filtered and paged, taken on and resolved
with a note, who and when kept; a resolve without a note is refused with a 400 and changes
nothing; every other role is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from checkpoints.models import Alert
from tests.factories import (
    CheckpointFactory,
    UserFactory,
    consignee_user,
    dispatcher,
    driver_user,
    staff_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerts(regions: None) -> dict[str, Any]:
    a = CheckpointFactory(code="CP-A", name="甲站")
    b = CheckpointFactory(code="CP-B", name="乙站")
    official = UserFactory(role="official", username="duty", first_name="值班员")
    made = {
        "red": Alert.objects.create(kind="red_code", key="red_code:1", checkpoint=a),
        "forged": Alert.objects.create(kind="forged", key="forged:1", checkpoint=b),
        "old": Alert.objects.create(
            kind="red_code",
            key="red_code:2",
            checkpoint=a,
            raised_at=timezone.now() - timedelta(days=3),
        ),
        "done": Alert.objects.create(
            kind="forged",
            key="forged:2",
            checkpoint=a,
            resolved_at=timezone.now(),
            resolved_by=official,
            note="已核实",
        ),
    }
    client = Client()
    client.force_login(official)
    return {"client": client, "official": official, **made}


def shown(answer: Any) -> list[int]:
    text = answer.content.decode()
    return sorted(
        pk for pk in Alert.objects.values_list("pk", flat=True) if f'data-alert="{pk}"' in text
    )


def test_open_alerts_are_listed_and_filtered(alerts: dict[str, Any]) -> None:
    client = alerts["client"]
    open_ = client.get("/dashboard/alerts/")
    assert open_.status_code == 200
    assert shown(open_) == sorted([alerts["red"].pk, alerts["forged"].pk, alerts["old"].pk])
    assert shown(client.get("/dashboard/alerts/", {"kind": "forged"})) == [alerts["forged"].pk]
    assert shown(client.get("/dashboard/alerts/", {"checkpoint": "CP-A"})) == sorted(
        [alerts["red"].pk, alerts["old"].pk]
    )
    day = (timezone.localtime() - timedelta(days=3)).date().isoformat()
    assert shown(client.get("/dashboard/alerts/", {"day": day})) == [alerts["old"].pk]
    assert shown(client.get("/dashboard/alerts/", {"state": "resolved"})) == [alerts["done"].pk]
    assert len(shown(client.get("/dashboard/alerts/", {"state": "all"}))) == 4
    # Nonsense in a filter is ignored, not an error.
    assert client.get("/dashboard/alerts/", {"day": "soon", "kind": "x"}).status_code == 200


def test_an_alert_is_taken_on_then_resolved_with_who_and_when(alerts: dict[str, Any]) -> None:
    client, red = alerts["client"], alerts["red"]
    taken = client.post(
        "/dashboard/alerts/?kind=red_code", {"alert": red.pk, "action": "acknowledge"}
    )
    assert taken.status_code == 302 and taken["Location"] == "/dashboard/alerts/?kind=red_code"
    red.refresh_from_db()
    assert red.acknowledged_by == alerts["official"] and red.acknowledged_at is not None
    assert red.resolved_at is None
    page = client.get("/dashboard/alerts/", {"state": "acknowledged"}, HTTP_ACCEPT_LANGUAGE="en")
    assert shown(page) == [red.pk]
    assert "Taken on by 值班员" in page.content.decode()

    client.post("/dashboard/alerts/", {"alert": red.pk, "action": "resolve", "note": "已劝返"})
    red.refresh_from_db()
    assert (red.resolved_by, red.note) == (alerts["official"], "已劝返")
    assert red.resolved_at is not None and red.acknowledged_at <= red.resolved_at
    # Taken on again by someone else later: who took it on first stays named.
    other = UserFactory(role="official")
    again = Client()
    again.force_login(other)
    again.post("/dashboard/alerts/", {"alert": red.pk, "action": "acknowledge"})
    red.refresh_from_db()
    assert red.acknowledged_by == alerts["official"]


def test_a_resolve_without_a_note_is_refused_and_changes_nothing(alerts: dict[str, Any]) -> None:
    client, forged = alerts["client"], alerts["forged"]
    refusals = (("en", "Write what was done"), ("zh-hans", "请填写处理情况后再办结告警"))
    for language, words in refusals:
        answer = client.post(
            "/dashboard/alerts/",
            {"alert": forged.pk, "action": "resolve", "note": "  "},
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert answer.status_code == 400
        assert words in answer.content.decode()
    forged.refresh_from_db()
    assert forged.resolved_at is None
    assert (
        client.post("/dashboard/alerts/", {"alert": "999999", "action": "resolve"}).status_code
        == 404
    )
    assert client.post("/dashboard/alerts/", {"alert": forged.pk, "action": "x"}).status_code == 400


@pytest.mark.parametrize("role", ["driver", "dispatcher", "consignee", "staff"])
def test_every_other_role_is_refused(alerts: dict[str, Any], role: str) -> None:
    site = alerts["red"].checkpoint
    user = {
        "driver": driver_user,
        "dispatcher": dispatcher,
        "consignee": consignee_user,
        "staff": lambda: staff_user(site),
    }[role]()
    client = Client()
    client.force_login(user)
    assert client.get("/dashboard/alerts/").status_code == 403
    answer = client.post(
        "/dashboard/alerts/", {"alert": alerts["red"].pk, "action": "resolve", "note": "x"}
    )
    assert answer.status_code == 403
    alerts["red"].refresh_from_db()
    assert alerts["red"].resolved_at is None
    assert Client().get("/dashboard/alerts/").status_code == 302  # anonymous: sign in first
