"""Input fields the scan and what follows it share, each with messages that name it."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from checkpoints.models import MAX_PERSONS
from passcode_portal.api import NamedCharField
from passcode_portal.fieldtext import api_messages
from trucks import validators


def observed_plate_field(**kwargs: Any) -> NamedCharField:
    return NamedCharField(
        label=gettext_lazy("plate read on the truck"),
        max_length=validators.PLATE_INPUT_MAX_LENGTH,
        **kwargs,
    )


def persons_counted_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=0,
        max_value=MAX_PERSONS,
        required=False,
        allow_null=True,
        error_messages=api_messages(gettext_lazy("number of persons counted")),
    )


def plate_mismatch_confirmed_field(help_text: str) -> serializers.BooleanField:
    return serializers.BooleanField(
        required=False,
        default=False,
        error_messages=api_messages(gettext_lazy("confirmation that the plates differ")),
        help_text=help_text,
    )
