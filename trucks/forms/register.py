"""The form of the trip registration page: the trip, its travel history and its co-riders."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.forms.formsets import BaseFormSet
from django.utils.translation import gettext_lazy as _

from passcode_portal.fieldtext import form_messages
from trucks import selectors, services, validators
from trucks.forms.common import (
    PersonForm,
    PlateFields,
    datetime_field,
    text_field,
)
from trucks.models import CargoCategory, TestResult

_region_code = RegexValidator(
    r"^[1-9][0-9]{5}$",
    _("Enter a six-digit administrative region code (GB/T 2260), for example 410800."),
)


class RegionCodesWidget(forms.TextInput):
    """Travel history: one text input holding codes separated by commas (what a browser without
    JavaScript shows); the chip picker keeps it filled. Several inputs of the same name are also
    read, so a picker may submit one code per hidden input."""

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return super().format_value(value)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name, "")]
        return ", ".join(v for v in values if v)


def region_codes(text: str) -> list[str]:
    """Codes from a list typed with any of the separators people use, duplicates dropped."""
    return list(dict.fromkeys(c for c in re.split(r"[\s,，;；、]+", text) if c))


class RegionCodesField(forms.CharField):
    widget = RegionCodesWidget

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return region_codes(super().to_python(value) or "")

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")

    def run_validators(self, value: Any) -> None:
        for code in value:
            _region_code(code)


def _record_id(label: Any, noun: Any) -> forms.IntegerField:
    """One of the company's own records, chosen on the page (the dispatcher's search)."""
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=1,
        error_messages=form_messages(noun),
        widget=forms.HiddenInput(attrs={"data-record-id": ""}),
    )


def _record_chosen(form: forms.Form, name: str) -> bool:
    """A record was chosen on the page: its id field, as posted, is filled."""
    return form.is_bound and bool(str(form.data.get(form.add_prefix(name), "")).strip())


def _details_from_record(form: forms.Form, *names: str) -> None:
    """The ID number and phone shown for a chosen record are masked, as the API gives them: the
    registration takes the record's details, so what the page sends is neither checked nor
    read (fleet.trip_from_records)."""
    for name in names:
        form.fields[name].required = False
        form.fields[name].validators = []


def _errors_moved(form: forms.Form, moves: dict[str, str]) -> None:
    """A hidden record id's messages shown at the field the record fills."""
    for hidden, shown in moves.items():
        for message in form.errors.pop(hidden, []):
            form.add_error(shown, message)


