"""The policy, the officials' page (``dashboards:policy``): the version in force with every
setting's label and help text; the next version previewed (how many active passes would change
colour) and then published, which regrades every active pass; the versions with who, when, why
and the settings each changed; a version published meanwhile caught before anything is
overwritten; bad input a 400 with its message; every other role refused."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.dashboards.conftest import OTHER_ROLES, signed_in_as
from tests.factories import UserFactory, staff_user
from tests.lifecycle import bulk_passes, run_after_commit
from trucks import services
from trucks.models import Pass, Policy

pytestmark = pytest.mark.django_db

URL = "/dashboard/policy/"


@pytest.fixture
def passes(checkpoint: Any) -> dict[str, list[Pass]]:
    """Four green passes tested 10 h before arrival, two yellow ones tested 60 h before."""
    now = timezone.now()
    window = {"valid_from": now - timedelta(hours=1), "valid_until": now + timedelta(days=1)}
    arrival = window["valid_from"] + timedelta(hours=2)
    return {
        "fresh": bulk_passes(4, checkpoint=checkpoint, **window),
        "stale": bulk_passes(
            2,
            checkpoint=checkpoint,
            test_sampled_at=arrival - timedelta(hours=60),
            colour="yellow",
            reasons=[{"code": "test_stale"}],
            **window,
        ),
    }


def the_form(policy: Policy, **changes: Any) -> dict[str, Any]:
    """What the page's form posts: every setting as it stands, with ``changes``."""
    body: dict[str, Any] = {}
    for name in services.POLICY_FIELDS:
        if name == "note":
            continue
        value = getattr(policy, name)
        if isinstance(value, bool):
            if value:
                body[name] = "on"
        else:
            body[name] = value
    body.update(changes)
    return body


def test_the_url_is_named() -> None:
    assert reverse("dashboards:policy") == URL


def test_it_shows_the_policy_in_force_with_labels_and_help(official_client: Client) -> None:
    page = official_client.get(URL)

    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-version="1"' in text
    assert "test valid for (hours)" in text
    assert "A negative test sampled longer than this before arrival makes it yellow." in text
    # The form starts from the settings in force.
    assert re.search(r'name="test_max_age_hours" value="48"', text)


def test_an_official_previews_then_publishes_and_passes_are_regraded(
    official_client: Client, official: Any, passes: Any, django_capture_on_commit_callbacks: Any
) -> None:
    body = the_form(services.policy_current(), test_max_age_hours=72, note="检测 72 小时有效")

    preview = official_client.post(URL, {**body, "action": "preview"})

    assert preview.status_code == 200
    text = preview.content.decode()
    assert "2 of the 6 active passes concerned would change colour" in text
    assert re.search(r'data-move="yellow-green">.*?<strong>2</strong>', text)
    assert "<del>48</del> → <ins>72</ins>" in text
    assert 'name="based_on" value="1"' in text
    assert Policy.objects.count() == 1  # nothing published yet

    with run_after_commit(django_capture_on_commit_callbacks):
        published = official_client.post(URL, {**body, "based_on": "1", "action": "publish"})

    assert published.status_code == 302 and published["Location"] == URL
    policy = services.policy_current()
    assert (policy.version, policy.test_max_age_hours, policy.created_by) == (2, 72, official)
    assert policy.note == "检测 72 小时有效"
    assert {p.colour for p in Pass.objects.all()} == {"green"}
    assert {p.policy_version for p in Pass.objects.all()} == {2}
    page = official_client.get(URL).content.decode()
    assert "Version 2 is in force" in page
    history = page[page.index("history-title") :]
    assert "Version 2" in history and "值班员" in history and "检测 72 小时有效" in history
    assert "<dt>test valid for (hours)</dt><dd><del>48</del> → <ins>72</ins></dd>" in history
    # Only what changed is listed for the version.
    version_2 = history[history.index("Version 2") : history.index("Version 1")]
    assert version_2.count("<dt>") == 1


def test_a_version_published_after_the_preview_is_caught(
    official_client: Client, official: Any, passes: Any
) -> None:
    body = the_form(services.policy_current(), test_max_age_hours=72, note="甲")
    official_client.post(URL, {**body, "action": "preview"})
    services.policy_publish(actor=UserFactory(role="official"), red_risk_level="medium", note="乙")

    answer = official_client.post(URL, {**body, "based_on": "1", "action": "publish"})

    assert answer.status_code == 409
    assert "Version 2 was published after your preview" in answer.content.decode()
    assert services.policy_current().version == 2
    assert services.policy_current().test_max_age_hours == 48
    # Previewed again against version 2, it publishes version 3 with the other's change kept.
    body = the_form(services.policy_current(), test_max_age_hours=72, note="甲")
    again = official_client.post(URL, {**body, "action": "preview"})
    assert 'name="based_on" value="2"' in again.content.decode()
    official_client.post(URL, {**body, "based_on": "2", "action": "publish"})
    policy = services.policy_current()
    assert (policy.version, policy.test_max_age_hours, policy.red_risk_level) == (3, 72, "medium")


