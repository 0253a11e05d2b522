"""GET /api/v1/checkpoints/{code}/scans/: the staff member's latest scans, each as a scan answers
it, persons expected included."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.checkpoints.scanning import open_trip, scan, scan_url, token_of
from tests.factories import CheckpointFactory, driver_user, staff_user, valid_id_number
from trucks.services import PersonData

pytestmark = pytest.mark.django_db


def co_riders(count: int) -> list[PersonData]:
    return [PersonData(f"随车{i}", valid_id_number(), f"1380000000{i}") for i in range(count)]


def test_it_lists_the_scans_with_the_persons_expected(
    dispatcher: User, checkpoint: Any, staff_client: Any
) -> None:
    alone = open_trip(dispatcher, checkpoint)
    crew = open_trip(dispatcher, checkpoint, co_riders=co_riders(2))
    answers = [scan(staff_client, checkpoint, token_of(t)).json() for t in (alone, crew)]
    scan(staff_client, checkpoint, "NOT-A-TOKEN")

    r = staff_client.get(scan_url(checkpoint), HTTP_ACCEPT_LANGUAGE="en")

    assert r.status_code == 200
    listed = r.json()
    assert [s["trip"] and s["trip"]["persons_expected"] for s in listed] == [None, 3, 1]
    # Each entry is the scan's own answer.
    assert listed[1:] == answers[::-1]


def test_it_reads_co_riders_in_one_query(
    dispatcher: User, checkpoint: Any, staff_client: Any, django_assert_num_queries: Any
) -> None:
    for n in range(3):
        scan(
            staff_client,
            checkpoint,
            token_of(open_trip(dispatcher, checkpoint, co_riders=co_riders(n))),
        )

    # The assignment check, the scans with their trips and passes, all their co-riders, and the
    # whitelist's priority-lane entries (read once for the list; a server keeps them a few
    # seconds, HOT_CACHE_SECONDS, which the test settings turn off).
    with django_assert_num_queries(4):
        r = staff_client.get(scan_url(checkpoint))

    assert [s["trip"]["persons_expected"] for s in r.json()] == [3, 2, 1]


@pytest.mark.parametrize("who", ["other_staff", "driver"])
def test_it_is_refused_to_anyone_not_assigned(api_client: Any, checkpoint: Any, who: str) -> None:
    user = staff_user(CheckpointFactory()) if who == "other_staff" else driver_user()
    api_client.force_authenticate(user)

    r = api_client.get(scan_url(checkpoint))

    assert r.status_code == 403
    assert r.json()["code"] == "not_assigned"