class TripForm(PlateFields):
    # A dispatcher's vehicle and driver chosen from the company's records: the registration
    # then takes the plate and the driver's details from the records (fleet.trip_from_records).
    vehicle_id = _record_id(_("Chosen vehicle"), _("chosen vehicle"))
    driver_id = _record_id(_("Chosen driver"), _("chosen driver"))
    driver_name = text_field(_("Driver's name"), _("driver's name"), validators.NAME_MAX_LENGTH)
    driver_id_number = text_field(
        _("Driver's ID number"),
        _("driver's ID number"),
        validators.ID_NUMBER_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    driver_phone = text_field(
        _("Driver's mobile number"),
        _("driver's mobile number"),
        validators.PHONE_INPUT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    origin_region = text_field(
        _("Origin"),
        _("origin"),
        validators.REGION_CODE_LENGTH,
        validators=[_region_code],
        help_text=_("Province, city and county the trip starts from."),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "pattern": "[0-9]{6}", "placeholder": "320412"}
        ),
    )
    travel_history = RegionCodesField(
        label=_("Places visited in the last 14 days"),
        required=False,
        error_messages=form_messages(_("travel history")),
        help_text=_("Every city or county the driver and co-riders passed through."),
        widget=RegionCodesWidget(attrs={"placeholder": "320400, 410800"}),
    )
    destination_name = text_field(
        _("Destination"), _("destination"), validators.DESTINATION_MAX_LENGTH
    )
    destination_address = text_field(
        _("Destination address"), _("destination address"), validators.ADDRESS_MAX_LENGTH
    )
    consignee = forms.TypedChoiceField(
        label=_("Consignee"),
        required=False,
        error_messages=form_messages(_("consignee")),
        coerce=int,
        empty_value=None,
        help_text=_("The company receiving the goods, if it is listed."),
    )
    entry_checkpoint = forms.ChoiceField(
        label=_("Entry checkpoint"), error_messages=form_messages(_("entry checkpoint"))
    )
    planned_arrival = datetime_field(_("Planned arrival"), _("planned arrival"))
    planned_departure = datetime_field(_("Planned departure"), _("planned departure"))
    cargo_category = forms.ChoiceField(
        label=_("Cargo category"),
        choices=[("", "—"), *CargoCategory.choices],
        error_messages=form_messages(_("cargo category")),
    )
    cargo_description = text_field(
        _("Cargo description"), _("cargo description"), validators.CARGO_DESCRIPTION_MAX_LENGTH
    )
    test_result = forms.ChoiceField(
        label=_("Latest test result"),
        choices=TestResult.choices,
        initial=TestResult.NEGATIVE,
        widget=forms.RadioSelect,
        error_messages=form_messages(_("test result")),
    )
    test_sampled_at = datetime_field(
        _("Test sampled at"),
        _("sample time"),
        required=False,
        help_text=_("Needed for a negative or positive result."),
    )
    multi_entry = forms.BooleanField(
        label=_("Multi-entry pass (whitelisted companies)"), required=False
    )

    # The chosen records' ids are hidden: their messages are shown at the fields they fill.
    RECORD_FIELDS = {"vehicle_id": "plate_rest", "driver_id": "driver_name"}
    # Fields of the trip input that each form field answers for, where the names differ.
    DOMAIN_FIELDS = {
        **RECORD_FIELDS,
        "vehicle_plate": "plate_rest",
        "driver.name": "driver_name",
        "driver.id_number": "driver_id_number",
        "driver.phone": "driver_phone",
        "driver": "driver_name",
    }

    def __init__(self, *args: Any, driver_locked: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.driver_locked = driver_locked
        checkpoint_field = self.fields["entry_checkpoint"]
        assert isinstance(checkpoint_field, forms.ChoiceField)
        checkpoint_field.choices = [
            ("", "—"),
            *((c.code, c.name) for c in selectors.checkpoints_open()),
        ]
        consignee_field = self.fields["consignee"]
        assert isinstance(consignee_field, forms.ChoiceField)
        consignee_field.choices = [
            ("", _("Not listed")),
            *((c.pk, c.name) for c in selectors.consignees_list()),
        ]
        if driver_locked:
            # A driver registers their own trips: the fields show the profile and a disabled
            # field ignores whatever the browser sends, so nothing can be swapped in.
            for name in ("driver_name", "driver_id_number", "driver_phone", *self.RECORD_FIELDS):
                self.fields[name].disabled = True
        elif _record_chosen(self, "driver_id"):
            _details_from_record(self, "driver_id_number", "driver_phone")
        else:
            self.fields["driver_id_number"].validators.append(validators.validate_id_number)
            self.fields["driver_phone"].validators.append(validators.validate_phone)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        _errors_moved(self, self.RECORD_FIELDS)
        return cleaned

    def trip_data(self, co_riders: Sequence[CoRiderForm]) -> services.TripData:
        data = self.cleaned_data
        driver_id: int | None = data.get("driver_id")
        driver = None
        if not self.driver_locked and driver_id is None:
            driver = services.PersonData(
                name=data["driver_name"],
                id_number=data["driver_id_number"],
                phone=data["driver_phone"],
            )
        sampled_at: datetime | None = data.get("test_sampled_at")
        return services.TripData(
            vehicle_plate=self.plate(),
            driver=driver,
            origin_region=data["origin_region"],
            travel_history=data.get("travel_history") or [],
            destination_name=data["destination_name"],
            destination_address=data["destination_address"],
            consignee=data.get("consignee"),
            entry_checkpoint=data["entry_checkpoint"],
            planned_arrival=data["planned_arrival"],
            planned_departure=data["planned_departure"],
            cargo_category=data["cargo_category"],
            cargo_description=data["cargo_description"],
            test_result=data["test_result"],
            test_sampled_at=sampled_at,
            co_riders=[row.person() for row in co_riders],
            multi_entry=bool(data.get("multi_entry")),
            vehicle_id=data.get("vehicle_id"),
            driver_id=driver_id,
            co_rider_ids=[row.cleaned_data.get("driver_id") for row in co_riders],
        )


class CoRiderForm(PersonForm):
    """A co-rider row; a dispatcher may choose one of the company's drivers for it instead of
    typing the person (``records``: the page offers them)."""

    driver_id = _record_id(_("Chosen person"), _("chosen person"))

    def __init__(self, *args: Any, records: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not records:
            self.fields["driver_id"].disabled = True
        elif _record_chosen(self, "driver_id"):
            _details_from_record(self, "id_number", "phone")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _errors_moved(self, {"driver_id": "name"})
        return cleaned


class BaseCoRiderFormSet(BaseFormSet):  # type: ignore[type-arg]
    def filled_forms(self) -> list[tuple[int, CoRiderForm]]:
        """(row index, form) of the rows the user filled in, in order: the service numbers
        co-riders by their place in this list."""
        return [(i, form) for i, form in enumerate(self.forms) if form.has_changed()]


# formset_factory is typed as returning a plain BaseFormSet class; it returns a subclass of the
# formset given.
CoRiderFormSet = cast(
    "type[BaseCoRiderFormSet]",
    forms.formset_factory(
        CoRiderForm,
        formset=BaseCoRiderFormSet,
        extra=1,
        max_num=services.MAX_CO_RIDERS,
        validate_max=True,
        absolute_max=services.MAX_CO_RIDERS,
    ),
)
