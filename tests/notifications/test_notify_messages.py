"""Notification texts: every template renders in Chinese and English, messages to drivers end
with the pass link, times are shown in the site's time zone, and a template that cannot be
rendered is a MessageError (which the sender turns into a failed row, not a crash)."""

from __future__ import annotations

from typing import Any

import pytest

from notifications import messages

LINK = "https://passcode.example.org/p/signed-token/"

CONTEXTS: dict[str, dict[str, Any]] = {
    "pass_issued": {
        "reference": "JZ-20261123-000123",
        "plate": "豫H52K07",
        "colour": "green",
        "link": LINK,
    },
    "driver_assigned": {
        "reference": "JZ-20261123-000123",
        "plate": "豫H52K07",
        "colour": "green",
        "valid_from": "2026-11-23T06:00:00+00:00",
        "link": LINK,
    },
    "driver_released": {
        "reference": "JZ-20261123-000123",
        "plate": "豫H52K07",
        "arrival": "2026-11-23T08:00:00+00:00",
    },
    "pass_regraded": {
        "reference": "JZ-20261123-000123",
        "plate": "豫H52K07",
        "colour": "yellow",
        "reasons": "Origin 江苏省徐州市 is a medium-risk region.",
        "link": LINK,
    },
    "remind_window": {
        "reference": "JZ-20261123-000123",
        "plate": "豫H52K07",
        "valid_from": "2026-11-23T06:00:00+00:00",
        "checkpoint": "二广高速焦作北站",
        "link": LINK,
    },
    "remind_test": {
        "reference": "JZ-20261123-000123",
        "plate": "豫H52K07",
        "arrival": "2026-11-23T08:00:00+00:00",
        "hours": 48,
        "link": LINK,
    },
    "remind_expiry": {
        "reference": "JZ-20261123-000123",
        "plate": "豫H52K07",
        "valid_until": "2026-11-24T08:00:00+00:00",
        "link": LINK,
    },
    "overdue_arrival": {
        "reference": "JZ-20261123-000123",
        "plate": "豫H52K07",
        "entered_at": "2026-11-23T08:00:00+00:00",
        "consignee": "焦作市某物流园",
    },
    "overdue_exit": {
        "reference": "JZ-20261123-000123",
        "plate": "豫H52K07",
        "planned_departure": "2026-11-24T08:00:00+00:00",
    },
    "series_registered": {
        "count": 5,
        "reference": "JZ-20261123-000123",
        "plate": "豫H52K07",
        "first_date": "2026-11-24",
        "last_date": "2026-11-28",
        "link": LINK,
    },
    "series_cancelled": {
        "count": 3,
        "reference": "JZ-20261123-000123",
        "plate": "豫H52K07",
        "first_date": "2026-11-24",
        "last_date": "2026-11-26",
    },
}
# Those about a pass to show end with its link (a cancelled series has none left to show).
TO_DRIVERS = {
    "driver_assigned",
    "pass_issued",
    "pass_regraded",
    "remind_window",
    "remind_test",
    "remind_expiry",
    "series_registered",
}


def test_every_template_has_a_context_here() -> None:
    assert set(CONTEXTS) == set(messages.TEMPLATES)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_every_template_renders(template: str, language: str) -> None:
    rendered = messages.render(template, CONTEXTS[template], language)
    for text in (rendered.sms, rendered.subject, rendered.body):
        assert text.strip()
        assert "%(" not in text
    assert "JZ-20261123-000123" in rendered.sms
    assert "豫H52K07" in rendered.sms
    assert "\n" not in rendered.subject


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("template", sorted(TO_DRIVERS))
def test_messages_to_drivers_end_with_the_pass_link(template: str, language: str) -> None:
    rendered = messages.render(template, CONTEXTS[template], language)
    assert rendered.sms.rstrip().endswith(LINK)
    assert rendered.body.rstrip().endswith(LINK)


def test_the_colour_is_named_in_the_recipients_language() -> None:
    zh = messages.render("pass_issued", CONTEXTS["pass_issued"], "zh-hans")
    en = messages.render("pass_issued", CONTEXTS["pass_issued"], "en")
    assert "绿码" in zh.sms
    assert "Green" in en.sms
    assert "green" not in zh.sms.replace(LINK, "")


def test_times_are_shown_in_the_site_time_zone() -> None:
    # 06:00 UTC is 14:00 in Asia/Shanghai.
    rendered = messages.render("remind_window", CONTEXTS["remind_window"], "en")
    assert "2026-11-23 14:00" in rendered.sms
    assert "+00:00" not in rendered.sms


def test_the_reasons_and_the_advice_reach_the_driver() -> None:
    regraded = messages.render("pass_regraded", CONTEXTS["pass_regraded"], "en")
    assert "medium-risk" in regraded.sms
    stale = messages.render("remind_test", CONTEXTS["remind_test"], "en")
    assert "Upload a new negative result" in stale.sms
    assert "48" in stale.sms


def test_an_unknown_template_is_a_message_error() -> None:
    with pytest.raises(messages.MessageError, match="unknown template 'no_such'"):
        messages.render("no_such", {}, "en")


def test_a_missing_context_key_is_a_message_error() -> None:
    context = dict(CONTEXTS["pass_issued"])
    del context["link"]
    with pytest.raises(messages.MessageError, match="needs 'link'"):
        messages.render("pass_issued", context, "zh-hans")


def test_the_language_of_the_caller_is_left_alone() -> None:
    from django.utils import translation

    with translation.override("en"):
        messages.render("pass_issued", CONTEXTS["pass_issued"], "zh-hans")
        assert translation.get_language() == "en"


def test_officials_read_a_label_for_each_template() -> None:
    assert messages.template_label("overdue_exit") != "overdue_exit"
    assert messages.template_label("no_such") == "no_such"


def test_the_driver_released_is_sent_no_link() -> None:
    rendered = messages.render("driver_released", CONTEXTS["driver_released"], "en")
    assert "no longer works" in rendered.sms
    assert "2026-11-23 16:00" in rendered.sms
    assert "http" not in rendered.sms + rendered.body
