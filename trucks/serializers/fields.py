"""Field helpers the registration API's serializers share: times within sane years, texts whose
messages name the field, and list bounds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from passcode_portal.api import NamedCharField
from passcode_portal.fieldtext import api_messages

# Times outside these years are typing mistakes. Refusing them here keeps the services' date
# arithmetic (pass windows, test age) from overflowing, and the token's minute counter, which
# starts in 1970, covers every time in between.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)

# Upper bounds on list input, generous above the services' own limits (4 co-riders, 30 regions)
# so that the services give the precise message while a huge list is refused before any work.
MAX_PEOPLE = 20
MAX_CODES = 100


class TimeField(serializers.DateTimeField):
    default_error_messages = {"out_of_range": _("Enter a time between the years 2000 and 2099.")}

    def to_internal_value(self, value: Any) -> datetime:
        result = super().to_internal_value(value)
        if not _EARLIEST <= result < _LATEST:
            self.fail("out_of_range")
        return result


def choices_help(choices: list[tuple[str, Any]]) -> str:
    return "One of: " + ", ".join(value for value, _label in choices) + "."


def text_field(label: Any, max_length: int, **kwargs: Any) -> serializers.CharField:
    """A text input whose messages name it (``NamedCharField``), with the same limit as the
    page's form field for it (trucks.validators)."""
    return NamedCharField(label=label, max_length=max_length, **kwargs)


def time_field(label: Any, **kwargs: Any) -> TimeField:
    messages = {
        **api_messages(label),
        "invalid": format_lazy(
            _("The {field} is not a time; send it as ISO 8601, e.g. 2026-11-23T14:30:00+08:00."),
            field=label,
        ),
        "out_of_range": format_lazy(
            _("The {field} must lie between the years 2000 and 2099."), field=label
        ),
    }
    return TimeField(error_messages=messages, **kwargs)
