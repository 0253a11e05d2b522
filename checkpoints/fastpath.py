"""The scan endpoint's fast route (passcode_portal.fastroutes): a token-authenticated JSON scan,
answered without Django's middleware and DRF's request cycle, which on this endpoint cost more
than the scan itself (docs/performance.md).

It answers exactly as ``checkpoints.apis.ScanApi`` does, with the same services, the same body
and the same errors, and declines (returns None) whenever a request is not the plain case:
session cookies, another content type, a body the quick check does not accept. ScanApi then
answers those in full, with DRF's precise validation messages.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from rest_framework import exceptions
from rest_framework.settings import api_settings

from checkpoints import selectors, services
from checkpoints.scan_bodies import scan_body, scan_input_fast
from passcode_portal.api import domain_error_body
from passcode_portal.auth import user_for_token
from passcode_portal.errors import DomainError
from passcode_portal.throttling import counter_allows

Answer = tuple[int, dict[str, str], bytes]
_PATH = re.compile(r"^/api/v1/checkpoints/(?P<code>[A-Z0-9][A-Z0-9-]{1,31})/scans/$")
_RATE = re.compile(r"^(\d+)/(s|sec|m|min|h|hour|d|day)")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _language(environ: dict[str, Any]) -> str:
    """The language the client asks for (Accept-Language), as LocaleMiddleware would pick it."""
    for code, _q in parse_accept_lang_header(environ.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return str(settings.LANGUAGE_CODE)


def _json(status: int, body: dict[str, Any], language: str) -> Answer:
    # Compact, and UTF-8 rather than \u escapes: as DRF's JSONRenderer writes it.
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "Content-Language": language,
        "Vary": "Accept-Language",
        "Allow": "GET, POST, HEAD, OPTIONS",
    }
    return status, headers, data


def _error(status: int, code: str, detail: str, language: str) -> Answer:
    return _json(status, {"code": code, "detail": detail}, language)


def scan(environ: dict[str, Any], body: bytes) -> Answer | None:
    match = _PATH.match(environ.get("PATH_INFO", ""))
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if (
        match is None
        or not authorization.startswith("Token ")
        or environ.get("CONTENT_TYPE", "").split(";")[0].strip() != "application/json"
        or environ.get("HTTP_COOKIE")  # a browser session: the full path checks it (CSRF too)
    ):
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # ScanApi words the parse error
        return None
    scan_input = scan_input_fast(data)
    if scan_input is None:
        return None
    language = _language(environ)
    with translation.override(language):
        user = user_for_token(authorization[6:].strip())
        if user is None:
            status, headers, data = _error(
                401,
                "authentication_failed",
                str(exceptions.AuthenticationFailed().detail),
                language,
            )
            headers["WWW-Authenticate"] = "Token"
            return status, headers, data
        try:
            checkpoint = selectors.checkpoint_by_code(match["code"])
            if not services.staff_may_scan(user=user, checkpoint=checkpoint):
                raise DomainError(
                    "not_assigned", _("You are not assigned to this checkpoint."), status=403
                )
            rate = _RATE.match(str(api_settings.DEFAULT_THROTTLE_RATES.get("scan") or ""))
            if rate is not None:
                allowed, wait = counter_allows(
                    scope="scan",
                    ident=user.pk,
                    limit=int(rate[1]),
                    seconds=_SECONDS[rate[2][0]],
                )
                if not allowed:
                    # DRF's own wording (and its translations), as the full path answers.
                    throttled = exceptions.Throttled(wait=wait)
                    status, headers, data = _error(
                        429, "throttled", str(throttled.detail), language
                    )
                    headers["Retry-After"] = str(int(wait) + 1)
                    return status, headers, data
            outcome = services.scan_perform(staff=user, checkpoint=checkpoint, data=scan_input)
        except DomainError as exc:
            return _json(exc.status, domain_error_body(exc), language)
        answer = scan_body(
            outcome.scan,
            pass_=outcome.pass_,
            trip=outcome.trip,
            persons_expected=outcome.persons_expected,
            replayed=outcome.replayed,
        )
        return _json(200 if outcome.replayed else 201, answer, language)
