"""The registration horizon: a trip is registered at most the policy's days ahead (7 by default),
and officials change the horizon like the other policy fields."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from passcode_portal.errors import DomainError
from tests.factories import UserFactory
from tests.trucks.test_pages import errors_of, form_data
from trucks import services
from trucks.forms.common import DATETIME_LOCAL
from trucks.models import Trip

pytestmark = pytest.mark.django_db
URL = "/api/v1/trips/"


def days(n: float) -> str:
    return (timezone.now() + timedelta(days=n)).isoformat()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "The planned arrival can be at most 7 days ahead"),
        ("zh-hans", "计划到达时间最多只能在 7 天以后"),
    ],
)
def test_a_trip_beyond_the_horizon_is_refused(
    language: str, message: str, api_client: Any, dispatcher: Any, trip_payload: Any
) -> None:
    api_client.force_authenticate(dispatcher)

    r = api_client.post(
        URL,
        trip_payload(planned_arrival=days(400), planned_departure=days(401)),
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert r.status_code == 400
    assert r.json()["fields"]["planned_arrival"][0].startswith(message)
    assert not Trip.objects.exists()


def test_the_last_day_of_the_horizon_is_accepted(
    api_client: Any, dispatcher: Any, trip_payload: Any
) -> None:
    api_client.force_authenticate(dispatcher)

    inside = api_client.post(
        URL, trip_payload(planned_arrival=days(6.9), planned_departure=days(7.5)), format="json"
    )
    beyond = api_client.post(
        URL, trip_payload(planned_arrival=days(7.1), planned_departure=days(7.5)), format="json"
    )

    assert inside.status_code == 201
    assert beyond.status_code == 400


def test_officials_move_the_horizon(api_client: Any, dispatcher: Any, trip_payload: Any) -> None:

    policy = services.policy_publish(actor=UserFactory(role="official"), max_advance_days=14)
    api_client.force_authenticate(dispatcher)

    r = api_client.post(
        URL, trip_payload(planned_arrival=days(10), planned_departure=days(11)), format="json"
    )

    assert policy.max_advance_days == 14
    assert r.status_code == 201


def test_a_horizon_of_zero_days_is_not_a_policy() -> None:
    with pytest.raises(DomainError) as exc:
        services.policy_publish(actor=None, max_advance_days=0)
    assert "max_advance_days" in exc.value.fields


def test_the_form_shows_the_horizon_on_the_arrival_field(dispatcher: Any, checkpoint: Any) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(dispatcher)
    arrival = timezone.localtime(timezone.now() + timedelta(days=30))

    r = client.post(
        "/trips/new/",
        form_data(
            checkpoint,
            planned_arrival=arrival.strftime(DATETIME_LOCAL),
            planned_departure=(arrival + timedelta(hours=5)).strftime(DATETIME_LOCAL),
        ),
    )

    assert r.status_code == 400
    assert "at most 7 days ahead" in errors_of(r.content.decode(), "id_planned_arrival")
