"""The forms of the trip page's owner: a new test result, a corrected plate, a new driver."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from passcode_portal.fieldtext import form_messages
from trucks import services, validators
from trucks.forms.common import PlateFields, datetime_field, text_field
from trucks.models import Driver, TestResult


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


class DriverChangeForm(TestResultForm):
    """The trip's new driver: one of the company's drivers from the list, or a new one typed
    (found in or added to the company's records), with their own test result. The fields are
    checked by the service, as registration checks them, so the messages are the same."""

    DOMAIN_FIELDS = {
        "driver.name": "name",
        "driver.id_number": "id_number",
        "driver.phone": "phone",
        "driver": "name",
    }

    driver_id = forms.TypedChoiceField(
        label=_("Driver"),
        coerce=int,
        empty_value=None,
        required=False,
        error_messages=form_messages(_("driver")),
    )
    name = text_field(
        _("New driver's name"),
        pgettext_lazy("person", "name"),
        validators.NAME_MAX_LENGTH,
        required=False,
    )
    id_number = text_field(
        _("ID number"),
        _("ID number"),
        validators.ID_NUMBER_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = text_field(
        _("Mobile number"),
        _("mobile number"),
        validators.PHONE_INPUT_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )

    def __init__(self, *args: Any, drivers: Iterable[Driver] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["test_result"].label = _("The new driver's test result")
        # One or the other is needed, so neither is marked "optional".
        for name in ("driver_id", "name", "id_number", "phone"):
            self.fields[name].conditional = True  # type: ignore[attr-defined]
        field = self.fields["driver_id"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("A new driver, typed below"))] + [
            (d.pk, f"{d.name} · {validators.mask_id_number(d.id_number)}") for d in drivers
        ]

    def person(self) -> services.PersonData | None:
        """The driver typed, unless one was chosen from the list; None when neither (the service
        then asks for one)."""
        data = self.cleaned_data
        if data.get("driver_id") is not None or not any(
            data.get(name) for name in ("name", "id_number", "phone")
        ):
            return None
        return services.PersonData(
            name=data.get("name", ""),
            id_number=data.get("id_number", ""),
            phone=data.get("phone", ""),
        )
