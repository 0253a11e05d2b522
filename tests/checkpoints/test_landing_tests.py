"""Landing tests (落地核酸): staff mark a sample taken at the scan
(POST .../scans/{id}/landing-test/), enter its result later (.../landing-test-result/), and the
result regrades the trip's pass at once."""

from __future__ import annotations

from typing import Any

import pytest

from checkpoints.models import Alert, ScanEvent
from tests.checkpoints.scanning import active_pass, open_trip, scan, token_of
from trucks.models import Trip

pytestmark = pytest.mark.django_db


def sample(client: Any, checkpoint: Any, pk: int) -> Any:
    return client.post(
        f"/api/v1/checkpoints/{checkpoint.code}/scans/{pk}/landing-test/",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def result(client: Any, checkpoint: Any, pk: int, value: Any) -> Any:
    return client.post(
        f"/api/v1/checkpoints/{checkpoint.code}/scans/{pk}/landing-test-result/",
        {"result": value},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


@pytest.fixture
def yellow(dispatcher: Any, checkpoint: Any) -> Trip:
    """A trip registered without a test result: yellow, admitted with a landing test."""
    return open_trip(dispatcher, checkpoint, test_result="none", test_sampled_at=None)


@pytest.fixture
def yellow_scan(staff_client: Any, checkpoint: Any, yellow: Trip) -> int:
    r = scan(staff_client, checkpoint, token_of(yellow))
    assert r.json()["reason"] == "test_required"
    pk: int = r.json()["id"]
    return pk


def test_staff_mark_a_sample_taken(
    staff_client: Any, checkpoint: Any, yellow: Trip, yellow_scan: int
) -> None:
    r = sample(staff_client, checkpoint, yellow_scan)

    assert r.status_code == 200, r.json()
    assert r.json()["id"] == yellow_scan
    assert r.json()["landing_test"] == "sampled"
    assert (r.json()["verdict"], r.json()["reason"]) == ("admit_with_test", "test_required")
    row = ScanEvent.objects.get(pk=yellow_scan)
    assert row.landing_test == "sampled"
    assert row.landing_test_sampled_at is not None
    # Nothing is known yet: the pass stays yellow.
    assert active_pass(yellow).colour == "yellow"


def test_marking_twice_keeps_the_first_sample_time(
    staff_client: Any, checkpoint: Any, yellow_scan: int
) -> None:
    sample(staff_client, checkpoint, yellow_scan)
    first = ScanEvent.objects.get(pk=yellow_scan).landing_test_sampled_at

    r = sample(staff_client, checkpoint, yellow_scan)

    assert r.status_code == 200
    assert ScanEvent.objects.get(pk=yellow_scan).landing_test_sampled_at == first


def test_a_negative_result_turns_a_yellow_pass_green_at_once(
    staff_client: Any, checkpoint: Any, yellow: Trip, yellow_scan: int
) -> None:
    sample(staff_client, checkpoint, yellow_scan)

    r = result(staff_client, checkpoint, yellow_scan, "negative")

    assert r.status_code == 200, r.json()
    assert r.json()["landing_test"] == "negative"
    assert r.json()["pass"]["colour"] == "green"
    assert r.json()["pass"]["colour_reasons"] == []
    pass_ = active_pass(yellow)
    assert (pass_.colour, pass_.reasons) == ("green", [])
    row = ScanEvent.objects.get(pk=yellow_scan)
    assert row.landing_test_result_at is not None
    yellow.refresh_from_db()
    assert (yellow.test_result, yellow.test_sampled_at) == ("negative", row.landing_test_sampled_at)
    assert yellow.status == "inside"
    assert not Alert.objects.exists()


def test_a_positive_result_turns_the_pass_red_and_raises_one_alert(
    staff_client: Any, checkpoint: Any, yellow: Trip, yellow_scan: int
) -> None:
    sample(staff_client, checkpoint, yellow_scan)

    r = result(staff_client, checkpoint, yellow_scan, "positive")
    again = result(staff_client, checkpoint, yellow_scan, "positive")

    assert r.status_code == again.status_code == 200
    assert r.json()["landing_test"] == "positive"
    assert r.json()["pass"]["colour"] == "red"
    assert r.json()["pass"]["colour_reasons"] == ["positive_test"]
    assert active_pass(yellow).colour == "red"
    yellow.refresh_from_db()
    assert yellow.test_result == "positive"
    alert = Alert.objects.get()
    assert (alert.kind, alert.trip, alert.checkpoint, alert.scan_id) == (
        "positive_landing_test",
        yellow,
        checkpoint,
        yellow_scan,
    )


def test_the_red_pass_is_then_refused_on_a_new_entry(
    staff_client: Any, checkpoint: Any, yellow: Trip, yellow_scan: int
) -> None:
    sample(staff_client, checkpoint, yellow_scan)
    result(staff_client, checkpoint, yellow_scan, "positive")
    token = token_of(yellow)
    scan(staff_client, checkpoint, token, "out")

    r = scan(staff_client, checkpoint, token)

    assert r.json()["verdict"] == "refuse"


def test_a_result_needs_a_sample_first(
    staff_client: Any, checkpoint: Any, yellow: Trip, yellow_scan: int
) -> None:
    r = result(staff_client, checkpoint, yellow_scan, "negative")

    assert r.status_code == 409
    assert r.json()["code"] == "not_sampled"
    assert ScanEvent.objects.get(pk=yellow_scan).landing_test == ""
    assert active_pass(yellow).colour == "yellow"


@pytest.mark.parametrize("value", ["", "sampled", "maybe", None, 1])
def test_a_result_is_negative_or_positive(
    staff_client: Any, checkpoint: Any, yellow: Trip, yellow_scan: int, value: Any
) -> None:
    sample(staff_client, checkpoint, yellow_scan)

    r = result(staff_client, checkpoint, yellow_scan, value)

    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert list(r.json()["fields"]) == ["result"]
    assert ScanEvent.objects.get(pk=yellow_scan).landing_test == "sampled"
    assert active_pass(yellow).colour == "yellow"


def test_a_scan_without_a_trip_carries_no_landing_test(staff_client: Any, checkpoint: Any) -> None:
    pk = scan(staff_client, checkpoint, "garbage").json()["id"]

    r = sample(staff_client, checkpoint, pk)

    assert r.status_code == 409
    assert r.json()["code"] == "no_trip"
    assert ScanEvent.objects.get(pk=pk).landing_test == ""
