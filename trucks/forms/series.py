"""The form that repeats a trip (the trip page's owner tools)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from passcode_portal.fieldtext import form_messages
from trucks.services import MAX_SERIES_DAYS

# ISO weekday numbers, as the service takes them.
WEEKDAY_CHOICES = [
    (1, _("Mon")),
    (2, _("Tue")),
    (3, _("Wed")),
    (4, _("Thu")),
    (5, _("Fri")),
    (6, _("Sat")),
    (7, _("Sun")),
]


class RepeatForm(forms.Form):
    days = forms.IntegerField(
        label=_("For how many days after this trip"),
        min_value=1,
        max_value=MAX_SERIES_DAYS,
        initial=5,
        error_messages=form_messages(_("number of days")),
        help_text=_(
            "Counted from the day after this trip's arrival, up to the registration horizon."
        ),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "input-short"}),
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Only on these weekdays"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        required=False,
        error_messages=form_messages(_("weekdays")),
        help_text=_("Tick none to repeat every day."),
        widget=forms.CheckboxSelectMultiple,
    )
