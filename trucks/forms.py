"""Forms of the pages. They parse and re-display input; the rules live in ``trucks.services``,
whose DomainError fields are mapped back onto these forms by ``apply_domain_errors``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.forms.formsets import BaseFormSet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from passcode_portal.fieldtext import form_messages
from trucks import selectors, services, validators
from trucks.models import CargoCategory, TestResult, TripStatus

# The browser's datetime-local control sends "2026-11-23T14:30"; the server reads it in the
# site's time zone (Asia/Shanghai), which is the zone drivers and checkpoints live in.
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
PROVINCE_CHOICES = [(c, c) for c in validators.PROVINCE_PREFIXES]
DEFAULT_PROVINCE = "豫"

_region_code = RegexValidator(
    r"^[1-9][0-9]{5}$",
    _("Enter a six-digit administrative region code (GB/T 2260), for example 410800."),
)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_LOCAL)


def _text_field(label: Any, noun: Any, max_length: int, **kwargs: Any) -> forms.CharField:
    """A text field whose messages name it (``noun``, as a sentence names it), with the same
    limit as the API's field for it (trucks.validators)."""
    return forms.CharField(
        label=label, max_length=max_length, error_messages=form_messages(noun), **kwargs
    )


def _datetime_field(
    label: Any, noun: Any, *, required: bool = True, help_text: Any = ""
) -> forms.DateTimeField:
    field = forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        error_messages=form_messages(noun),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=DateTimeLocalInput(),
    )
    # Not required by itself but by another answer (a sample time for a test result): the page
    # does not mark it "optional".
    field.conditional = not required and bool(help_text)  # type: ignore[attr-defined]
    return field


class PlateFields(forms.Form):
    """A number plate as a province-character picker plus the rest of the plate."""

    plate_prefix = forms.ChoiceField(
        label=_("Province"),
        choices=PROVINCE_CHOICES,
        initial=DEFAULT_PROVINCE,
        error_messages=form_messages(_("province of the plate")),
    )
    plate_rest = _text_field(
        _("Rest of the plate"),
        _("number plate"),
        validators.PLATE_INPUT_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={
                "autocapitalize": "characters",
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "H12345",
                "class": "plate-rest",
            }
        ),
    )

    def plate(self) -> str:
        """The plate as typed: a rest that already starts with a province character (people
        paste whole plates) is taken as the whole plate."""
        rest = validators.normalise_plate(self.cleaned_data.get("plate_rest", ""))
        if rest[:1] in validators.PROVINCE_PREFIXES:
            return rest
        return self.cleaned_data.get("plate_prefix", DEFAULT_PROVINCE) + rest

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "plate_rest" in cleaned and not self.has_error("plate_rest"):
            try:
                validators.validate_plate(self.plate())
            except ValidationError as exc:
                self.add_error("plate_rest", exc)
        return cleaned


def split_plate(plate: str) -> dict[str, str]:
    if plate[:1] in validators.PROVINCE_PREFIXES:
        return {"plate_prefix": plate[0], "plate_rest": plate[1:]}
    return {"plate_prefix": DEFAULT_PROVINCE, "plate_rest": plate}


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


