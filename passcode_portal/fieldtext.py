"""Field messages that name the field, for the API's serializers and the pages' forms alike.

Django and DRF word their stock messages for any field ("This field is required.", "Ensure this
field has no more than 200 characters."): a driver reading "该字段不能为空" under a form, or a
tablet showing it after a failed request, cannot tell which field is meant. Each input field of
the project takes its messages from here, built from the field's label, so the message reads
"请填写车牌号码。" / "Enter the number plate." wherever it is shown.

Labels are lower-case noun phrases ("number plate", "driver's name") that fit inside a sentence
in English; the Chinese templates place them without articles.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


def _enter(label: str | Promise) -> Promise:
    return format_lazy(_("Enter the {field}."), field=label)


def api_messages(label: str | Promise) -> dict[str, Any]:
    """``error_messages`` for a DRF field. DRF fills ``{max_length}`` and ``{min_value}``-style
    placeholders itself (str.format), so they are written doubled here to survive the label's
    substitution."""
    return {
        "required": _enter(label),
        "blank": _enter(label),
        "null": _enter(label),
        "invalid": format_lazy(_("The {field} is not valid."), field=label),
        "max_length": format_lazy(
            _("The {field} can have at most {{max_length}} characters."), field=label
        ),
        "min_length": format_lazy(
            _("The {field} needs at least {{min_length}} characters."), field=label
        ),
        "max_value": format_lazy(_("The {field} can be at most {{max_value}}."), field=label),
        "min_value": format_lazy(_("The {field} must be at least {{min_value}}."), field=label),
        "max_string_length": format_lazy(_("The {field} is too long."), field=label),
        # A ChoiceField's; DRF would quote the input, which may be anything a client sent.
        "invalid_choice": format_lazy(_("The {field} is not one of the choices."), field=label),
    }


def form_messages(label: str | Promise) -> dict[str, Any]:
    """``error_messages`` for a Django form field. Django fills ``%(limit_value)d`` and
    ``%(show_value)d`` itself (the % operator) after this has put the label in."""
    return {
        "required": _enter(label),
        "invalid": format_lazy(_("The {field} is not valid."), field=label),
        "max_length": format_lazy(
            _("The {field} can have at most %(limit_value)d characters (it has %(show_value)d)."),
            field=label,
        ),
        "min_length": format_lazy(
            _("The {field} needs at least %(limit_value)d characters (it has %(show_value)d)."),
            field=label,
        ),
        "max_value": format_lazy(_("The {field} can be at most %(limit_value)s."), field=label),
        "min_value": format_lazy(_("The {field} must be at least %(limit_value)s."), field=label),
    }
