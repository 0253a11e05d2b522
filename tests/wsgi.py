"""Requests through the project's real WSGI application, as gunicorn sends them: the fast routes
in front of Django (passcode_portal.fastroutes) see them first, which Django's test client
would skip. Tests that send them use the ``keep_the_test_transaction`` fixture (conftest)."""

from __future__ import annotations

import io
import json
from typing import Any

from passcode_portal.wsgi import application


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_code = int(status.split()[0])
        self.headers = dict(headers)
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def wsgi_post(path: str, body: Any, *, key: str | None = None, **extra: str) -> Answer:
    """POST ``body`` (bytes as they are, anything else as JSON) with an API token if given."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(len(data)),
        "CONTENT_TYPE": "application/json",
        **extra,
    }
    if key is not None:
        environ["HTTP_AUTHORIZATION"] = f"Token {key}"
    started: list[Any] = []
    chunks = application(environ, lambda status, headers: started.append((status, headers)))
    return Answer(started[0][0], started[0][1], b"".join(chunks))
