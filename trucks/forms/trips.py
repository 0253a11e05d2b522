"""The forms of the trip page's owner: a new test result and a corrected plate."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from passcode_portal.fieldtext import form_messages
from trucks.forms.common import PlateFields, datetime_field
from trucks.models import TestResult


class TestResultForm(forms.Form):
    test_result = forms.ChoiceField(
        label=_("New test result"),
        choices=TestResult.choices,
        initial=TestResult.NEGATIVE,
        widget=forms.RadioSelect,
        error_messages=form_messages(_("test result")),
    )
    test_sampled_at = datetime_field(
        _("Sampled at"),
        _("sample time"),
        required=False,
        help_text=_("Needed for a negative or positive result."),
    )


class PlateForm(PlateFields):
    DOMAIN_FIELDS = {"vehicle_plate": "plate_rest"}
