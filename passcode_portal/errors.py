"""Domain errors: exceptions that carry a stable code. Services raise them; one handler
(`passcode_portal.api.exception_handler`, and the page views) turns them into 4xx answers with a
message in the user's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise


class DomainError(Exception):
    """A refusal the user can act on. ``code`` is stable API; ``message`` is translatable;
    ``fields`` maps input field names to their messages when the fault lies in given fields;
    ``extra`` holds facts a client needs to act on the refusal (for example the two plates of a
    plate to check again), answered beside ``code`` and ``detail``."""

    status = 400

    def __init__(
        self,
        code: str,
        message: str | Promise,
        *,
        fields: Mapping[str, Any] | None = None,
        status: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.extra = dict(extra or {})
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class NotFound(DomainError):
    status = 404


class PermissionDenied(DomainError):
    status = 403
