"""The checkpoint list, and what staff send and see besides the scan: confirming plate and
persons, landing tests, overrides, plate-first lookup and walk-ins."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from checkpoints.models import MAX_PERSONS, Direction, Reason, WalkIn
from checkpoints.selectors import CLOSED_REASONS
from checkpoints.serializers.fields import (
    observed_plate_field,
    persons_counted_field,
    plate_mismatch_confirmed_field,
)
from checkpoints.serializers.scans import ScanPassSerializer, ScanTripSerializer
from passcode_portal.api import NamedCharField
from passcode_portal.fieldtext import api_messages
from places.models import Checkpoint
from trucks import validators
from trucks.validators import mask_phone


class CheckpointOutputSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Checkpoint.Kind.choices)
    kind_display = serializers.CharField(source="get_kind_display")
    region = serializers.CharField(source="region_id", help_text="Region code (GB/T 2260).")


class ConfirmInputSerializer(serializers.Serializer[Any]):
    plate = observed_plate_field()
    persons = persons_counted_field()
    plate_mismatch_confirmed = plate_mismatch_confirmed_field(
        "True when staff checked again that the plate differs from the registered one. "
        "Without it a differing plate changes nothing (409, code plate_mismatch_unconfirmed, "
        "with both plates)."
    )


class LandingResultInputSerializer(serializers.Serializer[Any]):
    result = serializers.ChoiceField(choices=[("negative", "negative"), ("positive", "positive")])


_OVERRIDE_REASON = gettext_lazy("reason for admitting the vehicle")


class OverrideInputSerializer(serializers.Serializer[Any]):
    reason = NamedCharField(label=_OVERRIDE_REASON, max_length=500)


class LookupPassSerializer(serializers.Serializer[Any]):
    token = serializers.CharField()
    checkable = serializers.BooleanField(
        help_text=(
            "Whether scanning the pass would still verify anything (in the given direction, "
            "else in either): false for a pass used up, revoked, expired or of a cancelled trip."
        )
    )
    closed_reason = serializers.ChoiceField(
        choices=[(code, label) for code, label in Reason.choices if code in CLOSED_REASONS],
        allow_null=True,
        help_text="When not checkable, the reason a scan would give (used, revoked, ...).",
    )
    # ``pass`` and ``trip`` as in a scan answer.
    trip = ScanTripSerializer()

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["pass"] = ScanPassSerializer()
        return fields


class WalkInInputSerializer(serializers.Serializer[Any]):
    plate = NamedCharField(
        label=gettext_lazy("number plate"), max_length=validators.PLATE_INPUT_MAX_LENGTH
    )
    outcome = serializers.ChoiceField(
        choices=WalkIn.Outcome.choices, error_messages=api_messages(gettext_lazy("outcome"))
    )
    driver_name = NamedCharField(
        label=gettext_lazy("driver's name"),
        max_length=validators.NAME_MAX_LENGTH,
        required=False,
        allow_blank=True,
    )
    phone = NamedCharField(
        label=gettext_lazy("driver's phone"),
        max_length=validators.PHONE_INPUT_MAX_LENGTH,
        required=False,
        allow_blank=True,
    )
    persons = serializers.IntegerField(
        min_value=1,
        max_value=MAX_PERSONS,
        required=False,
        error_messages=api_messages(gettext_lazy("number of persons")),
    )
    note = NamedCharField(
        label=gettext_lazy("note"), max_length=500, required=False, allow_blank=True
    )
    direction = serializers.ChoiceField(
        choices=Direction.choices,
        required=False,
        error_messages=api_messages(gettext_lazy("direction")),
    )
    scan_id = serializers.UUIDField(
        required=False, allow_null=True, error_messages=api_messages(gettext_lazy("client scan id"))
    )


class WalkInOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    plate = serializers.CharField()
    driver_name = serializers.CharField()
    # Staff typed the number and the record keeps it; an answer, which a replay may also give,
    # shows what the scan answer shows of a driver's identity: a masked form.
    phone = serializers.SerializerMethodField(help_text="Masked, as 139****5678.")
    persons = serializers.IntegerField()
    note = serializers.CharField()
    outcome = serializers.CharField()
    direction = serializers.CharField()
    recorded_at = serializers.DateTimeField()

    def get_phone(self, walk_in: WalkIn) -> str:
        return mask_phone(walk_in.phone)
