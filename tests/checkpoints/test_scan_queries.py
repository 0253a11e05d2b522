"""The scan endpoint's query budget (issue 3: at most 4 SQL statements per scan), counted as
Django sees them, savepoints included, with the per-process caches a running server has warm:
the token's user, the checkpoint, the policy in force."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from checkpoints.models import Alert, ScanEvent
from passcode_portal import ttlcache
from tests.checkpoints.scanning import altered, open_trip, scan, token_of
from tests.factories import CompanyFactory, UserFactory, at, staff_user
from tests.factories import dispatcher as make_dispatcher
from trucks import services
from trucks.models import Trip

pytestmark = pytest.mark.django_db

BUDGET = 4


@pytest.fixture
def warm_client(checkpoint: Any, dispatcher: Any) -> Iterator[APIClient]:
    """A tablet with a real API token (so the cached token authentication runs) whose caches
    were warmed by one scan of another pass."""
    ttlcache.clear_all()
    with override_settings(API_AUTH_CACHE_SECONDS=60, HOT_CACHE_SECONDS=60):
        token = Token.objects.create(user=staff_user(checkpoint))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        assert (
            scan(client, checkpoint, token_of(open_trip(dispatcher, checkpoint))).status_code == 201
        )
        yield client
    ttlcache.clear_all()


def measured(client: APIClient, checkpoint: Any, token: str, direction: str = "in") -> Any:
    with CaptureQueriesContext(connection) as queries:
        r = scan(client, checkpoint, token, direction)
    assert r.status_code == 201, r.json()
    statements = "\n".join(q["sql"] for q in queries.captured_queries)
    assert len(queries) <= BUDGET, f"{len(queries)} statements:\n{statements}"
    return r.json()


def test_an_admitted_entry(warm_client: APIClient, dispatcher: Any, checkpoint: Any) -> None:
    trip = open_trip(dispatcher, checkpoint)

    answer = measured(warm_client, checkpoint, token_of(trip))

    assert answer["reason"] == "ok"
    assert Trip.objects.get(pk=trip.pk).status == "inside"


def test_an_entry_by_the_priority_lane(
    warm_client: APIClient, checkpoint: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The lane is read from the whitelist kept in the process, and the trip's company comes
    with the lock: the budget is the same."""
    official = UserFactory(role="official")
    company = CompanyFactory()
    with django_capture_on_commit_callbacks(execute=True):
        # The entry's commit makes this process read the whitelist again, once.
        services.whitelist_entry_create(
            actor=official,
            data=services.WhitelistData(
                company=company.pk, valid_from=at(-1), priority_lane=True, reason="保供企业"
            ),
        )
    trip = open_trip(make_dispatcher(company), checkpoint)
    scan(warm_client, checkpoint, token_of(open_trip(make_dispatcher(company), checkpoint)))

    with CaptureQueriesContext(connection) as queries:
        answer = measured(warm_client, checkpoint, token_of(trip))

    assert (answer["reason"], answer["priority_lane"]) == ("ok", True)
    assert not any("whitelistentry" in q["sql"] for q in queries.captured_queries)


def test_a_yellow_entry(warm_client: APIClient, dispatcher: Any, checkpoint: Any) -> None:
    trip = open_trip(dispatcher, checkpoint, test_result="none", test_sampled_at=None)

    assert measured(warm_client, checkpoint, token_of(trip))["reason"] == "test_required"


def test_a_refused_red_code_with_its_alert(
    warm_client: APIClient, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint, test_result="positive", test_sampled_at=at(-2))

    answer = measured(warm_client, checkpoint, token_of(trip))

    assert answer["reason"] == "red_code"
    assert Alert.objects.filter(kind="red_code", trip=trip).exists()


def test_an_exit(warm_client: APIClient, dispatcher: Any, checkpoint: Any) -> None:
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)
    scan(warm_client, checkpoint, token)

    answer = measured(warm_client, checkpoint, token, "out")

    assert (answer["reason"], answer["pass"]["status"]) == ("ok", "completed")
    assert Trip.objects.get(pk=trip.pk).status == "exited"


def test_a_copied_code_with_its_alert(
    warm_client: APIClient, dispatcher: Any, checkpoint: Any
) -> None:
    token = token_of(open_trip(dispatcher, checkpoint))
    scan(warm_client, checkpoint, token)

    assert measured(warm_client, checkpoint, token)["reason"] == "already_inside"


def test_an_invalid_token(warm_client: APIClient, checkpoint: Any) -> None:
    assert measured(warm_client, checkpoint, "not a pass code")["reason"] == "invalid"
    assert ScanEvent.objects.filter(reason="invalid").count() == 1


def test_a_forged_token_with_its_alert(
    warm_client: APIClient, dispatcher: Any, checkpoint: Any
) -> None:
    forged = altered(token_of(open_trip(dispatcher, checkpoint)))

    assert measured(warm_client, checkpoint, forged)["reason"] == "invalid"
    assert Alert.objects.filter(kind="forged").exists()


def test_an_unknown_pass(warm_client: APIClient, checkpoint: Any) -> None:
    from trucks import passcode

    token = passcode.encode(pass_id=999_999, valid_until=at(24))

    assert measured(warm_client, checkpoint, token)["reason"] == "unknown"


def test_a_scan_recalling_a_refusal_just_before(
    warm_client: APIClient, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint, test_result="positive", test_sampled_at=at(-2))
    token = token_of(trip)
    scan(warm_client, checkpoint, token)

    answer = measured(warm_client, checkpoint, token)

    assert (answer["reason"], answer["warnings"]) == ("red_code", ["refused_recently"])
    assert answer["earlier_refusal"]["reason"] == "red_code"


def test_an_exit_recalling_a_refusal_just_before(
    warm_client: APIClient, dispatcher: Any, checkpoint: Any
) -> None:
    trip = open_trip(dispatcher, checkpoint)
    token = token_of(trip)
    scan(warm_client, checkpoint, token)
    scan(warm_client, checkpoint, token)  # a copy: refused, already inside

    answer = measured(warm_client, checkpoint, token, "out")

    assert (answer["reason"], answer["warnings"]) == ("ok", ["refused_recently"])
    assert Trip.objects.get(pk=trip.pk).status == "exited"


@pytest.fixture
def warm_tablet(checkpoint: Any, dispatcher: Any) -> Iterator[APIClient]:
    """The tablet page's session (passcode_portal.auth.CachedSessionAuthentication), its caches
    warmed by one scan of another pass."""
    ttlcache.clear_all()
    with override_settings(API_AUTH_CACHE_SECONDS=60, HOT_CACHE_SECONDS=60):
        client = APIClient()
        client.force_login(staff_user(checkpoint))
        assert (
            scan(client, checkpoint, token_of(open_trip(dispatcher, checkpoint))).status_code == 201
        )
        yield client
    ttlcache.clear_all()


def test_the_tablet_pays_one_statement_more_to_read_its_session(
    warm_tablet: APIClient, dispatcher: Any, checkpoint: Any
) -> None:
    token = token_of(open_trip(dispatcher, checkpoint))

    with CaptureQueriesContext(connection) as queries:
        r = scan(warm_tablet, checkpoint, token)

    assert r.status_code == 201, r.json()
    assert len(queries) <= BUDGET + 1
    assert "django_session" in queries.captured_queries[0]["sql"]
    assert not any("auth_user" in q["sql"] for q in queries.captured_queries)
