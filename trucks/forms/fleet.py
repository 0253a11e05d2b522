"""The forms of the company's vehicles and drivers pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from trucks import validators
from trucks.forms.common import PersonForm, text_field


class VehicleForm(forms.Form):
    plate = text_field(
        _("Number plate"),
        _("number plate"),
        validators.PLATE_INPUT_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "placeholder": "豫H12345"}
        ),
    )
    description = text_field(_("Description"), _("description"), 200, required=False)


class DriverForm(PersonForm):
    """A driver of the company: the same fields, limits and checks as a co-rider."""
