"""The pass as the trip page shows it, and as the signed link shows it without signing in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from trucks import links, qr, selectors, services
from trucks.models import Colour, Pass, PassStatus, Trip, TripStatus
from trucks.validators import mask_id_number

# The colour in words next to the colour itself: colour alone fails colour-blind drivers and
# black-and-white print-outs.
COLOUR_NAMES: dict[str, Promise] = {
    Colour.GREEN: gettext_lazy("Green code"),
    Colour.YELLOW: gettext_lazy("Yellow code"),
    Colour.RED: gettext_lazy("Red code"),
}
COLOUR_MEANINGS: dict[str, Promise] = {
    Colour.GREEN: gettext_lazy("Pass through the checkpoint."),
    Colour.YELLOW: gettext_lazy("You will be tested on arrival at the checkpoint."),
    Colour.RED: gettext_lazy("Entry is refused. See the reasons below."),
}


def pass_state(trip: Trip, pass_: Pass | None, now: datetime) -> str:
    """What the pass means now: "pending" (window not open), "valid", "expired" (window over,
    the sweep may not have marked it yet), or "void" (revoked, cancelled, used or missing)."""
    if pass_ is None or trip.status == TripStatus.CANCELLED:
        return "void"
    if pass_.status == PassStatus.EXPIRED:
        return "expired"
    if pass_.status != PassStatus.ACTIVE:
        return "void"
    if now >= pass_.valid_until:
        return "expired"
    if now < pass_.valid_from:
        return "pending"
    return "valid"


@dataclass(frozen=True)
class Unusable:
    """Why a pass cannot be used at a checkpoint now, and what to do, in the user's language."""

    label: str
    why: str
    action: str
    # A red code: valid as a code but refused entry (its reasons say what to do), as against a
    # void or expired pass.
    refused: bool = False


# Revocation reasons the services write as codes; an official's own words are shown as written.
# (A cancelled trip's pass is revoked too, but the trip's status says so first.)
_REVOKED_WHY: dict[str, Promise] = {
    Pass.REISSUED: gettext_lazy("A new pass replaced this one."),
    Pass.DRIVER_CHANGED: gettext_lazy(
        "The trip was given to another driver; this pass is no longer valid."
    ),
}


def _unusable(trip: Trip, pass_: Pass | None, state: str) -> Unusable | None:
    """Whether the pass reads as "do not show this at a checkpoint", and why: void (cancelled,
    revoked, used, none), expired, or red. A red pass is valid as a code but refused entry, so
    it must never look like a pass that lets the truck through."""
    if trip.status == TripStatus.CANCELLED:
        return Unusable(
            _("Cancelled"),
            _("The trip was cancelled."),
            _("Register a new trip if the truck still makes the journey."),
        )
    if pass_ is None:
        return Unusable(
            _("No pass"),
            _("No pass has been issued for this trip."),
            _("Ask your company or the traffic office."),
        )
    if state == "expired":
        return Unusable(
            _("Expired"),
            _("The pass window ended at %(time)s.")
            % {"time": date_format(timezone.localtime(pass_.valid_until), "Y-m-d H:i")},
            _("Register a new trip for the next journey."),
        )
    if pass_.status == PassStatus.COMPLETED:
        return Unusable(
            _("Used"),
            _("The truck has made its entry and exit with this pass."),
            _("Register a new trip for the next journey."),
        )
    if state == "void":
        why = _REVOKED_WHY.get(pass_.revoked_reason)
        return Unusable(
            _("Revoked"),
            str(why) if why is not None else pass_.revoked_reason or _("The pass was revoked."),
            _("Do not use it. Ask your company or the traffic office for a new pass."),
        )
    if pass_.colour == Colour.RED:
        return Unusable(
            _("Entry refused"),
            _("The pass is a red code: the truck will not be admitted."),
            _("See the reasons below and what to do about each."),
            refused=True,
        )
    return None


