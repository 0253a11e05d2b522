"""The texts of notifications: one template per code, an SMS text and an e-mail subject and body,
rendered in the recipient's language when the row is sent (not when it is queued), so a message
reads in the language the recipient chose and a fixed translation reaches rows still waiting.

A template's context is the outbox row's JSON: plain strings and numbers. Times are passed as ISO
strings (``datetime.isoformat()``) under the keys in ``TIME_KEYS`` and shown in the site's time
zone; ``colour`` is a pass colour code ("green") and is shown by its translated name. Every
message to a driver of a pass they hold ends with the signed link to the pass
(``trucks.links.pass_link_url``); the one telling a driver they no longer drive a trip has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from trucks.models import Colour

TIME_KEYS = frozenset({"valid_from", "valid_until", "arrival", "entered_at", "planned_departure"})
TIME_FORMAT = "Y-m-d H:i"


class MessageError(Exception):
    """The row cannot be rendered (unknown template, missing context): retrying will not help,
    so the sender fails the row at once with this text as its last error."""


@dataclass(frozen=True)
class Template:
    label: Promise  # what officials read in lists
    sms: Promise
    subject: Promise
    body: Promise


@dataclass(frozen=True)
class Rendered:
    sms: str
    subject: str
    body: str


TEMPLATES: dict[str, Template] = {
    # To the driver, when the trip is registered. [reference, plate, colour, link]
    "pass_issued": Template(
        label=_("Pass issued"),
        sms=_(
            "Trip %(reference)s, plate %(plate)s: your pass is issued. Colour: %(colour)s. "
            "Show it at the checkpoint: %(link)s"
        ),
        subject=_("Your pass for trip %(reference)s"),
        body=_(
            "Your pass for trip %(reference)s (plate %(plate)s) is issued.\n"
            "Colour: %(colour)s.\n\n"
            "Open the pass and show it at the checkpoint:\n%(link)s\n"
        ),
    ),
    # To the driver, once for a repeated trip (not once per trip). The link to each pass comes
    # with the window reminder (``notifications.reminders``); the first pass's link is here.
    # [count, reference (the first trip's), plate, first_date, last_date, link]
    "series_registered": Template(
        label=_("Repeated trips registered"),
        sms=_(
            "Plate %(plate)s: %(count)s trips registered, from %(first_date)s (trip "
            "%(reference)s) to %(last_date)s, each with its own pass. The link to each pass is "
            "sent before its window opens. The first pass: %(link)s"
        ),
        subject=_("%(count)s trips registered for plate %(plate)s"),
        body=_(
            "%(count)s trips are registered for plate %(plate)s, from %(first_date)s (trip "
            "%(reference)s) to %(last_date)s. Each trip has its own pass.\n\n"
            "The link to each pass is sent to you before its window opens. The first pass:\n"
            "%(link)s\n"
        ),
    ),
    # To the driver, once when a series is cancelled.
    # [count, reference (the first trip's), plate, first_date, last_date]
    "series_cancelled": Template(
        label=_("Repeated trips cancelled"),
        sms=_(
            "Plate %(plate)s: %(count)s trips from %(first_date)s (trip %(reference)s) to "
            "%(last_date)s are cancelled and their passes revoked. Do not set off with them."
        ),
        subject=_("%(count)s trips cancelled for plate %(plate)s"),
        body=_(
            "%(count)s trips for plate %(plate)s, from %(first_date)s (trip %(reference)s) to "
            "%(last_date)s, are cancelled. Their passes are revoked and cannot be used at any "
            "checkpoint.\n"
        ),
    ),
    # To the new driver, when a dispatcher made them the trip's driver: the new pass, graded for
    # their test. [reference, plate, colour, valid_from, link]
    "driver_assigned": Template(
        label=_("Made the driver of a trip"),
        sms=_(
            "Trip %(reference)s, plate %(plate)s: you are now its driver. Your pass is issued, "
            "colour %(colour)s, valid from %(valid_from)s. Show it at the checkpoint: %(link)s"
        ),
        subject=_("You are the driver of trip %(reference)s"),
        body=_(
            "Your company has made you the driver of trip %(reference)s (plate %(plate)s).\n"
            "Your pass is issued. Colour: %(colour)s. Valid from %(valid_from)s.\n\n"
            "Open the pass and show it at the checkpoint:\n%(link)s\n"
        ),
    ),
    # To the trip's driver before, when a dispatcher gave the trip to another driver. No link:
    # the pass they were sent is revoked. [reference, plate, arrival]
    "driver_released": Template(
        label=_("No longer the driver of a trip"),
        sms=_(
            "Trip %(reference)s, plate %(plate)s, arriving %(arrival)s: your company has given "
            "it to another driver. The pass you were sent no longer works; do not use it."
        ),
        subject=_("You are no longer the driver of trip %(reference)s"),
        body=_(
            "Your company has given trip %(reference)s (plate %(plate)s, planned arrival "
            "%(arrival)s) to another driver.\n\n"
            "The pass you were sent for it is revoked and will be refused at the checkpoint. "
            "Ask your company if this is a mistake.\n"
        ),
    ),
    # To the driver, when a risk level or the policy changed the colour.
    # [reference, plate, colour, reasons (translated, joined), link]
    "pass_regraded": Template(
        label=_("Pass colour changed"),
        sms=_(
            "Trip %(reference)s, plate %(plate)s: your pass is now %(colour)s. %(reasons)s "
            "See your pass: %(link)s"
        ),
        subject=_("Your pass for trip %(reference)s is now %(colour)s"),
        body=_(
            "The colour of your pass for trip %(reference)s (plate %(plate)s) has changed.\n"
            "Colour now: %(colour)s.\n"
            "Why: %(reasons)s\n\n"
            "Open the pass to see what to do:\n%(link)s\n"
        ),
    ),
    # To the driver, before the pass window opens. [reference, plate, valid_from, checkpoint, link]
    "remind_window": Template(
        label=_("Reminder: window opens"),
        sms=_(
            "Trip %(reference)s, plate %(plate)s: your pass is valid from %(valid_from)s at "
            "checkpoint %(checkpoint)s. Your pass: %(link)s"
        ),
        subject=_("Reminder: trip %(reference)s starts soon"),
        body=_(
            "Your pass for trip %(reference)s (plate %(plate)s) is valid from %(valid_from)s.\n"
            "Enter through checkpoint %(checkpoint)s and show the pass there:\n%(link)s\n"
        ),
    ),
    # To the driver, when the test result will be stale at the planned arrival.
    # [reference, plate, arrival, hours, link]
    "remind_test": Template(
        label=_("Reminder: test result stale"),
        sms=_(
            "Trip %(reference)s, plate %(plate)s: your test result will be more than %(hours)s "
            "hours old at your arrival (%(arrival)s). Upload a new negative result, or you will "
            "be tested at the checkpoint: %(link)s"
        ),
        subject=_("Trip %(reference)s: upload a new test result"),
        body=_(
            "Your test result for trip %(reference)s (plate %(plate)s) will be more than "
            "%(hours)s hours old when you arrive at %(arrival)s.\n\n"
            "Upload a new negative result on your pass page; the pass is regraded at once. "
            "Without one you will be tested at the checkpoint.\n%(link)s\n"
        ),
    ),
    # To the driver, while inside, before the pass expires. [reference, plate, valid_until, link]
    "remind_expiry": Template(
        label=_("Reminder: pass expires"),
        sms=_(
            "Trip %(reference)s, plate %(plate)s: your pass expires at %(valid_until)s. Leave "
            "the city before then or register a new trip. Your pass: %(link)s"
        ),
        subject=_("Trip %(reference)s: your pass expires soon"),
        body=_(
            "Your pass for trip %(reference)s (plate %(plate)s) expires at %(valid_until)s.\n"
            "Leave the city before then, or register a new trip.\n\n%(link)s\n"
        ),
    ),
    # To the company and the consignee: entered but arrival not confirmed in time.
    # [reference, plate, entered_at, consignee]
    "overdue_arrival": Template(
        label=_("Overdue: arrival not confirmed"),
        sms=_(
            "Trip %(reference)s, plate %(plate)s entered the city at %(entered_at)s, but its "
            "arrival at %(consignee)s has not been confirmed. Please check on the truck."
        ),
        subject=_("Trip %(reference)s: arrival not confirmed"),
        body=_(
            "The truck %(plate)s on trip %(reference)s entered the city at %(entered_at)s, but "
            "its arrival at %(consignee)s has not been confirmed in time.\n\n"
            "Please check on the truck. The consignee confirms the arrival on the portal; "
            "officials have been alerted.\n"
        ),
    ),
    # To the company: arrived but not left after the planned departure and its grace.
    # [reference, plate, planned_departure]
    "overdue_exit": Template(
        label=_("Overdue: not exited"),
        sms=_(
            "Trip %(reference)s, plate %(plate)s has not left the city after its planned "
            "departure at %(planned_departure)s. Please check on the truck."
        ),
        subject=_("Trip %(reference)s: truck has not left the city"),
        body=_(
            "The truck %(plate)s on trip %(reference)s was planned to leave the city at "
            "%(planned_departure)s and has not passed an exit checkpoint since.\n\n"
            "Please check on the truck; officials have been alerted.\n"
        ),
    ),
}


def _display(key: str, value: Any) -> Any:
    """A context value as the recipient reads it (called inside the language override)."""
    if key in TIME_KEYS and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return date_format(moment, TIME_FORMAT)
    if key == "colour" and value in Colour.values:
        return str(Colour(value).label)
    return value


def template_label(template: str) -> str:
    entry = TEMPLATES.get(template)
    return str(entry.label) if entry is not None else template


def render(template: str, context: Mapping[str, Any], language: str) -> Rendered:
    """The texts of ``template`` in ``language``; MessageError if it cannot be rendered."""
    entry = TEMPLATES.get(template)
    if entry is None:
        raise MessageError(f"unknown template {template!r}")
    with translation.override(language):
        values = {key: _display(key, value) for key, value in context.items()}
        try:
            return Rendered(
                sms=str(entry.sms) % values,
                subject=str(entry.subject) % values,
                body=str(entry.body) % values,
            )
        except KeyError as error:
            raise MessageError(
                f"template {template!r} needs {error.args[0]!r} in its context"
            ) from error
        except (TypeError, ValueError) as error:
            raise MessageError(f"template {template!r} cannot be rendered: {error}") from error
