"""Input and output serializers of the checkpoint API (``checkpoints.apis``). Each input field's
messages name it ("Enter the number plate."), so that each reads on its own where the tablet
shows it. The scan's own body and answer, on the hot path, are handled by hand instead
(``checkpoints.scan_bodies``); the serializers here document them and word their errors."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from checkpoints import services
from checkpoints.models import MAX_PERSONS, Direction, Reason, Verdict, WalkIn
from checkpoints.selectors import CLOSED_REASONS
from passcode_portal.api import NamedCharField
from passcode_portal.fieldtext import api_messages
from places.models import Checkpoint
from trucks import validators
from trucks.serializers import TimeField
from trucks.validators import mask_phone


class CheckpointOutputSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Checkpoint.Kind.choices)
    kind_display = serializers.CharField(source="get_kind_display")
    region = serializers.CharField(source="region_id", help_text="Region code (GB/T 2260).")


def _observed_plate(**kwargs: Any) -> NamedCharField:
    return NamedCharField(
        label=gettext_lazy("plate read on the truck"),
        max_length=validators.PLATE_INPUT_MAX_LENGTH,
        **kwargs,
    )


def _persons_counted() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=0,
        max_value=MAX_PERSONS,
        required=False,
        allow_null=True,
        error_messages=api_messages(gettext_lazy("number of persons counted")),
    )


def _plate_mismatch_confirmed(help_text: str) -> serializers.BooleanField:
    return serializers.BooleanField(
        required=False,
        default=False,
        error_messages=api_messages(gettext_lazy("confirmation that the plates differ")),
        help_text=help_text,
    )


class ScanInputSerializer(serializers.Serializer[Any]):
    token = NamedCharField(
        label=gettext_lazy("pass code"),
        max_length=2000,
        help_text="The text in the QR code, as scanned or typed.",
    )
    direction = serializers.ChoiceField(
        choices=Direction.choices, error_messages=api_messages(gettext_lazy("direction"))
    )
    plate = _observed_plate(
        required=False,
        allow_blank=True,
        help_text="The plate staff read on the truck, if entered: it must match the pass.",
    )
    persons = _persons_counted()
    scan_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        error_messages=api_messages(gettext_lazy("client scan id")),
        help_text="Client id of this scan: sending it again returns the recorded answer.",
    )
    scanned_at = TimeField(
        required=False,
        allow_null=True,
        error_messages=api_messages(gettext_lazy("scan time")),
        help_text="When the device scanned (offline sync).",
    )
    plate_mismatch_confirmed = _plate_mismatch_confirmed(
        "True when staff checked again that the plate entered differs from the registered "
        "one: only then is the scan refused as plate_mismatch. Without it a differing plate "
        "is not recorded (409, code plate_mismatch_unconfirmed, with both plates)."
    )

    def to_scan_input(self) -> services.ScanInput:
        d = self.validated_data
        return services.ScanInput(
            token=d["token"],
            direction=d["direction"],
            plate=d.get("plate") or "",
            persons=d.get("persons"),
            scan_id=d.get("scan_id"),
            scanned_at=d.get("scanned_at"),
            plate_mismatch_confirmed=d.get("plate_mismatch_confirmed", False),
        )


class ScanPassSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    colour = serializers.CharField()
    colour_reasons = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()


class ScanDriverSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    id_number = serializers.CharField(help_text="Masked.")


class ScanTripSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.CharField()
    plate = serializers.CharField()
    driver = ScanDriverSerializer()
    persons_expected = serializers.IntegerField()
    entry_checkpoint = serializers.CharField(
        help_text="Code of the checkpoint registered for entry."
    )
    multi_entry = serializers.BooleanField()
    cargo_category = serializers.CharField()


class ScanOverrideSerializer(serializers.Serializer[Any]):
    by = serializers.CharField(help_text="The supervisor's name.")
    at = serializers.DateTimeField()
    reason = serializers.CharField(help_text="Why the vehicle was admitted, as written.")


class EarlierRefusalSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="The earlier scan.")
    reason = serializers.ChoiceField(choices=Reason.choices)
    scanned_at = serializers.DateTimeField()


class ScanOutputSerializer(serializers.Serializer[Any]):
    """Documents the answer; the view builds it by hand (the hot path skips serializer work)."""

    id = serializers.IntegerField()
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    reason = serializers.ChoiceField(choices=Reason.choices)
    warnings = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField(help_text="The verdict in the user's language.")
    direction = serializers.CharField()
    scanned_at = serializers.DateTimeField()
    observed_plate = serializers.CharField(help_text="The plate staff entered, if any.")
    persons = serializers.IntegerField(allow_null=True, help_text="Persons staff counted.")
    replayed = serializers.BooleanField(help_text="True when this answers a repeated scan_id.")
    landing_test = serializers.CharField()
    overridden = serializers.BooleanField()
    override = ScanOverrideSerializer(
        allow_null=True,
        help_text=(
            "A supervisor's override of this refusal: the vehicle was admitted all the same. "
            "verdict and reason stay the scan's own."
        ),
    )
    earlier_refusal = EarlierRefusalSerializer(
        allow_null=True,
        help_text=(
            "The refusal of this pass at this checkpoint shortly before, which the "
            "refused_recently warning recalls."
        ),
    )
    confirmed = serializers.BooleanField()
    priority_lane = serializers.BooleanField(
        help_text=(
            "True when the trip's company has a whitelist entry with the priority lane in force "
            "at the scan's time that covers the truck's plate and cargo category: staff wave "
            "it to the priority lane. It changes neither verdict nor reason."
        )
    )
    # ``pass`` is a Python keyword; the field is declared below under its API name.
    trip = ScanTripSerializer(allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["pass"] = ScanPassSerializer(allow_null=True)
        return fields


class ConfirmInputSerializer(serializers.Serializer[Any]):
    plate = _observed_plate()
    persons = _persons_counted()
    plate_mismatch_confirmed = _plate_mismatch_confirmed(
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
