"""Under the production settings, the scan endpoint answers a request as every other route does:
a forged Host is refused (ALLOWED_HOSTS), plain http is sent to https (SECURE_SSL_REDIRECT), and
every answer carries the same security headers (SecurityMiddleware, XFrameOptionsMiddleware),
Strict-Transport-Security over https. Scans from an API client (token) and from the tablet page
(session and CSRF token) are compared with an ordinary API POST (a walk-in) and GET (the
checkpoints).

The requests go through ``passcode_portal.wsgi.application``, the object gunicorn serves, in a
fresh interpreter with the production settings (as tests/portal/test_deploy.py runs them) and a
database of its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.portal.test_deploy import production_env, run

HOST = "passcode.example.org"
SECURITY_HEADERS = (
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "X-Frame-Options",
)

# Run in the production interpreter: a database, a staff member with an API token and a
# signed-in session, then the same requests to each route, and what was recorded.
SCRIPT = r"""
import io, json, sys
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils.crypto import get_random_string
from rest_framework.authtoken.models import Token
from checkpoints.models import ScanEvent, WalkIn
from places.models import Checkpoint, Region, StaffAssignment

HOST, STATIC_ROOT = sys.argv[1:3]
# The static files the error pages name, collected as the image collects them (the Dockerfile),
# into a folder of this run's own.
settings.STATIC_ROOT = STATIC_ROOT
call_command("collectstatic", interactive=False, verbosity=0)
call_command("migrate", verbosity=0)
Region.objects.create(code="410800", name="焦作市", full_name="河南省焦作市", level="city")
checkpoint = Checkpoint.objects.create(code="JZ-G55-N", name="二广高速焦作北站",
                                       kind="highway_exit", region_id="410800")
staff = User.objects.create_user("staff", password="a staff password 1")
staff.groups.add(Group.objects.get(name="staff"))
StaffAssignment.objects.create(user=staff, checkpoint=checkpoint)
key = Token.objects.create(user=staff).key
browser = Client()
browser.force_login(staff)
session = browser.cookies[settings.SESSION_COOKIE_NAME].value
csrf = get_random_string(32)

from passcode_portal.wsgi import application

VARIANTS = {
    "forged host over https": {"HTTP_HOST": "evil.example", "HTTP_X_FORWARDED_PROTO": "https"},
    "forged host over http": {"HTTP_HOST": "evil.example"},
    "plain http": {"HTTP_HOST": HOST},
    "https": {"HTTP_HOST": HOST, "HTTP_X_FORWARDED_PROTO": "https"},
}
scan_path = "/api/v1/checkpoints/JZ-G55-N/scans/"
ROUTES = {
    "scan (token)": ("POST", scan_path, {"token": "X", "direction": "in"}, "token"),
    "scan (tablet)": ("POST", scan_path, {"token": "X", "direction": "in"}, "tablet"),
    "walk-in (token)": ("POST", "/api/v1/checkpoints/JZ-G55-N/walk-ins/",
                        {"plate": "豫H12345", "outcome": "turned_back"}, "token"),
    "checkpoints (token)": ("GET", "/api/v1/checkpoints/", None, "token"),
}

def send(method, path, body, auth, variant):
    data = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data), "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(len(data)), "CONTENT_TYPE": "application/json",
        "HTTP_ACCEPT_LANGUAGE": "en",
    }
    if auth == "token":
        environ["HTTP_AUTHORIZATION"] = f"Token {key}"
    else:  # as static/js/scan.js sends it, from the page's origin
        environ.update(
            HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={session}; "
            f"{settings.CSRF_COOKIE_NAME}={csrf}",
            HTTP_X_CSRFTOKEN=csrf, HTTP_ACCEPT="application/json",
            HTTP_ORIGIN=f"https://{HOST}",
        )
    environ.update(VARIANTS[variant])
    started = []
    body = b"".join(application(environ, lambda status, headers: started.append((status, headers))))
    status, headers = started[0]
    return {"status": int(status.split()[0]), "headers": dict(headers), "body": body.decode()[:300]}

answers = {
    route: {variant: send(*ROUTES[route], variant) for variant in VARIANTS} for route in ROUTES
}
print(json.dumps({
    "answers": answers,
    "scans": ScanEvent.objects.count(),
    "walk_ins": WalkIn.objects.count(),
}))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path: Path = tmp_path_factory.mktemp("production")
    env = production_env(tmp_path, ALLOWED_HOSTS=HOST, DATABASE_URL=f"sqlite:///{tmp_path}/db")
    result = run(["-c", SCRIPT, HOST, str(tmp_path / "static")], env)
    assert result.returncode == 0, result.stderr[-3000:]
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def security(answer: dict[str, Any]) -> dict[str, str]:
    return {name: answer["headers"].get(name, "") for name in SECURITY_HEADERS}


SCANS = ["scan (token)", "scan (tablet)"]
ORDINARY = ["walk-in (token)", "checkpoints (token)"]


@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("ordinary", ORDINARY)
@pytest.mark.parametrize("variant", ["forged host over https", "forged host over http"])
def test_a_forged_host_is_refused_on_every_route(
    production: dict[str, Any], scan: str, ordinary: str, variant: str
) -> None:
    scanned, other = production["answers"][scan][variant], production["answers"][ordinary][variant]

    assert scanned["status"] == other["status"] == 400
    assert security(scanned) == security(other)


@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("ordinary", ORDINARY)
def test_plain_http_is_sent_to_https_on_every_route(
    production: dict[str, Any], scan: str, ordinary: str
) -> None:
    scanned = production["answers"][scan]["plain http"]
    other = production["answers"][ordinary]["plain http"]

    assert scanned["status"] == other["status"] == 301
    assert security(scanned) == security(other)
    assert scanned["headers"]["Location"] == f"https://{HOST}/api/v1/checkpoints/JZ-G55-N/scans/"
    assert other["headers"]["Location"].startswith(f"https://{HOST}/api/v1/")


@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("ordinary", ORDINARY)
def test_over_https_every_route_answers_with_the_same_security_headers(
    production: dict[str, Any], scan: str, ordinary: str
) -> None:
    scanned, other = production["answers"][scan]["https"], production["answers"][ordinary]["https"]

    assert scanned["status"] == 201, scanned["body"]
    assert other["status"] in (200, 201), other["body"]
    assert security(scanned) == security(other)
    assert security(scanned) == {
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }


def test_the_scan_answers_as_the_walk_in_does(production: dict[str, Any]) -> None:
    # Both are API POSTs that record a row: one status per variant, the same headers but for
    # what is the route's own (its methods, the body's length, the session's Vary).
    own = {"Allow", "Content-Length", "Vary"}
    for variant in ("forged host over https", "forged host over http", "plain http", "https"):
        scanned = production["answers"]["scan (token)"][variant]
        walk_in = production["answers"]["walk-in (token)"][variant]
        assert scanned["status"] == walk_in["status"], variant
        assert set(scanned["headers"]) - own == set(walk_in["headers"]) - own, variant


def test_only_the_requests_over_https_from_an_allowed_host_are_recorded(
    production: dict[str, Any],
) -> None:
    assert production["scans"] == 2  # the token's and the tablet's, over https
    assert production["walk_ins"] == 1
