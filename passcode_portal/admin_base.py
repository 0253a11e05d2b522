"""What the apps' admin classes share."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from django.http import HttpRequest


def actor_of(request: HttpRequest) -> User:
    # The admin site only lets signed-in staff through, so this is a real user.
    return cast(User, request.user)


class NoRevertMixin:
    """For rows whose changes must go through a service: the history stays visible, but
    reverting to an old version (a plain save) is not offered."""

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True