def duration_text(delta: timedelta) -> str:
    """A coarse, readable length of time: "2 d 3 h", "3 h 12 min", "12 min"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": mins}
    return _("%(m)d min") % {"m": mins}


def _countdown_text(state: str, pass_: Pass | None, now: datetime) -> str:
    """The time to the window's opening or end, for a pass that can be used; nothing for one
    that cannot (a countdown would suggest it is valid)."""
    if pass_ is None:
        return ""
    if state == "pending":
        return _("Opens in %(time)s") % {"time": duration_text(pass_.valid_from - now)}
    if state == "valid":
        return _("Valid for %(time)s") % {"time": duration_text(pass_.valid_until - now)}
    return ""


def pass_context(
    request: HttpRequest, trip: Trip, pass_: Pass | None, *, holds_code: bool
) -> dict[str, Any]:
    """What the pass page shows of a trip and its pass. ``holds_code``: whether the viewer may
    have the pass code itself (the trip's driver and company, officials, the holder of the
    signed link), not only the trip (a consignee)."""
    now = timezone.now()
    state = pass_state(trip, pass_, now)
    unusable = _unusable(trip, pass_, state)
    qr_markup = ""
    if pass_ is not None and unusable is None and holds_code:
        # Inline SVG: the image needs no second, authenticated request, so the signed link
        # works for drivers without an account, and the page prints as one document.
        qr_markup = qr.qr_svg(services.pass_token(pass_)).decode("utf-8")
    full_ids = selectors.can_see_full_id_numbers(request.user)

    def id_number(value: str) -> str:
        return value if full_ids else mask_id_number(value)

    return {
        "trip": trip,
        "pass": pass_,
        "state": state,
        "unusable": unusable,
        "refused": unusable is not None and unusable.refused,
        "holds_code": holds_code,
        "qr_svg": qr_markup,
        "colour_name": COLOUR_NAMES.get(pass_.colour, "") if pass_ else "",
        "colour_meaning": COLOUR_MEANINGS.get(pass_.colour, "") if pass_ else "",
        "explanations": selectors.pass_explanations(pass_) if pass_ else [],
        "driver_id_number": id_number(trip.driver.id_number),
        "co_riders": [
            {"name": person.name, "id_number": id_number(person.id_number)}
            for person in trip.co_riders.all()
        ],
        "countdown": _countdown_text(state, pass_, now) if unusable is None else "",
        "priority_lane": unusable is None and _priority_lane(trip, pass_, state, now),
        "multi_entry": unusable is None and pass_ is not None and trip.multi_entry,
        "is_owner": False,
    }


def _priority_lane(trip: Trip, pass_: Pass | None, state: str, now: datetime) -> bool:
    """Whether the truck takes the priority lane, as the scan answers it (the same function, so
    the page and the verdict agree): now, or for a pass whose window has not opened, at the
    planned arrival, when the truck will be scanned."""
    at = max(now, trip.planned_arrival) if state == "pending" else now
    return services.priority_lane_at(
        company_id=trip.company_id,
        plate=trip.vehicle.plate,
        cargo_category=trip.cargo_category,
        at=at,
    )


@never_cache
def pass_link(request: HttpRequest, token: str) -> HttpResponse:
    """The pass without signing in, through the signed link notifications carry."""
    pass_id = links.pass_id_from_link(token)
    pass_ = selectors.pass_for_link(pass_id=pass_id) if pass_id is not None else None
    if pass_ is None:
        response = render(request, "trucks/pass_link_invalid.html", status=404)
    else:
        trip = pass_.trip
        # Show the trip's pass as it is now: a regraded or reissued pass replaces this one. Not
        # once the driver changed: the link was the driver's before, who sees their own pass,
        # revoked, and nothing of the driver after.
        released = selectors.pass_released(pass_)
        current = released or selectors.current_pass(trip) or pass_
        context = pass_context(request, trip, current, holds_code=True)
        context["via_link"] = True
        context["released"] = released is not None
        response = render(request, "trucks/pass.html", context)
    # The token in the address opens the pass: keep it out of Referer headers (the origin
    # alone is sent, never the path) and out of indexes. Not "no-referrer": browsers then send
    # "Origin: null" with the page's own forms (the language switch), which CSRF refuses.
    response["Referrer-Policy"] = "strict-origin"
    response["X-Robots-Tag"] = "noindex"
    return response
