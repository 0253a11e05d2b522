"""API token authentication that does not query the database on every request.

DRF's TokenAuthentication looks the token and its user up on each request. Checkpoint tablets
send several scans a second, so the user object behind a token is kept for
API_AUTH_CACHE_SECONDS in the process, and with it what views cache on it (roles, company,
checkpoint assignments). A revoked token or a deactivated user is refused at the latest that
many seconds later.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from passcode_portal.ttlcache import TTLCache

_users: TTLCache[User | None] = TTLCache(lambda: settings.API_AUTH_CACHE_SECONDS)


def _load(key: str) -> User | None:
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    user: User = token.user
    return user


def user_for_token(key: str) -> User | None:
    """The active user an API token belongs to, or None; kept briefly in the process."""
    return _users.get_or_load(key, lambda: _load(key))


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user = user_for_token(key)
        if user is None:
            raise exceptions.AuthenticationFailed(exceptions.AuthenticationFailed.default_detail)
        return user, key


def forget_token(key: str) -> None:
    _users.discard(key)
