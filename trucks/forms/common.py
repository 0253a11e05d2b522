"""What the pages' forms share: date-time and plate inputs, fields whose messages name them, a
person's fields, and ``apply_domain_errors``, which maps a service's DomainError fields back onto
the form that collected the input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.formsets import BaseFormSet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from passcode_portal.fieldtext import form_messages
from trucks import services, validators

# The browser's datetime-local control sends "2026-11-23T14:30"; the server reads it in the
# site's time zone (Asia/Shanghai), which is the zone drivers and checkpoints live in.
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
PROVINCE_CHOICES = [(c, c) for c in validators.PROVINCE_PREFIXES]
DEFAULT_PROVINCE = "豫"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_LOCAL)


def text_field(label: Any, noun: Any, max_length: int, **kwargs: Any) -> forms.CharField:
    """A text field whose messages name it (``noun``, as a sentence names it), with the same
    limit as the API's field for it (trucks.validators)."""
    return forms.CharField(
        label=label, max_length=max_length, error_messages=form_messages(noun), **kwargs
    )


def datetime_field(
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
    plate_rest = text_field(
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


class PersonForm(forms.Form):
    """One co-rider row. An untouched row is skipped (formset rows are optional)."""

    name = text_field(_("Name"), pgettext_lazy("person", "name"), validators.NAME_MAX_LENGTH)
    id_number = text_field(
        _("ID number"),
        _("ID number"),
        validators.ID_NUMBER_MAX_LENGTH,
        validators=[validators.validate_id_number],
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = text_field(
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


def apply_domain_errors(
    form: forms.Form,
    fields: Mapping[str, Any],
    *,
    renames: Mapping[str, str] | None = None,
    formset: BaseFormSet[Any] | None = None,
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
