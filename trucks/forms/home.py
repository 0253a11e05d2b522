"""The filter of the trips listed on the home page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from trucks.models import TripStatus


class TripFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *TripStatus.choices]
    )
    date_from = forms.DateField(
        label=_("Arriving from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("Arriving until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
