"""A WSGI layer in front of Django for the few requests that must be as cheap as possible.

Checkpoint devices scan passes several times a second; on this endpoint Django's middleware and
DRF's request cycle cost more than the scan's own work. ``FAST_ROUTES`` (settings) names, per
method and path pattern, a handler that answers the plain, common form of such a request itself,
and returns None for anything else, which Django then handles in full (the handler is written
to fall back whenever in doubt, so every answer it gives is one Django would give).

The handler is named by dotted path, so this module imports nothing of the apps above it.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string

logger = logging.getLogger("django.request")

Handler = Callable[[dict[str, Any], bytes], tuple[int, dict[str, str], bytes] | None]

# The headers SecurityMiddleware and XFrameOptionsMiddleware add to every answer.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
_STATUS = {
    200: "200 OK",
    201: "201 Created",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    403: "403 Forbidden",
    404: "404 Not Found",
    409: "409 Conflict",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
}
MAX_BODY = 64 * 1024


class FastRoutes:
    def __init__(self, app: WSGIHandler) -> None:
        self.app = app
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (method, re.compile(pattern), import_string(path))
            for method, pattern, path in getattr(settings, "FAST_ROUTES", [])
        ]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        for route_method, pattern, handler in self.routes:
            if method == route_method and pattern.match(path):
                answer = self._try(handler, environ)
                if answer is not None:
                    status, headers, body = answer
                    start_response(_STATUS.get(status, f"{status} "), list(headers.items()))
                    return [body]
                break
        return self.app(environ, start_response)

    def _try(
        self, handler: Handler, environ: dict[str, Any]
    ) -> tuple[int, dict[str, str], bytes] | None:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if not 0 < length <= MAX_BODY:
            return None
        body = environ["wsgi.input"].read(length)
        # Whatever happens next, Django can still read the body if the handler declines.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        # The request's life as Django's handler frames it: stale database connections are
        # closed before, and connections past their age after.
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            answer = handler(environ, body)
        except Exception:
            logger.exception("Fast route failed: %s", environ.get("PATH_INFO"))
            answer = (
                500,
                {"Content-Type": "application/json"},
                b'{"code": "server_error", "detail": "Server error."}',
            )
        finally:
            signals.request_finished.send(sender=self.__class__)
        if answer is not None:
            answer[1].update(SECURITY_HEADERS)
        return answer
