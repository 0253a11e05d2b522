"""Bodies that cannot be parsed get a 4xx in the API's error shape, on every path a body takes:
DRF's parsers (the token, trip and scan endpoints), the scan's own plain path
(``ScanApi.plain_scan``, through the WSGI application as gunicorn sends it), and Django's own
limit on request size (DATA_UPLOAD_MAX_MEMORY_SIZE). Never a 500, and never
Django's HTML error page, even with DEBUG on."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from checkpoints.models import ScanEvent
from passcode_portal.parsers import MAX_DEPTH
from tests.checkpoints.scanning import scan_url
from tests.factories import staff_user
from tests.wsgi import wsgi_post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keep_the_test_transaction")]

TEN_MB = 10 * 1024 * 1024


def deep(kind: str, depth: int) -> bytes:
    """JSON nested ``depth`` levels deep: arrays ``[[[...]]]`` or objects
    ``{"token": {"token": ...}}``."""
    if kind == "array":
        return b"[" * depth + b"]" * depth
    return b'{"token":' * depth + b'"X"' + b"}" * depth


def assert_parse_error(r: Any, *, english: bool = True) -> None:
    assert r.status_code == 400, r.content[:300]
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["code"] == "parse_error"
    assert set(body) == {"code", "detail"}
    if english:
        assert body["detail"] == "The request body is nested too deeply."


def assert_too_large(r: Any) -> None:
    assert r.status_code == 413, r.content[:300]
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"code": "request_too_large", "detail": "The request is too large."}


@pytest.fixture
def scan_staff(checkpoint: Any) -> User:
    return staff_user(checkpoint)


def post(client: Any, url: str, body: bytes, content_type: str = "application/json") -> Any:
    return client.post(url, body, content_type=content_type, HTTP_ACCEPT_LANGUAGE="en")


# --- Deeply nested JSON ------------------------------------------------------------------------

DEPTHS = [MAX_DEPTH + 1, 1_000, 100_000]
KINDS = ["array", "object"]


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("kind", KINDS)
def test_the_token_endpoint_refuses_deep_json(api_client: Any, kind: str, depth: int) -> None:
    assert_parse_error(post(api_client, "/api/v1/auth/token/", deep(kind, depth)))


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("kind", KINDS)
def test_the_trips_endpoint_refuses_deep_json(
    api_client: Any, dispatcher: User, kind: str, depth: int
) -> None:
    api_client.force_authenticate(dispatcher)

    assert_parse_error(post(api_client, "/api/v1/trips/", deep(kind, depth)))


def test_deep_json_inside_a_field_is_refused_too(api_client: Any, dispatcher: User) -> None:
    api_client.force_authenticate(dispatcher)
    body = b'{"vehicle_plate": "X", "co_riders": ' + deep("array", 5_000) + b"}"

    assert_parse_error(post(api_client, "/api/v1/trips/", body))


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("kind", KINDS)
def test_the_scan_endpoint_refuses_deep_json(
    api_client: Any, checkpoint: Any, scan_staff: User, kind: str, depth: int
) -> None:
    api_client.force_authenticate(scan_staff)

    assert_parse_error(post(api_client, scan_url(checkpoint), deep(kind, depth)))
    assert not ScanEvent.objects.exists()


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 10_000])
@pytest.mark.parametrize("kind", KINDS)
def test_a_token_scan_through_the_wsgi_application_refuses_deep_json(
    checkpoint: Any, scan_staff: User, kind: str, depth: int
) -> None:
    key = Token.objects.create(user=scan_staff).key

    answer = wsgi_post(scan_url(checkpoint), deep(kind, depth), key=key, HTTP_ACCEPT_LANGUAGE="en")

    assert_parse_error(answer)
    assert not ScanEvent.objects.exists()


def test_the_refusal_speaks_the_default_language(api_client: Any) -> None:
    body = deep("array", 1_000)

    r = api_client.post("/api/v1/auth/token/", body, content_type="application/json")

    assert_parse_error(r, english=False)
    assert r.headers["Content-Language"] == "zh-hans"


def test_with_debug_on_it_is_still_a_json_400(api_client: Any, settings: Any) -> None:
    settings.DEBUG = True

    assert_parse_error(post(api_client, "/api/v1/auth/token/", deep("object", 100_000)))


def test_nesting_within_the_limit_is_validated_as_usual(api_client: Any) -> None:
    body = b'{"username": ' + deep("array", MAX_DEPTH - 1) + b', "password": "x"}'

    r = post(api_client, "/api/v1/auth/token/", body)

    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert set(r.json()["fields"]) == {"username"}


@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        (
            b"{not json",
            "application/json",
            "The request body is not valid JSON (line 1, column 2).",
        ),
        (
            b'{"a": 1,\n}',
            "application/json",
            "The request body is not valid JSON (line 2, column 1).",
        ),
        (b"\xff\xfe{}", "application/json", "The request body is not valid JSON."),
        (b'{"a": NaN}', "application/json", "The request body is not valid JSON."),
        (
            b"{}",
            "application/json; charset=bz2_codec",
            "The request names a character set this API does not read.",
        ),
    ],
)
def test_malformed_json_is_a_parse_error_in_the_users_language(
    api_client: Any, body: bytes, content_type: str, detail: str
) -> None:
    r = post(api_client, "/api/v1/auth/token/", body, content_type)

    assert r.status_code == 400
    assert r.json() == {"code": "parse_error", "detail": detail}


# --- Bodies over the size limit ----------------------------------------------------------------


def huge_json() -> bytes:
    return b'{"username": "' + b"a" * TEN_MB + b'", "password": "x"}'


def test_the_token_endpoint_refuses_10_mb_of_json(api_client: Any) -> None:
    assert_too_large(post(api_client, "/api/v1/auth/token/", huge_json()))


def test_the_token_endpoint_refuses_10_mb_of_form(api_client: Any) -> None:
    body = b"password=x&username=" + b"a" * TEN_MB

    assert_too_large(
        post(api_client, "/api/v1/auth/token/", body, "application/x-www-form-urlencoded")
    )


def test_the_token_endpoint_refuses_10_mb_of_multipart(api_client: Any) -> None:
    # Django's multipart parser counts the fields against DATA_UPLOAD_MAX_MEMORY_SIZE itself
    # and raises RequestDataTooBig, which Django would answer with its HTML 400 page.
    boundary = "BoUnDaRy"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="username"\r\n\r\n'.encode()
        + b"a" * TEN_MB
        + f"\r\n--{boundary}--\r\n".encode()
    )

    assert_too_large(
        post(api_client, "/api/v1/auth/token/", body, f"multipart/form-data; boundary={boundary}")
    )


def test_the_trips_endpoint_refuses_10_mb(api_client: Any, dispatcher: User) -> None:
    api_client.force_authenticate(dispatcher)

    assert_too_large(post(api_client, "/api/v1/trips/", huge_json()))


def test_the_scan_endpoint_refuses_10_mb(
    api_client: Any, checkpoint: Any, scan_staff: User
) -> None:
    api_client.force_authenticate(scan_staff)

    assert_too_large(post(api_client, scan_url(checkpoint), huge_json()))


def test_a_token_scan_of_10_mb_through_the_wsgi_application_is_refused(
    checkpoint: Any, scan_staff: User
) -> None:
    key = Token.objects.create(user=scan_staff).key

    answer = wsgi_post(scan_url(checkpoint), huge_json(), key=key, HTTP_ACCEPT_LANGUAGE="en")

    assert_too_large(answer)
    assert not ScanEvent.objects.exists()


def test_a_body_at_the_limit_is_read(api_client: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = b'{"username": "' + b"a" * 200 + b'", "password": "x"}'
    body += b" " * (1000 - len(body))

    r = post(api_client, "/api/v1/auth/token/", body)

    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert_too_large(post(api_client, "/api/v1/auth/token/", body + b" "))
