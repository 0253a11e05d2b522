"""The scan's body and answer (``POST /api/v1/checkpoints/{code}/scans/``), with the verdict a
tablet reached offline. The hot path checks the body and builds the answer by hand
(``checkpoints.scan_bodies``): these document both and word the body's errors."""

from __future__ import annotations

from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from checkpoints import services, verification
from checkpoints.models import Direction, Reason, Verdict, Warning
from checkpoints.serializers.fields import (
    observed_plate_field,
    persons_counted_field,
    plate_mismatch_confirmed_field,
)
from passcode_portal.api import NamedCharField
from passcode_portal.fieldtext import api_messages
from trucks.serializers import TimeField

# A tablet's clock measured against the server's: a week off is a clock never set, not one that
# drifted; beyond that the offset is a mistake.
MAX_CLOCK_OFFSET_MS = 7 * 24 * 3600 * 1000


def _messages_of_list(label: Any) -> dict[str, Any]:
    return {
        **api_messages(label),
        "not_a_list": format_lazy(gettext_lazy("The {field} is not valid."), field=label),
        "max_length": format_lazy(gettext_lazy("The {field} is not valid."), field=label),
    }


class OfflineInputSerializer(serializers.Serializer[Any]):
    """What the tablet decided without a connection (docs/architecture.md, "Offline")."""

    verdict = serializers.ChoiceField(
        choices=Verdict.choices,
        error_messages=api_messages(gettext_lazy("verdict")),
        help_text="The verdict the tablet gave.",
    )
    reason = serializers.ChoiceField(
        choices=Reason.choices,
        error_messages=api_messages(gettext_lazy("reason")),
        help_text="The reason the tablet gave: one the verdict can have in this direction.",
    )
    warnings = serializers.ListField(
        child=serializers.ChoiceField(
            choices=Warning.choices, error_messages=api_messages(gettext_lazy("warning"))
        ),
        required=False,
        default=list,
        max_length=len(Warning.choices),
        error_messages=_messages_of_list(gettext_lazy("list of warnings")),
        help_text="The warnings the tablet gave.",
    )
    clock_offset_ms = serializers.IntegerField(
        min_value=-MAX_CLOCK_OFFSET_MS,
        max_value=MAX_CLOCK_OFFSET_MS,
        required=False,
        allow_null=True,
        error_messages=api_messages(gettext_lazy("device clock offset")),
        help_text=(
            "The server's clock minus the device's, in milliseconds, as the tablet measured it "
            "against server_time_ms at its last sync: the scan happened at scanned_at plus this."
        ),
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
    plate = observed_plate_field(
        required=False,
        allow_blank=True,
        help_text="The plate staff read on the truck, if entered: it must match the pass.",
    )
    persons = persons_counted_field()
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
    plate_mismatch_confirmed = plate_mismatch_confirmed_field(
        "True when staff checked again that the plate entered differs from the registered "
        "one: only then is the scan refused as plate_mismatch. Without it a differing plate "
        "is not recorded (409, code plate_mismatch_unconfirmed, with both plates)."
    )
    offline = OfflineInputSerializer(
        required=False,
        allow_null=True,
        error_messages=api_messages(gettext_lazy("offline verdict")),
        help_text=(
            "The tablet's own verdict of a scan it made without a connection, sent once it is "
            "back online, with scan_id and scanned_at. The scan is recorded as the tablet "
            "decided it, at the time it happened; what it did at the gate follows (an admitted "
            "entry puts the trip inside, an exit closes it), and an admission the server would "
            "have refused at that time raises an offline_conflict alert (see conflicts)."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        offline = attrs.get("offline")
        if offline is None:
            return attrs
        errors: dict[str, Any] = {}
        # Sent again, an offline scan must be recognised as the same one; and its time is what
        # it is judged at.
        for name in ("scan_id", "scanned_at"):
            if attrs.get(name) is None:
                errors[name] = [self.fields[name].error_messages["required"]]
        outcome = (attrs["direction"], offline["verdict"], offline["reason"])
        if outcome not in verification.OUTCOMES:
            errors["offline"] = {
                "reason": [
                    _(
                        "The reason %(reason)s is not one the verdict %(verdict)s can have for "
                        "this direction."
                    )
                    % {"reason": offline["reason"], "verdict": offline["verdict"]}
                ]
            }
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_scan_input(self) -> services.ScanInput:
        d = self.validated_data
        offline = d.get("offline")
        return services.ScanInput(
            token=d["token"],
            direction=d["direction"],
            plate=d.get("plate") or "",
            persons=d.get("persons"),
            scan_id=d.get("scan_id"),
            scanned_at=d.get("scanned_at"),
            plate_mismatch_confirmed=d.get("plate_mismatch_confirmed", False),
            offline=services.OfflineVerdict(
                verdict=offline["verdict"],
                reason=offline["reason"],
                warnings=tuple(dict.fromkeys(offline.get("warnings", []))),
                clock_offset_ms=offline.get("clock_offset_ms"),
            )
            if offline is not None
            else None,
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
    offline = serializers.BooleanField(
        help_text="True when the tablet decided this scan offline and sent it later."
    )
    conflicts = serializers.ListField(
        # The reason codes alone: an enum of its own, not a second name for the reasons'.
        child=serializers.ChoiceField(choices=Reason.values),
        help_text=(
            "For a scan decided offline: the server's reason, when it would have refused an "
            "admission at the time the scan happened (an offline_conflict alert is raised). "
            "Empty otherwise, and for every online scan."
        ),
    )
    # ``pass`` is a Python keyword; the field is declared below under its API name.
    trip = ScanTripSerializer(allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["pass"] = ScanPassSerializer(allow_null=True)
        return fields
