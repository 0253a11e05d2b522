"""The whitelist page (``dashboards.whitelist``): entries listed by state and found by company,
those about to expire in a section of their own; an entry added, changed and revoked with a
reason, each change in its history with who, when, before and after; bad input refused with a
400 that changes nothing; every role but officials and administrators refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import (
    CheckpointFactory,
    CompanyFactory,
    UserFactory,
    consignee_user,
    dispatcher,
    driver_user,
    staff_user,
)
from trucks.models import WhitelistEntry

pytestmark = pytest.mark.django_db

URL = "/dashboard/whitelist/"
NEW = "/dashboard/whitelist/new/"


def local(hours: float) -> str:
    """A time ``hours`` from now as the page's datetime-local control sends it."""
    return (timezone.localtime() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def entry(company: Any, **fields: Any) -> WhitelistEntry:
    values: dict[str, Any] = {
        "valid_from": timezone.now() - timedelta(days=1),
        "reason": "保供企业",
        "created_at": timezone.now(),
    }
    values.update(fields)
    return WhitelistEntry.objects.create(company=company, **values)


@pytest.fixture
def official() -> Any:
    return UserFactory(role="official", username="duty", first_name="值班员")


@pytest.fixture
def client(official: Any) -> Client:
    client = Client()
    client.force_login(official)
    return client


def listed(answer: Any) -> list[int]:
    text = answer.content.decode()
    return sorted(
        pk
        for pk in WhitelistEntry.objects.values_list("pk", flat=True)
        if f'data-entry="{pk}"' in text
    )


def test_entries_are_listed_by_state_and_found_by_company(client: Client) -> None:
    now = timezone.now()
    fresh = entry(CompanyFactory(name="豫北保供"), valid_until=now + timedelta(days=60))
    soon = entry(CompanyFactory(name="城东冷链"), valid_until=now + timedelta(days=3))
    ahead = entry(CompanyFactory(name="城西配送"), valid_from=now + timedelta(days=2))
    over = entry(CompanyFactory(name="旧保供"), valid_until=now - timedelta(hours=1))
    gone = entry(CompanyFactory(name="撤销公司"), revoked_at=now, revoke_reason="违规")

    page = client.get(URL)
    assert page.status_code == 200
    assert listed(page) == sorted([fresh.pk, soon.pk, ahead.pk])
    # The one about to expire heads the page, in its own section.
    text = page.content.decode()
    assert text.index(f'data-entry="{soon.pk}"') < text.index(f'data-entry="{fresh.pk}"')
    assert text.count(f'data-entry="{soon.pk}"') == 1
    assert listed(client.get(URL, {"state": "expiring"})) == [soon.pk]
    assert listed(client.get(URL, {"state": "expired"})) == [over.pk]
    assert listed(client.get(URL, {"state": "revoked"})) == [gone.pk]
    assert len(listed(client.get(URL, {"state": "all"}))) == 5
    assert listed(client.get(URL, {"q": "冷链"})) == [soon.pk]
    assert client.get(URL, {"state": "nonsense", "page": "x"}).status_code == 200


def test_an_official_adds_an_entry_with_its_scope(client: Client, official: Any) -> None:
    company = CompanyFactory(name="豫北保供")

    answer = client.post(
        NEW,
        {
            "company": company.pk,
            "plates": "豫hb·6620\n豫H12345, 豫HB6620",
            "cargo_categories": ["medical", "daily_necessities"],
            "valid_from": local(-1),
            "valid_until": local(24 * 30),
            "priority_lane": "on",
            "reason": "保供企业（第3批）",
        },
    )

    made = WhitelistEntry.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"{URL}{made.pk}/"
    assert made.plates == ["豫HB6620", "豫H12345"]
    assert made.cargo_categories == ["daily_necessities", "medical"]
    assert (made.priority_lane, made.created_by, made.company) == (True, official, company)
    page = client.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert "History of changes" in page.content.decode()
    assert "值班员" in page.content.decode()


def test_the_company_is_found_by_search(client: Client) -> None:
    CompanyFactory(name="豫北保供物资配送")
    CompanyFactory(name="城东冷链")

    text = client.get(NEW, {"company_q": "保供"}).content.decode()

    assert "豫北保供物资配送" in text and "城东冷链" not in text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"company": ""}, "company"),
        ({"company": "999999"}, "company"),
        ({"plates": "豫H1234"}, "plates"),
        ({"cargo_categories": ["gold"]}, "cargo_categories"),
        ({"valid_until": local(-2)}, "valid_until"),
        ({"valid_from": "soon"}, "valid_from"),
        ({"reason": " "}, "reason"),
    ],
)
def test_bad_input_is_refused_with_its_message_and_changes_nothing(
    client: Client, change: dict[str, Any], field: str
) -> None:
    company = CompanyFactory()
    data = {"company": company.pk, "valid_from": local(0), "reason": "保供企业", **change}

    answer = client.post(NEW, data, HTTP_ACCEPT_LANGUAGE="en")

    assert answer.status_code == 400
    form = answer.context["form"]
    assert field in form.errors, form.errors
    assert WhitelistEntry.objects.count() == 0


