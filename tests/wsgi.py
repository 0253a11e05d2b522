"""Requests through the project's real WSGI application (passcode_portal.wsgi.application), as
gunicorn sends them: the whole of Django's handler and middleware, which Django's test client
builds anew for itself. Tests that send them use the ``keep_the_test_transaction`` fixture
(conftest)."""

from __future__ import annotations

import io
import json
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils.crypto import get_random_string

from passcode_portal.wsgi import application


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_code = int(status.split()[0])
        self.headers = dict(headers)
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def wsgi_request(method: str, path: str, data: bytes = b"", **extra: str) -> Answer:
    """Send one request; ``extra`` are WSGI environ entries (HTTP_HOST, wsgi.url_scheme, ...)."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(len(data)),
        **extra,
    }
    started: list[Any] = []
    chunks = application(environ, lambda status, headers: started.append((status, headers)))
    return Answer(started[0][0], started[0][1], b"".join(chunks))


def wsgi_post(path: str, body: Any, *, key: str | None = None, **extra: str) -> Answer:
    """POST ``body`` (bytes as they are, anything else as JSON) with an API token if given."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    if key is not None:
        extra.setdefault("HTTP_AUTHORIZATION", f"Token {key}")
    extra.setdefault("CONTENT_TYPE", "application/json")
    return wsgi_request("POST", path, data, **extra)


class Tablet:
    """A staff member signed in on the scan page: the session cookie and the CSRF cookie the
    page's script sends back with every call (static/js/scan.js)."""

    def __init__(self, user: User) -> None:
        client = Client()
        client.force_login(user)
        self.session = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.csrf = get_random_string(32)

    def headers(
        self, *, csrf: str | None = None, origin: str = "http://testserver"
    ) -> dict[str, str]:
        return {
            "HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={self.session}; "
            f"{settings.CSRF_COOKIE_NAME}={self.csrf}",
            "HTTP_X_CSRFTOKEN": self.csrf if csrf is None else csrf,
            "HTTP_ACCEPT": "application/json",
            "HTTP_ORIGIN": origin,
        }

    def post(self, path: str, body: Any, **extra: str) -> Answer:
        return wsgi_post(path, body, **{**self.headers(), **extra})
