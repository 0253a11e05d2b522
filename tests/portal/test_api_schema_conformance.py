"""Every operation of the OpenAPI schema (/api/schema/), called with inputs schemathesis derives
from the schema: no answer is a server error (5xx), and every answer whose status the schema
documents has the body the schema says.

Two kinds of input, for each operation:

- schemathesis's coverage cases: for each parameter and field, the boundary and wrong values
  its schema implies (too long, too large, wrong type, missing), sent as the role the
  operation is for, so they reach the code behind the permission checks;
- property-based cases, valid and invalid, sent as each role (driver, dispatcher, consignee,
  staff, official, anonymous), a few per role: refusals must keep to the schema too.

Requests go through the project's WSGI application as gunicorn sends them (Django's whole
middleware, the scan's plain path included), with API tokens, against real rows made through the
services: trips of every colour, passes, scans, a walk-in, a webhook subscription with a
delivery. Path parameters are generated or, as often, the ids of those rows, so answers carry
real bodies. Generation is seeded per operation and role: a run is the same on every machine and
a failure reproduces.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.throttling import ScopedRateThrottle
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import response_schema_conformance

from checkpoints import services as checkpoint_services
from checkpoints.models import Direction, WalkIn
from dashboards.exports import services as exports
from handover import events, subscriptions
from passcode_portal.wsgi import application
from places.models import Checkpoint, StaffAssignment
from tests.checkpoints.scanning import open_trip, pass_of, token_of
from tests.factories import (
    CheckpointFactory,
    CompanyFactory,
    UserFactory,
    at,
    consignee_user,
    dispatcher,
    driver_user,
    make_trip,
    staff_user,
)
from tests.trucks.importing import csv_bytes
from trucks import services as trucks_services
from trucks.models import Trip
from trucks.services import imports as trip_imports

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keep_the_test_transaction")]

SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", application)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CHECKS = [not_a_server_error, response_schema_conformance]
ROLES = ["driver", "dispatcher", "consignee", "staff", "official", "anonymous"]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]

# The role each operation is for: its coverage cases are sent as that role.
OWNERS = {
    "POST /api/v1/auth/token/": "anonymous",
    "GET /api/v1/keys/": "anonymous",
    "GET /api/v1/consignees/": "dispatcher",
    "GET /api/v1/regions/": "dispatcher",
    "GET /api/v1/regions/{code}/": "dispatcher",
    "PATCH /api/v1/regions/{code}/": "official",
    "GET /api/v1/trips/": "dispatcher",
    "POST /api/v1/trips/": "dispatcher",
    "GET /api/v1/trips/{id}/": "dispatcher",
    "POST /api/v1/trips/{id}/cancel/": "dispatcher",
    "POST /api/v1/trips/{id}/plate/": "dispatcher",
    "POST /api/v1/trips/{id}/repeat/": "dispatcher",
    "GET /api/v1/trip-series/{id}/": "dispatcher",
    "POST /api/v1/trip-series/{id}/cancel/": "driver",
    "POST /api/v1/trips/{id}/driver/": "dispatcher",
    "POST /api/v1/trips/{id}/test-result/": "driver",
    "POST /api/v1/trips/{id}/arrival/": "consignee",
    "GET /api/v1/passes/{id}/qr.png": "driver",
    "GET /api/v1/passes/{id}/qr.svg": "driver",
    "GET /api/v1/vehicles/": "dispatcher",
    "GET /api/v1/drivers/": "dispatcher",
    "GET /api/v1/checkpoints/": "staff",
    "GET /api/v1/stats/overview/": "official",
    "GET /api/v1/stats/hourly/": "official",
    "POST /api/v1/exports/": "official",
    "GET /api/v1/exports/{id}/": "official",
    "GET /api/v1/exports/{id}/download/": "official",
    "POST /api/v1/trip-imports/": "dispatcher",
    "GET /api/v1/trip-imports/template.csv": "dispatcher",
    "GET /api/v1/trip-imports/template.xlsx": "dispatcher",
    "GET /api/v1/trip-imports/{id}/": "dispatcher",
    "POST /api/v1/trip-imports/{id}/confirm/": "dispatcher",
    "GET /api/v1/trip-imports/{id}/errors/": "dispatcher",
    "GET /api/v1/trip-imports/{id}/errors.csv": "dispatcher",
    "GET /api/v1/trip-imports/{id}/errors.xlsx": "dispatcher",
}
# Property-based cases per operation and role. Each draws from three sources (valid inputs,
# invalid inputs, real ids in the path), so this is a handful of each.
EXAMPLES = 5
FUZZ = settings(
    max_examples=EXAMPLES,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def owner(operation: Any) -> str:
    if operation.label in OWNERS:
        return OWNERS[operation.label]
    if operation.path.startswith("/api/v1/checkpoints/{code}/"):
        return "staff"
    if operation.path.startswith("/api/v1/webhooks/"):
        return "official"
    raise AssertionError(f"Name the role {operation.label} is for in OWNERS.")


@dataclass
class World:
    """Rows made through the services, and the API token of one user per role."""

    checkpoint: Checkpoint
    keys: dict[str, str]
    ids: dict[str, list[int]]

    def path_values(self, path: str) -> dict[str, list[Any]]:
        """Values naming real rows, for each path parameter of ``path``."""
        values: dict[str, list[Any]] = {
            "code": ["410800", "110101"] if "/regions/" in path else [self.checkpoint.code],
            "delivery_id": self.ids["delivery"],
        }
        for prefix, name in (
            ("/trips/", "trip"),
            ("/passes/", "pass"),
            ("/scans/", "scan"),
            ("/webhooks/", "subscription"),
            ("/exports/", "export"),
            ("/trip-series/", "series"),
            ("/trip-imports/", "trip_import"),
        ):
            if prefix + "{id}" in path:
                values["id"] = self.ids[name]
        return values

    def headers(self, role: str) -> dict[str, str]:
        # schemathesis's WSGI transport asks for gzip (as requests does) but, unlike requests,
        # does not decode it: the checkpoint bundle, gzipped when asked, must come plain here.
        headers = {"Accept-Language": "en", "Accept-Encoding": "identity"}
        if role != "anonymous":
            headers["Authorization"] = f"Token {self.keys[role]}"
        return headers


@pytest.fixture
def world(
    checkpoint: Checkpoint, monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> World:
    # The token endpoint's rate limit would answer most cases before its validation does; the
    # limit has tests of its own (tests/portal/test_api_auth.py).
    rates = {**ScopedRateThrottle.THROTTLE_RATES, "auth": "100000/min"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    company = CompanyFactory()
    consignee = consignee_user()
    consignee_company = consignee.company_membership.company_id
    users: dict[str, User] = {
        "driver": driver_user(company),
        "dispatcher": dispatcher(company),
        "consignee": consignee,
        "staff": staff_user(checkpoint),
        "official": UserFactory(role="official"),
    }
    StaffAssignment.objects.filter(user=users["staff"]).update(supervisor=True)
    trips: list[Trip] = [
        open_trip(users["dispatcher"], checkpoint, consignee=consignee_company),
        open_trip(users["driver"], checkpoint, driver=None, consignee=consignee_company),
        open_trip(users["dispatcher"], checkpoint, test_result="positive"),  # red
        open_trip(users["dispatcher"], checkpoint, test_sampled_at=at(-60)),  # yellow
        make_trip(users["dispatcher"], CheckpointFactory()),  # its window opens later
    ]
    staff = users["staff"]
    scans = [
        checkpoint_services.scan_perform(
            staff=staff,
            checkpoint=checkpoint,
            data=checkpoint_services.ScanInput(token=token, direction=Direction.IN),
        ).scan.pk
        for token in [*(token_of(trip) for trip in trips[:4]), "NOT-A-PASS"]
    ]
    checkpoint_services.walk_in_record(
        staff=staff,
        checkpoint=checkpoint,
        data=checkpoint_services.WalkInInput(
            plate="豫H99999", outcome=WalkIn.Outcome.TURNED_BACK, scan_id=uuid.uuid4()
        ),
    )
    cancelled = make_trip(users["dispatcher"], checkpoint)
    trucks_services.trip_cancel(actor=users["dispatcher"], trip=cancelled)
    trips.append(cancelled)
    # A driver's own trip repeated once: the series' pages answer for a real row.
    repeated = make_trip(users["driver"], checkpoint, driver=None, planned_departure=at(12))
    series = trucks_services.trip_series_create(actor=users["driver"], trip=repeated, days=1)
    subscription = subscriptions.subscription_create(
        actor=users["official"],
        name="焦作物流园",
        url="https://park.example.cn/in",
        event_types=["trip.entered"],
    )
    events.emit(event="trip.entered", trip=trips[0], key=f"entered-{trips[0].pk}")
    today = timezone.localdate().isoformat()
    spec = exports.export_spec(kind="scans", format="csv", first=today, last=today, checkpoint="")
    export = exports.export_queue(actor=users["official"], spec=spec)
    settings.EXPORTS_DIR = str(tmp_path)
    exports.export_build(export_id=export.pk)  # built, so its download answers with the file
    imported = trip_imports.trip_import_upload(
        actor=users["dispatcher"],
        file_name="trips.csv",
        content=csv_bytes([{"vehicle_plate": "X"}]),
    )
    trip_imports.trip_import_validate(import_id=imported.pk)  # checked: its errors answer
    return World(
        checkpoint=checkpoint,
        keys={role: Token.objects.create(user=user).key for role, user in users.items()},
        ids={
            "trip": [trip.pk for trip in trips],
            "pass": [pass_of(trip).pk for trip in trips],
            "scan": scans,
            "subscription": [subscription.pk],
            "delivery": list(subscription.deliveries.values_list("pk", flat=True)),
            "export": [export.pk],
            "series": [series.pk],
            "trip_import": [imported.pk],
        },
    )


def coverage_cases(operation: Any, world: World) -> Iterator[Any]:
    """schemathesis's coverage cases; those that vary something other than the path name real
    rows in it, taking the rows in turn."""
    values = world.path_values(operation.path)
    generated = SCHEMA.iter_coverage_cases(
        operation,
        generation_modes=MODES,
        generation_config=SCHEMA.config.generation_for(operation=operation),
    )
    for n, case in enumerate(generated):
        data = case.meta.phase.data if case.meta is not None else None
        if getattr(data, "parameter_location", None) != ParameterLocation.PATH:
            for name in case.path_parameters or {}:
                case.path_parameters[name] = values[name][n % len(values[name])]
        yield case


def fuzzed_cases(operation: Any, world: World) -> st.SearchStrategy[Any]:
    """Property-based cases: valid and invalid inputs, and valid ones naming real rows."""
    strategies = [operation.as_strategy(mode) for mode in MODES]
    names = [parameter.name for parameter in operation.path_parameters]
    if names:
        values = world.path_values(operation.path)
        rows = st.fixed_dictionaries({name: st.sampled_from(values[name]) for name in names})
        strategies.append(rows.flatmap(lambda row: operation.as_strategy(path_parameters=row)))
    return st.one_of(strategies)


def fuzz(operation: Any, world: World, role: str) -> None:
    headers = world.headers(role)

    # Seeded per operation and role: the same cases on every run, other cases for each role.
    @seed(zlib.crc32(f"{operation.label} as {role}".encode()))
    @FUZZ
    @given(case=fuzzed_cases(operation, world))
    def call(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()


def as_role(role: str, exc: BaseException) -> BaseException:
    exc.add_note(f"Called as: {role}")
    return exc


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_the_api_keeps_to_its_schema(operation: Any, world: World) -> None:
    role = owner(operation)
    for case in coverage_cases(operation, world):
        try:
            case.call_and_validate(headers=world.headers(role), checks=CHECKS)
        except BaseException as exc:
            raise as_role(role, exc) from None
    for role in ROLES:
        try:
            fuzz(operation, world, role)
        except BaseException as exc:
            raise as_role(role, exc) from None


def test_every_operation_is_tested() -> None:
    labels = {operation.label for operation in OPERATIONS}
    # The ones other systems and tablets rely on (docs/webhooks.md, README's API section).
    assert {
        "POST /api/v1/auth/token/",
        "POST /api/v1/trips/",
        "POST /api/v1/checkpoints/{code}/scans/",
        "GET /api/v1/checkpoints/{code}/scans/",
        "GET /api/v1/keys/",
        "POST /api/v1/webhooks/",
    } <= labels
    assert set(OWNERS) <= labels
    assert all(owner(operation) in ROLES for operation in OPERATIONS)