def test_a_race_at_the_same_instant_is_a_409_too(official_client: Client, monkeypatch: Any) -> None:
    body = the_form(services.policy_current(), test_max_age_hours=72, note="甲")
    # Another official's version 2 commits between this request's check and its own insert.
    Policy.objects.create(version=2, note="乙")
    seen_before = lambda: Policy.objects.get(version=1)  # noqa: E731
    monkeypatch.setattr(services, "policy_current", seen_before)
    monkeypatch.setattr(services.policy, "policy_current", seen_before)

    answer = official_client.post(URL, {**body, "based_on": "1", "action": "publish"})

    assert answer.status_code == 409
    assert "Another version was published at the same time" in answer.content.decode()
    assert Policy.objects.count() == 2


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"test_max_age_hours": "-1"}, "The test valid for (hours) must be at least 0."),
        ({"test_max_age_hours": "soon"}, "The test valid for (hours) is not valid."),
        ({"red_risk_level": "extreme"}, "The red from risk level is not one of the choices."),
        ({"max_advance_days": "0"}, "The registration horizon (days) must be at least 1."),
        (
            {"offline_max_age_minutes": "0"},
            "The offline data is old after (minutes) must be at least 1.",
        ),
        (
            {"offline_max_age_minutes": "1441"},
            "The offline data is old after (minutes) can be at most 1440.",
        ),
        ({"note": ""}, "Enter the note."),
        ({}, "Change at least one setting"),
        ({"action": "delete"}, "Choose to preview or to publish."),
    ],
)
@pytest.mark.parametrize("action", ["preview", "publish"])
def test_bad_input_is_a_400_with_its_message_and_publishes_nothing(
    official_client: Client, passes: Any, changes: dict[str, Any], words: str, action: str
) -> None:
    body = {**the_form(services.policy_current(), note="原因"), "based_on": "1", "action": action}
    if changes and "note" not in changes and "action" not in changes:
        body["window_after_hours"] = 3  # something changed besides the fault
    body.update(changes)

    answer = official_client.post(URL, body)

    assert answer.status_code == 400
    assert words in answer.content.decode()
    assert Policy.objects.count() == 1
    assert {p.policy_version for p in Pass.objects.all()} == {1}


def test_publishing_without_a_preview_is_refused(official_client: Client) -> None:
    body = the_form(services.policy_current(), test_max_age_hours=72, note="甲")

    answer = official_client.post(URL, {**body, "action": "publish"})

    assert answer.status_code == 400
    assert "Preview the new version before publishing it." in answer.content.decode()
    assert Policy.objects.count() == 1


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_every_other_role_is_refused(role: str, checkpoint: Any) -> None:
    client = signed_in_as(role, checkpoint)

    assert client.get(URL).status_code == 403
    body = {
        **the_form(services.policy_current(), test_max_age_hours=1, note="x"),
        "based_on": "1",
        "action": "publish",
    }
    assert client.post(URL, body).status_code == 403
    assert Policy.objects.count() == 1
    anonymous = Client().get(URL)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_the_age_of_offline_data_is_published_and_reaches_the_tablets(
    official_client: Client, checkpoint: Any, django_capture_on_commit_callbacks: Any
) -> None:
    page = official_client.get(URL).content.decode()
    assert re.search(r'name="offline_max_age_minutes" value="15"', page)
    assert "A checkpoint tablet scanning without a connection warns staff" in page
    body = the_form(services.policy_current(), offline_max_age_minutes=30, note="山区信号差")

    official_client.post(URL, {**body, "action": "preview"})
    with run_after_commit(django_capture_on_commit_callbacks):
        published = official_client.post(URL, {**body, "based_on": "1", "action": "publish"})

    assert published.status_code == 302
    assert services.policy_current().offline_max_age_minutes == 30
    history = official_client.get(URL).content.decode()
    change = "<dt>offline data is old after (minutes)</dt><dd><del>15</del> → <ins>30</ins>"
    assert change in history
    tablet = Client()
    tablet.force_login(staff_user(checkpoint))
    bundle = tablet.get(f"/api/v1/checkpoints/{checkpoint.code}/bundle/").json()
    assert bundle["policy"]["offline_max_age_minutes"] == 30