class TripForm(PlateFields):
    driver_name = _text_field(_("Driver's name"), _("driver's name"), validators.NAME_MAX_LENGTH)
    driver_id_number = _text_field(
        _("Driver's ID number"),
        _("driver's ID number"),
        validators.ID_NUMBER_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    driver_phone = _text_field(
        _("Driver's mobile number"),
        _("driver's mobile number"),
        validators.PHONE_INPUT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    origin_region = _text_field(
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
    destination_name = _text_field(
        _("Destination"), _("destination"), validators.DESTINATION_MAX_LENGTH
    )
    destination_address = _text_field(
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
    planned_arrival = _datetime_field(_("Planned arrival"), _("planned arrival"))
    planned_departure = _datetime_field(_("Planned departure"), _("planned departure"))
    cargo_category = forms.ChoiceField(
        label=_("Cargo category"),
        choices=[("", "—"), *CargoCategory.choices],
        error_messages=form_messages(_("cargo category")),
    )
    cargo_description = _text_field(
        _("Cargo description"), _("cargo description"), validators.CARGO_DESCRIPTION_MAX_LENGTH
    )
    test_result = forms.ChoiceField(
        label=_("Latest test result"),
        choices=TestResult.choices,
        initial=TestResult.NEGATIVE,
        widget=forms.RadioSelect,
        error_messages=form_messages(_("test result")),
    )
    test_sampled_at = _datetime_field(
        _("Test sampled at"),
        _("sample time"),
        required=False,
        help_text=_("Needed for a negative or positive result."),
    )
    multi_entry = forms.BooleanField(
        label=_("Multi-entry pass (whitelisted companies)"), required=False
    )

    # Fields of the trip input that each form field answers for, where the names differ.
    DOMAIN_FIELDS = {
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
            for name in ("driver_name", "driver_id_number", "driver_phone"):
                self.fields[name].disabled = True
        else:
            self.fields["driver_id_number"].validators.append(validators.validate_id_number)
            self.fields["driver_phone"].validators.append(validators.validate_phone)

    def trip_data(self, co_riders: list[services.PersonData]) -> services.TripData:
        data = self.cleaned_data
        driver = None
        if not self.driver_locked:
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
            co_riders=co_riders,
            multi_entry=bool(data.get("multi_entry")),
        )


class PersonForm(forms.Form):
    """One co-rider row. An untouched row is skipped (formset rows are optional)."""

    name = _text_field(_("Name"), pgettext_lazy("person", "name"), validators.NAME_MAX_LENGTH)
    id_number = _text_field(
        _("ID number"),
        _("ID number"),
        validators.ID_NUMBER_MAX_LENGTH,
        validators=[validators.validate_id_number],
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = _text_field(
        _("Mobile number"),
        _("mobile number"),
        validators.PHONE_INPUT_MAX_LENGTH,
        validators=[validators.validate_phone],
        widget=forms.TextInput(attrs={"type": "tel"}),
    )

    def person(self) -> services.PersonData:
        return services.PersonData(
            name=self.cleaned_data["name"],
            id_number=self.cleaned_data["id_number"],
            phone=self.cleaned_data["phone"],
        )


class BaseCoRiderFormSet(BaseFormSet):  # type: ignore[type-arg]
    def filled_forms(self) -> list[tuple[int, PersonForm]]:
        """(row index, form) of the rows the user filled in, in order: the service numbers
        co-riders by their place in this list."""
        return [(i, form) for i, form in enumerate(self.forms) if form.has_changed()]


# formset_factory is typed as returning a plain BaseFormSet class; it returns a subclass of the
# formset given.
CoRiderFormSet = cast(
    "type[BaseCoRiderFormSet]",
    forms.formset_factory(
        PersonForm,
        formset=BaseCoRiderFormSet,
        extra=1,
        max_num=services.MAX_CO_RIDERS,
        validate_max=True,
        absolute_max=services.MAX_CO_RIDERS,
    ),
)


class TestResultForm(forms.Form):
    test_result = forms.ChoiceField(
        label=_("New test result"),
        choices=TestResult.choices,
        initial=TestResult.NEGATIVE,
        widget=forms.RadioSelect,
        error_messages=form_messages(_("test result")),
    )
    test_sampled_at = _datetime_field(
        _("Sampled at"),
        _("sample time"),
        required=False,
        help_text=_("Needed for a negative or positive result."),
    )


class PlateForm(PlateFields):
    DOMAIN_FIELDS = {"vehicle_plate": "plate_rest"}


class VehicleForm(forms.Form):
    plate = _text_field(
        _("Number plate"),
        _("number plate"),
        validators.PLATE_INPUT_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "placeholder": "豫H12345"}
        ),
    )
    description = _text_field(_("Description"), _("description"), 200, required=False)


class DriverForm(PersonForm):
    """A driver of the company: the same fields, limits and checks as a co-rider."""


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


def apply_domain_errors(
    form: forms.Form,
    fields: Mapping[str, Any],
    *,
    renames: Mapping[str, str] | None = None,
    formset: BaseCoRiderFormSet | None = None,
    formset_rows: list[int] | None = None,
) -> None:
    """Put a service's field messages onto the form that collected the input.

    ``fields`` is nested as the input is: ``{"driver": {"id_number": [...]}}``,
    ``{"co_riders": {"0": {"phone": [...]}}}``. ``formset_rows[i]`` is the formset row that
    became the i-th co-rider. A message for a field the form lacks goes to the form's top.
    """
    renames = renames or {}

    def put(target: forms.Form, name: str | None, messages: Any) -> None:
        for message in messages if isinstance(messages, list | tuple) else [messages]:
            if name is not None and name in target.fields:
                target.add_error(name, str(message))
            else:
                target.add_error(None, str(message))

    for key, value in fields.items():
        if key == "co_riders" and formset is not None:
            if isinstance(value, Mapping):
                for index, row_errors in value.items():
                    rows = formset_rows or []
                    row = rows[int(index)] if int(index) < len(rows) else None
                    if row is None:
                        put(form, None, [m for ms in row_errors.values() for m in ms])
                        continue
                    for name, messages in row_errors.items():
                        put(formset.forms[row], name, messages)
            else:
                formset.non_form_errors().extend(str(m) for m in value)
            continue
        if isinstance(value, Mapping):
            for sub, messages in value.items():
                put(form, renames.get(f"{key}.{sub}", f"{key}_{sub}"), messages)
            continue
        put(form, renames.get(key, key), value)
