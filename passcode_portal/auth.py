"""API authentication that does not query the database on every request.

DRF's TokenAuthentication looks the token and its user up on each request, and its
SessionAuthentication has Django load the session's user on each request. Checkpoint tablets
send several scans a second, so the user object behind a token, or behind a signed-in session,
is kept for API_AUTH_CACHE_SECONDS in the process, and with it what views cache on it (roles,
company, checkpoint assignments). A revoked token or a deactivated user is refused at the latest
that many seconds later; so is a session signed in before a password change. A signed-out
session is refused at once: the session itself is read on every request, as Django reads it.

The scan reads it in its own first statement instead (``session_on_trust``): the user its data
was last found to belong to is taken for the request, and the scan's lock statement reads the
session again; unless that read gives the very same data, the scan is rolled back with nothing
recorded and the request authenticated in full.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from drf_spectacular.authentication import SessionScheme
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from passcode_portal.sessions import SessionCheck
from passcode_portal.ttlcache import TTLCache

_users: TTLCache[User | None] = TTLCache(lambda: settings.API_AUTH_CACHE_SECONDS)
_session_users: TTLCache[User | None] = TTLCache(lambda: settings.API_AUTH_CACHE_SECONDS)
# By session key: the session's data as read, and the active user it was found to belong to.
_sessions_read: TTLCache[tuple[str, User]] = TTLCache(lambda: settings.API_AUTH_CACHE_SECONDS)


def session_on_trust(request: HttpRequest) -> tuple[User, SessionCheck] | None:
    """The user of the request's session as it was last found in this process, and what the
    session must still hold for that to be true; None when this process has not found it within
    API_AUTH_CACHE_SECONDS. Nothing is read: the caller must read the session again (its data,
    ``passcode_portal.sessions.live_session_sql``) before it acts, and compare."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return None
    kept = _sessions_read.get(key)
    if kept is None:
        return None
    data, user = kept
    return user, SessionCheck(key=key, data=data)


def forget_session(key: str) -> None:
    _sessions_read.discard(key)


def _remember_session(request: HttpRequest, user: User) -> None:
    """Keep the session's data as read with the user it names, unless the request has changed
    the session since (then the data read no longer names this user for sure)."""
    session = request.session
    data = getattr(session, "read_data", None)
    if data and session.session_key and not session.modified and user.is_active:
        _sessions_read.put(session.session_key, (data, user))


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


def user_for_session(request: HttpRequest) -> User | None:
    """The active user the request's session is signed in as, as ``django.contrib.auth.get_user``
    finds it, with the user object kept briefly in the process. Only a session whose hash of the
    user's password matches the kept user is answered from it; any other (no user, no hash, a
    hash made under an old secret key or of another password) is decided by Django's own
    ``get_user``, which flushes or re-keys the session as it does on every page."""
    session = request.session
    try:
        user_id = User._meta.pk.to_python(session[auth.SESSION_KEY])
        backend_path = session[auth.BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    key = (backend_path, user_id)
    user = _session_users.get_or_load(
        key, lambda: auth.load_backend(backend_path).get_user(user_id)
    )
    session_hash = session.get(auth.HASH_SESSION_KEY)
    if (
        user is not None
        and session_hash
        and constant_time_compare(session_hash, user.get_session_auth_hash())
    ):
        _remember_session(request, user)
        return user
    found = auth.get_user(request)
    if not isinstance(found, User):
        return None
    _session_users.discard(key)
    return _session_users.get_or_load(key, lambda: found)


class CachedSessionAuthentication(SessionAuthentication):
    """DRF's SessionAuthentication, CSRF check included, with the session's user found by
    ``user_for_session``."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        user = user_for_session(request._request)
        if user is None or not user.is_active:
            return None
        self.enforce_csrf(request)
        return user, None


class CachedSessionScheme(SessionScheme):  # type: ignore[no-untyped-call]
    """The OpenAPI schema names it as it names DRF's SessionAuthentication (cookieAuth)."""

    target_class = "passcode_portal.auth.CachedSessionAuthentication"
