from __future__ import annotations

from typing import Any

import pytest

from passcode_portal.errors import DomainError
from tests.factories import make_trip
from trucks import passcode, services
from trucks.models import Pass, PassStatus, TripStatus

pytestmark = pytest.mark.django_db


def test_it_registers_a_trip_and_issues_a_green_pass(dispatcher: Any, checkpoint: Any) -> None:
    trip = make_trip(dispatcher, checkpoint)
    assert trip.status == TripStatus.REGISTERED
    assert trip.reference is not None and trip.reference.startswith("JZ-")
    pass_ = Pass.objects.get(trip=trip)
    assert pass_.status == PassStatus.ACTIVE
    assert pass_.colour == "green"
    claims = passcode.decode(services.pass_token(pass_))
    assert claims.pass_id == pass_.pk


def test_it_refuses_an_arrival_in_the_past(dispatcher: Any, checkpoint: Any) -> None:
    from tests.factories import at

    with pytest.raises(DomainError) as exc:
        make_trip(dispatcher, checkpoint, planned_arrival=at(-1), planned_departure=at(5))
    assert "planned_arrival" in exc.value.fields
