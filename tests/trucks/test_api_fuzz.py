"""No input to POST /api/v1/trips/ gets a 500: arbitrary JSON, and valid bodies with fields
replaced by arbitrary JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

FIELDS = [
    "vehicle_plate",
    "driver",
    "co_riders",
    "origin_region",
    "travel_history",
    "destination_name",
    "destination_address",
    "consignee",
    "entry_checkpoint",
    "planned_arrival",
    "planned_departure",
    "cargo_category",
    "cargo_description",
    "test_result",
    "test_sampled_at",
    "multi_entry",
]
PERSON = ["name", "id_number", "phone"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "",
            "320412",
            "410800",
            "JZ-G55-N",
            "negative",
            "positive",
            "none",
            "豫H12345",
            "2030-01-01T08:00:00+08:00",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00+14:00",
            "2030-02-30",
            "\x00",
            "\ud800",
        ]
    )
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(FIELDS + PERSON) | st.text(max_size=8), children, max_size=5
        )
    ),
    max_leaves=20,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    whole=json_values,
    replacements=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4),
    dropped=st.sets(st.sampled_from(FIELDS), max_size=3),
    use_whole=st.booleans(),
)
def test_no_input_gets_a_500(
    api_client: Any,
    dispatcher: Any,
    trip_payload: Any,
    whole: Any,
    replacements: dict[str, Any],
    dropped: set[str],
    use_whole: bool,
) -> None:
    if use_whole:
        body = whole
    else:
        body = {k: v for k, v in trip_payload(**replacements).items() if k not in dropped}
    api_client.force_authenticate(dispatcher)

    r = api_client.post(
        "/api/v1/trips/", json.dumps(body), content_type="application/json; charset=utf-8"
    )

    assert r.status_code < 500, (body, r.content)
    if r.status_code >= 400:
        assert {"code", "detail"} <= set(r.json())
