"""Sign-in lock-outs (django-axes): how failures are counted, and the answer while locked out.

Two limits, for the sign-in page, the admin and the API token endpoint alike:

- AXES_FAILURE_LIMIT failures of one user name from one address lock that pair out: someone
  guessing one account's password.
- AXES_IP_FAILURE_LIMIT failures from one address, whatever the user names, lock the address
  out: someone trying one or two common passwords on many accounts (password spraying), which
  the per-pair limit never stops. It is set well above what a depot or an office behind one
  NAT address fails in normal use: accounts sign in once per device and stay signed in, so
  a few dozen failures within the cool-off period are an attack, not drivers mistyping.

Axes itself compares one limit with the largest count among its AXES_LOCKOUT_PARAMETERS, and a
successful sign-in resets the counts of every one of them; with the address among them, an
attacker who signs in to an account of their own now and then would wipe the address's count.
So axes keeps counting per (user name, address), its success resets only that, and this
handler reads the per-address count from the same rows.
"""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class LockoutHandler(AxesDatabaseHandler):
    def _failures(self, request: HttpRequest, **match: Any) -> int:
        recent = AccessAttempt.objects.filter(
            attempt_time__gte=get_cool_off_threshold(request), **match
        )
        total = recent.aggregate(total=Sum("failures_since_start"))["total"]
        return int(total or 0)

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """The failures axes compares with AXES_FAILURE_LIMIT: the pair's own, or the limit
        itself once the address has reached AXES_IP_FAILURE_LIMIT."""
        address = request.axes_ip_address  # type: ignore[attr-defined]
        username = get_client_username(request, credentials)
        pair = self._failures(request, username=username, ip_address=address)
        if self._failures(request, ip_address=address) >= settings.AXES_IP_FAILURE_LIMIT:
            return max(pair, int(get_failure_limit(request, credentials)))
        return pair


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """The answer to a sign-in attempt while its user name and address, or its address, are
    locked out."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed sign-in attempts. Please wait %(minutes)d minutes and try again."
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "locked_out", "detail": message}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)