def test_an_entry_is_changed_and_its_history_shows_before_and_after(
    client: Client, official: Any
) -> None:
    made = entry(CompanyFactory(), cargo_categories=["medical"])
    url = f"{URL}{made.pk}/"

    answer = client.post(
        url,
        {
            "action": "save",
            "plates": "豫HB6620",
            "cargo_categories": ["medical", "cold_chain"],
            "valid_from": timezone.localtime(made.valid_from).strftime("%Y-%m-%dT%H:%M"),
            "valid_until": local(48),
            "priority_lane": "on",
            "reason": "保供企业",
        },
    )

    assert answer.status_code == 302
    made.refresh_from_db()
    assert (made.plates, made.priority_lane) == (["豫HB6620"], True)
    latest = made.history.order_by("-history_date", "-history_id").first()
    assert latest is not None and latest.history_user == official
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # The history in words: the categories' labels, before → after.
    assert "<del>Medical and epidemic-prevention supplies</del>" in page
    assert "Cold-chain goods" in page and "豫HB6620" in page


def test_a_bad_change_is_refused_and_changes_nothing(client: Client) -> None:
    made = entry(CompanyFactory(), plates=["豫HB6620"])

    answer = client.post(
        f"{URL}{made.pk}/",
        {"action": "save", "plates": "not a plate", "valid_from": local(0), "reason": "x"},
    )

    assert answer.status_code == 400
    made.refresh_from_db()
    assert made.plates == ["豫HB6620"] and made.history.count() == 1  # its creation only


def test_an_entry_is_revoked_with_a_reason(client: Client, official: Any) -> None:
    made = entry(CompanyFactory())
    url = f"{URL}{made.pk}/"

    refused = client.post(url, {"action": "revoke", "revoke_reason": "  "})
    assert refused.status_code == 400
    made.refresh_from_db()
    assert made.revoked_at is None

    assert client.post(url, {"action": "revoke", "revoke_reason": "企业违规"}).status_code == 302
    made.refresh_from_db()
    assert (made.revoked_by, made.revoke_reason) == (official, "企业违规")
    assert made.revoked_at is not None
    # Revoked: it cannot be changed or revoked again.
    again = client.post(url, {"action": "revoke", "revoke_reason": "再次"})
    assert again.status_code == 409
    changed = client.post(url, {"action": "save", "valid_from": local(0), "reason": "改"})
    assert changed.status_code == 409
    made.refresh_from_db()
    assert (made.revoke_reason, made.reason) == ("企业违规", "保供企业")


def test_a_missing_entry_is_404(client: Client) -> None:
    assert client.get(f"{URL}999999/").status_code == 404


@pytest.mark.parametrize("role", ["staff", "driver", "dispatcher", "consignee"])
@pytest.mark.parametrize("path", [URL, NEW, "entry"])
def test_every_other_role_is_refused(regions: None, role: str, path: str) -> None:
    made = entry(CompanyFactory())
    users = {
        "staff": lambda: staff_user(CheckpointFactory()),
        "driver": driver_user,
        "dispatcher": dispatcher,
        "consignee": consignee_user,
    }
    client = Client()
    client.force_login(users[role]())
    url = f"{URL}{made.pk}/" if path == "entry" else path

    assert client.get(url).status_code == 403
    if path != URL:  # the list only reads
        posted = client.post(
            url, {"action": "revoke", "revoke_reason": "x", "company": made.company_id}
        )
        assert posted.status_code == 403
    made.refresh_from_db()
    assert made.revoked_at is None and WhitelistEntry.objects.count() == 1


@pytest.mark.parametrize("path", [URL, NEW, "entry"])
def test_anonymous_users_are_sent_to_sign_in(path: str) -> None:
    made = entry(CompanyFactory())
    url = f"{URL}{made.pk}/" if path == "entry" else path

    answer = Client().get(url)

    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]


def test_an_administrator_may_manage_it(client: Client) -> None:
    admin = UserFactory(role="admin")
    other = Client()
    other.force_login(admin)

    assert other.get(URL).status_code == 200
