"""Helpers for checkpoint tests: trips whose pass window is open now, their tokens, scans."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from places.models import Checkpoint
from tests.factories import at, make_trip
from trucks.models import Pass, PassStatus, Trip
from trucks.services import pass_token


def open_trip(actor: User, checkpoint: Checkpoint, **overrides: Any) -> Trip:
    """A trip registered through the real service whose pass is valid now: the window opens two
    hours before the planned arrival (policy v1), so an arrival in an hour is an open window."""
    values: dict[str, Any] = {"planned_arrival": at(1), "planned_departure": at(30)}
    values.update(overrides)
    return make_trip(actor, checkpoint, **values)


def pass_of(trip: Trip) -> Pass:
    return Pass.objects.filter(trip=trip).order_by("-issued_at", "-pk").first()  # type: ignore[return-value]


def active_pass(trip: Trip) -> Pass:
    return Pass.objects.get(trip=trip, status=PassStatus.ACTIVE)


def token_of(trip: Trip) -> str:
    return pass_token(pass_of(trip))


def altered(token: str) -> str:
    """The token with one character of its signature changed: well formed, badly signed."""
    i = 60
    return token[:i] + ("B" if token[i] != "B" else "C") + token[i + 1 :]


def scan_url(checkpoint: Checkpoint | str) -> str:
    code = checkpoint if isinstance(checkpoint, str) else checkpoint.code
    return f"/api/v1/checkpoints/{code}/scans/"


def scan(
    client: Any,
    checkpoint: Checkpoint | str,
    token: str,
    direction: str = "in",
    *,
    language: str | None = "en",
    **body: Any,
) -> Any:
    """POST a scan; the answer's message is in English unless another language is asked for
    (``language=None`` sends no Accept-Language, as a tablet on the default language does)."""
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    return client.post(
        scan_url(checkpoint),
        {"token": token, "direction": direction, **body},
        format="json",
        **headers,
    )
