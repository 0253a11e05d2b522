"""No input to POST /api/v1/checkpoints/{code}/scans/ gets a 500: arbitrary text and bytes as
the token are refused as ``invalid`` (or the body as a 400), and so are arbitrary JSON bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from checkpoints.models import Reason, ScanEvent, Verdict

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FIELDS = [
    "token",
    "direction",
    "plate",
    "persons",
    "scan_id",
    "scanned_at",
    "plate_mismatch_confirmed",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**130), max_value=2**130)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "",
            "in",
            "out",
            "豫H12345",
            "A" * 117,
            "2030-01-01T08:00:00+08:00",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00+14:00",
            "00000000-0000-0000-0000-000000000000",
            "\x00",
            "\ud800",
        ]
    )
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=16,
)


def post(client: Any, checkpoint: Any, body: Any) -> Any:
    # json.dumps escapes lone surrogates ("\ud800"), which a JSON body may carry.
    return client.post(
        f"/api/v1/checkpoints/{checkpoint.code}/scans/",
        json.dumps(body),
        content_type="application/json; charset=utf-8",
    )


def assert_refused_or_bad_request(r: Any, body: Any) -> None:
    assert r.status_code in (200, 201, 400), (body, r.status_code, r.content[:500])
    data = r.json()
    if r.status_code == 400:
        assert data["code"] in ("validation_error", "parse_error"), data
        return
    # A recorded refusal; 200 only when a scan_id repeats one recorded earlier in this run.
    assert (data["verdict"], data["reason"]) == ("refuse", "invalid"), (body, data)
    assert data["replayed"] is (r.status_code == 200)
    assert ScanEvent.objects.filter(pk=data["id"], reason="invalid").exists()


@FUZZ
@given(token=st.text(), direction=st.sampled_from(["in", "out"]))
@example(token="\x00", direction="in")
@example(token="\ud800" * 3, direction="in")
@example(token="ß" * 117, direction="in")  # upper-cases to 234 letters
@example(token="a" * 117, direction="out")
@example(token=" \t\n", direction="in")
@example(token="x" * 2001, direction="in")
def test_any_text_as_the_token(
    staff_client: Any, checkpoint: Any, token: str, direction: str
) -> None:
    body = {"token": token, "direction": direction}

    assert_refused_or_bad_request(post(staff_client, checkpoint, body), body)


@FUZZ
@given(raw=st.binary(max_size=300))
@example(raw=b"\x00" * 117)
@example(raw=b"\xff\xfe" + b"A" * 115)
def test_any_bytes_as_the_token(staff_client: Any, checkpoint: Any, raw: bytes) -> None:
    body = {"token": raw.decode("latin-1"), "direction": "in"}

    assert_refused_or_bad_request(post(staff_client, checkpoint, body), body)


@FUZZ
@given(
    whole=json_values,
    fields=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6),
    use_whole=st.booleans(),
)
def test_any_json_body(
    staff_client: Any, checkpoint: Any, whole: Any, fields: dict[str, Any], use_whole: bool
) -> None:
    body = whole if use_whole else {"token": "garbage", "direction": "in", **fields}

    assert_refused_or_bad_request(post(staff_client, checkpoint, body), body)


@FUZZ
@given(raw=st.binary(max_size=200))
@example(raw=b"")
@example(raw=b'{"token": "abc", "direction": "in"')
@example(raw=b'{"token": NaN, "direction": "in"}')
@example(raw=b"\xff\xfe{}")
def test_any_bytes_as_the_body(staff_client: Any, checkpoint: Any, raw: bytes) -> None:
    r = staff_client.post(
        f"/api/v1/checkpoints/{checkpoint.code}/scans/", raw, content_type="application/json"
    )

    assert_refused_or_bad_request(r, raw)


@pytest.fixture
def real_token(dispatcher: Any, checkpoint: Any) -> str:
    from tests.checkpoints.scanning import open_trip, token_of

    return token_of(open_trip(dispatcher, checkpoint))


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(FIELDS[1:]), json_values, max_size=5))
@example(fields={"plate": "ﷺ" * 16, "direction": "in"})  # NFKC makes each one 18 letters
@example(fields={"plate": "\ud800", "direction": "in"})
@example(fields={"persons": 2**70, "direction": "out"})
def test_a_real_token_with_any_other_fields(
    staff_client: Any, checkpoint: Any, real_token: str, fields: dict[str, Any]
) -> None:
    body = {"token": real_token, **fields}

    before = ScanEvent.objects.count()

    r = post(staff_client, checkpoint, body)

    assert r.status_code in (200, 201, 400, 409), (body, r.status_code, r.content[:500])
    if r.status_code == 409:
        # A plate other than the pass's, not confirmed as different: nothing is recorded.
        assert r.json()["code"] == "plate_mismatch_unconfirmed", r.json()
        assert r.json()["observed_plate"] != r.json()["registered_plate"]
        assert ScanEvent.objects.count() == before
    elif r.status_code != 400:
        assert r.json()["verdict"] in Verdict.values
        assert r.json()["reason"] in Reason.values
        assert r.json()["trip"]["plate"]
